//! The end of `haven demo` (issue 16 §5): sign-ins for every role of the
//! web app on the demo's own store (random passwords, second factors
//! enrolled, all written to `<data-dir>/demo-credentials.txt`, mode 0600),
//! the indicators output and the benchmark released by two demo reviewers
//! — signing in and reviewing like anyone — so the pages have figures,
//! then the server. Nothing here
//! runs on a store the demo did not make.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Result;
use haven_app::sign_in::{Channel, Request};
use haven_app::{Actor, App};
use haven_governance::outputs::Status;

use crate::cli::{Cli, DemoArgs};

const CREDENTIALS: &str = "demo-credentials.txt";

/// The web app's demo users beside `demo.analyst` (made by the analysis
/// step): (name, role, purpose they sign in for).
const WEB_USERS: [(&str, &str, Option<&str>); 5] = [
    ("demo.reviewer", "analyst", Some("commissioning")),
    ("demo.auditor", "auditor", None),
    ("demo.viewer", "viewer", None),
    ("demo.dscro", "dscro", None),
    ("demo.admin", "admin", None),
];

fn read_credentials(path: &Path) -> BTreeMap<String, String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split_once(' ').map(|(n, p)| (n.to_owned(), p.trim().to_owned())))
        .collect()
}

fn write_credentials(path: &Path, creds: &BTreeMap<String, String>) -> Result<()> {
    let text: String = creds.iter().map(|(n, p)| format!("{n} {p}\n")).collect();
    std::fs::write(path, text)?;
    std::fs::set_permissions(path, std::os::unix::fs::PermissionsExt::from_mode(0o600))?;
    Ok(())
}

fn random_password() -> Result<String> {
    let mut b = [0u8; 12];
    getrandom::fill(&mut b).map_err(|e| anyhow::anyhow!("no randomness for a password: {e}"))?;
    Ok(haven_store::hex(&b))
}

/// Signs `user` in at the host with their password and current code.
fn sign_in(app: &App, user: &str, password: &str, purpose: Option<&str>) -> Result<Actor> {
    let code = haven_governance::mfa::Mfa::open(app.data_dir())?.code_for(user, haven_governance::session::now())?;
    let req = Request {
        user,
        password,
        code: code.as_deref(),
        purpose,
        dsa: purpose.map(|_| "DSA-HAVEN-DEMO"),
        hours: 1,
        channel: Channel::Host,
    };
    Ok(Actor::Signed(app.sign_in(&req)?.0))
}

pub fn finish(cli: &Cli, a: &DemoArgs) -> Result<()> {
    if !crate::commands::is_demo_store(&cli.data_dir) {
        println!("This store is not one the demo made: no demo sign-ins are made here. Serve it with `haven serve`.");
        return Ok(());
    }
    let app = crate::governance::app(cli);
    let host = Actor::host();
    let path = cli.data_dir.join(CREDENTIALS);
    let mut creds = read_credentials(&path);
    let existing: Vec<String> = app.users()?.into_iter().map(|u| u.name).collect();
    for (name, role, _) in WEB_USERS {
        if !existing.iter().any(|u| u == name) {
            let password = random_password()?;
            app.add_user(&host, name, role, None, &password)?;
            creds.insert(name.to_owned(), password);
        }
    }
    write_credentials(&path, &creds)?;
    // Second factors are enrolled afresh on each run (secrets printed below).
    let mut rows = Vec::new();
    for user in app.users()?.into_iter().filter(|u| creds.contains_key(&u.name)) {
        let secret = app.enrol_mfa(&host, &user.name)?.secret_base32;
        // The analysis steps' own users: the analyst works for
        // commissioning, the finance validator for invoice validation.
        let own = if user.role == haven_governance::dsa::Role::Ceff { Some("invoice_validation") } else { Some("commissioning") };
        let purpose = WEB_USERS.iter().find(|(n, ..)| *n == user.name).map_or(own, |w| w.2);
        rows.push((user.name.clone(), user.role, purpose, creds[&user.name].clone(), secret));
    }
    release_demo_outputs(&app, &creds)?;
    println!();
    println!("Demo sign-ins (synthetic data only; also in {}):", path.display());
    println!("  {:<14} {:<8} {:<26} {:<26} TOTP secret (type into an authenticator app)", "user", "role", "password", "purpose (agreement DSA-HAVEN-DEMO)");
    for (name, role, purpose, password, secret) in &rows {
        println!("  {name:<14} {:<8} {password:<26} {:<26} {secret}", role.name(), purpose.unwrap_or("-"));
    }
    if a.no_serve {
        println!("Serve the web app with `haven serve --data-dir {}`.", cli.data_dir.display());
        return Ok(());
    }
    crate::serve::serve(cli, a.bind, None)
}

/// Releases the demo analyst's first held indicators output and benchmark,
/// each only if nothing of its kind is released yet, as two demo reviewers
/// (each signs in once — a one-time code works once — and approves;
/// audited), so the overview, indicator, inequality, benchmarking and
/// practice pages have figures.
fn release_demo_outputs(app: &App, creds: &BTreeMap<String, String>) -> Result<()> {
    let released = app.released()?;
    let outputs = app.outputs()?;
    let pending: Vec<_> = ["Indicators ", "Benchmark "]
        .into_iter()
        .filter(|kind| !released.iter().any(|o| o.title.starts_with(kind)))
        // The first of each kind the demo made: the whole zone's catalogue
        // and the benchmark (the ICB's own population waits for review).
        .filter_map(|kind| outputs.iter().find(|o| o.status == Status::Pending && o.author == "demo.analyst" && o.title.starts_with(kind)))
        .collect();
    if pending.is_empty() {
        return Ok(());
    }
    for (reviewer, purpose) in [("demo.reviewer", Some("commissioning")), ("demo.auditor", None)] {
        let Some(password) = creds.get(reviewer) else { return Ok(()) };
        let actor = sign_in(app, reviewer, password, purpose)?;
        for o in &pending {
            app.review(&actor, &o.id, true, "")?;
        }
    }
    for o in &pending {
        println!("Released {} ({}) as demo.reviewer and demo.auditor so the pages have figures.", o.id, o.title);
    }
    Ok(())
}
