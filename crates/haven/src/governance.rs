//! `haven users` and `haven audit`, and the audit trail of every command
//! that changes or reads governed data.

use std::path::Path;

use anyhow::{anyhow, bail, Context, Result};
use haven_governance::audit::{AuditLog, Checkpoint, Event};
use haven_governance::session::Session;
use haven_governance::users::Users;

use haven_governance::dsa::{Dsa, Purpose, Role};
use haven_governance::registry::{changes, sha256_hex, Agreement, Import, Registry};
use haven_model::Date;

use haven_governance::disclosure::{Policy, Rule};
use haven_governance::outputs::{Content, FileState, Outputs};
use haven_governance::retention::Run;

use crate::cli::{AuditCommand, Cli, DsaCommand, LoginArgs, OutputsCommand, RetentionArgs, RetentionCommand, UsersCommand};

/// The demo's synthetic agreement, built in so `haven demo` can import it
/// (audited, like any import) into a data directory from any folder.
pub const DEMO_DSA: (&str, &str) = ("DSA-HAVEN-DEMO.toml", include_str!("../../../dsa/DSA-HAVEN-DEMO.toml"));

/// Today's date (UTC).
pub fn today() -> Date {
    haven_app::today()
}

/// The application layer over this command's data directory and keys.
pub fn app(cli: &Cli) -> haven_app::App {
    haven_app::App::new(&cli.data_dir, crate::ingest::keys_dir(cli))
}

/// This command's actor: the verified session, else the host account.
pub fn app_actor() -> haven_app::Actor {
    session().cloned().map_or_else(haven_app::Actor::host, haven_app::Actor::Signed)
}

/// The latest intact version of agreement `id` in the data directory's
/// registry: the one source every check reads (never a file).
pub fn find_agreement(cli: &Cli, id: &str) -> Result<Agreement> {
    Ok(app(cli).agreement(id)?)
}

/// The terms of agreement `id` (see [`find_agreement`]).
pub fn find_dsa(cli: &Cli, id: &str) -> Result<Dsa> {
    Ok(find_agreement(cli, id)?.dsa)
}

/// Imports an agreement's text into the registry as the current actor,
/// auditing the outcome (new version, unchanged, or refused) with the text's
/// SHA-256.
/// The audit entry goes to `data_dir`'s log under the audit key in `keys`
/// (passed, not taken from the command line: a benchmark imports into its
/// own scratch store, keyed by its own keys).
pub fn import_dsa(data_dir: &Path, keys: &Path, file_name: &str, text: &str) -> Result<Import> {
    Ok(haven_app::App::new(data_dir, keys).import_dsa(&app_actor(), file_name, text)?)
}

/// The audit detail of a refused command: the reason, and for a refused
/// `dsa import` the SHA-256 of the text it tried to import.
pub fn refusal_detail(cli: &Cli, reason: &str) -> serde_json::Value {
    match &cli.command {
        crate::cli::Command::Dsa { what: DsaCommand::Import { file } } => {
            let sha256 = std::fs::read_to_string(file).map(|t| sha256_hex(&t)).unwrap_or_default();
            serde_json::json!({"reason": reason, "file": file, "sha256": sha256})
        }
        _ => serde_json::json!({"reason": reason}),
    }
}

fn state(d: &Dsa) -> &'static str {
    match d.in_force(today()) {
        Ok(()) => "in force",
        Err(_) if d.end < today() => "expired",
        Err(_) => "not started",
    }
}

pub fn dsa(cli: &Cli, what: &DsaCommand) -> Result<()> {
    match what {
        DsaCommand::Import { file } => {
            let text = std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
            let name = file.file_name().map_or_else(|| file.display().to_string(), |n| n.to_string_lossy().into_owned());
            match import_dsa(&cli.data_dir, &crate::ingest::keys_dir(cli), &name, &text)? {
                Import::New(a) => println!("imported {} version {} (sha256 {})", a.dsa.id, a.version.version, a.version.sha256),
                Import::Unchanged(a) => println!("{} version {} already has this text (sha256 {}); nothing changed", a.dsa.id, a.version.version, a.version.sha256),
            }
        }
        DsaCommand::List => {
            let all = Registry::open(&cli.data_dir)?.list()?;
            if cli.json {
                let v: Vec<_> = all
                    .iter()
                    .map(|a| {
                        let d = &a.dsa;
                        serde_json::json!({"id": d.id, "title": d.title, "controllers": d.controllers, "start": d.start.to_string(),
                            "end": d.end.to_string(), "in_force": d.in_force(today()).is_ok(), "version": a.version.version, "sha256": a.version.sha256})
                    })
                    .collect();
                println!("{}", serde_json::to_string_pretty(&v)?);
            } else {
                for a in &all {
                    let d = &a.dsa;
                    println!("{:<24} v{:<3} {} to {}  {:<12} {}", d.id, a.version.version, d.start, d.end, state(d), d.title);
                }
            }
        }
        DsaCommand::Show { id } => {
            let history = Registry::open(&cli.data_dir)?.history(id)?;
            let a = history.last().ok_or_else(|| anyhow!("no Data Sharing Agreement {id} has been imported (see `haven dsa list`)"))?;
            let d = &a.dsa;
            println!("{}  {}", d.id, d.title);
            println!("  controllers   {}", d.controllers.join(", "));
            println!("  period        {} to {} ({})", d.start, d.end, state(d));
            println!("  datasets      {}", d.datasets.join(", "));
            for t in &d.purposes {
                let roles: Vec<&str> = t.roles.iter().map(|r| r.name()).collect();
                println!(
                    "  purpose       {:<32} opt-out {:<3} roles {:<28} basis: {}",
                    t.purpose.name(),
                    if t.optout_applies { "yes" } else { "no" },
                    roles.join(","),
                    t.legal_basis
                );
            }
            for l in &d.linkages {
                println!("  linkage       {}: {}", l.purpose.name(), l.datasets.join(" + "));
            }
            println!("  minimisation  {}", if d.minimisation.is_empty() { "-".into() } else { d.minimisation.join(", ") });
            println!("  retention     {} years; sublicensing {}; territory {}", d.retention_years, if d.sublicensing { "yes" } else { "no" }, d.territory);
            println!("  source        {}", d.source);
            println!("  history");
            let mut previous: Option<&Dsa> = None;
            for v in &history {
                let what = match previous {
                    None => "first import".to_owned(),
                    Some(p) => {
                        let c = changes(p, &v.dsa);
                        if c.is_empty() { "no change to dates, purposes or opt-outs".to_owned() } else { c.join("; ") }
                    }
                };
                println!("    v{:<3} {}  by {:<16} sha256 {}  {what}", v.version.version, v.version.imported_at, v.version.imported_by, v.version.sha256);
                previous = Some(&v.dsa);
            }
        }
        DsaCommand::Check { id, on, purpose, role } => {
            let d = find_dsa(cli, id)?;
            let day = match on {
                Some(s) => Date::parse(s).map_err(|e| anyhow!("--on: {e}"))?,
                None => today(),
            };
            let result = match (purpose, role) {
                (Some(p), Some(r)) => {
                    let p: Purpose = p.parse()?;
                    let r: Role = r.parse()?;
                    d.check(day, p, r).map(|_| ())
                }
                _ => d.in_force(day),
            };
            let outcome = if result.is_ok() { "allowed" } else { "refused" };
            let detail = match &result {
                Ok(()) => serde_json::json!({"on": day.to_string(), "purpose": purpose, "role": role}),
                Err(e) => serde_json::json!({"on": day.to_string(), "purpose": purpose, "role": role, "reason": e.to_string()}),
            };
            audit(&cli.data_dir, event(role.as_deref().unwrap_or(""), purpose.as_deref().unwrap_or(""), id, "dsa.check", id, outcome, detail))?;
            result?;
            println!("{id}: allowed on {day}");
        }
    }
    Ok(())
}

/// The session this command runs in, once [`crate::access::authorize`]
/// has verified it.
static SESSION: std::sync::OnceLock<Option<Session>> = std::sync::OnceLock::new();

/// Records the verified session for [`actor`] and [`event`].
pub fn set_session(session: Option<Session>) {
    let _ = SESSION.set(session);
}

/// The verified session, if the command runs in one.
pub fn session() -> Option<&'static Session> {
    SESSION.get().and_then(Option::as_ref)
}

/// Who is running this command: the signed-in user; without a session (an
/// open or bootstrap command) the operating-system account, marked as such.
pub fn actor() -> String {
    app_actor().name()
}

/// The keys folder of this command, set once by `commands::run` before
/// anything is audited: the audit key lives there, beside the zone keys.
pub(crate) static KEYS_DIR: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();

/// Records the keys folder for [`audit`].
pub fn set_keys_dir(dir: std::path::PathBuf) {
    let _ = KEYS_DIR.set(dir);
}

/// The audit log of `data_dir`, keyed by the audit key in the keys folder.
pub fn audit_log(data_dir: &Path) -> Result<AuditLog> {
    let keys = KEYS_DIR.get().ok_or_else(|| anyhow!("the keys folder is not known: no audit entry can be written"))?;
    Ok(AuditLog::open(data_dir, keys)?)
}

/// Appends an event to the data directory's audit log.
pub fn audit(data_dir: &Path, event: Event) -> Result<()> {
    audit_log(data_dir)?.append(event)?;
    Ok(())
}

/// An audit event by the current actor, in the session's role, purpose and
/// agreement when there is one (the arguments say what the action is for
/// otherwise).
pub fn event(role: &str, purpose: &str, dsa: &str, action: &str, target: &str, outcome: &str, detail: serde_json::Value) -> Event {
    app_actor().event(role, purpose, dsa, action, target, outcome, detail)
}

/// The password from the first line of `file`, else `HAVEN_PASSWORD`.
fn read_password(file: Option<&Path>) -> Result<String> {
    match file {
        Some(f) => Ok(std::fs::read_to_string(f)
            .with_context(|| format!("reading {}", f.display()))?
            .lines()
            .next()
            .unwrap_or("")
            .to_owned()),
        None => std::env::var("HAVEN_PASSWORD").map_err(|_| anyhow!("give the password in --password-file FILE or HAVEN_PASSWORD")),
    }
}

/// `haven login`: checks the password and the agreement, then prints the
/// session token (alone on stdout, for `export HAVEN_SESSION=$(...)`).
pub fn login(cli: &Cli, a: &LoginArgs) -> Result<()> {
    let password = read_password(a.password_file.as_deref())?;
    let req = haven_app::sign_in::Request {
        user: &a.user,
        password: &password,
        code: a.code.as_deref(),
        purpose: a.purpose.as_deref(),
        dsa: a.dsa.as_deref(),
        hours: a.hours,
        channel: haven_app::sign_in::Channel::Host,
    };
    let result = app(cli).sign_in(&req);
    let (s, token) = result?;
    println!("{token}");
    eprintln!(
        "signed in as {} ({}{}) until {}; export HAVEN_SESSION=<the token above>",
        s.user,
        s.role,
        s.purpose.map(|p| format!(", {p} under {}", s.dsa.as_deref().unwrap_or("-"))).unwrap_or_default(),
        haven_store::format_timestamp(s.expires_at)
    );
    Ok(())
}

/// `haven logout`: revokes the presented token.
pub fn logout(cli: &Cli) -> Result<()> {
    let token = cli.session.as_deref().ok_or_else(|| anyhow!("no session to end: HAVEN_SESSION is not set"))?;
    app(cli).sign_out(token)?;
    println!("signed out");
    Ok(())
}

/// `haven whoami`.
pub fn whoami(cli: &Cli) -> Result<()> {
    match crate::access::session(cli)? {
        Some(s) if cli.json => println!("{}", serde_json::to_string_pretty(&s)?),
        Some(s) => println!(
            "{} as {}{}{}, until {}",
            s.user,
            s.role,
            s.purpose.map(|p| format!(" for {p}")).unwrap_or_default(),
            s.dsa.map(|d| format!(" under {d}")).unwrap_or_default(),
            haven_store::format_timestamp(s.expires_at)
        ),
        None => println!("not signed in"),
    }
    Ok(())
}

/// `haven retention apply|certificates`.
pub fn retention(cli: &Cli, what: &RetentionCommand) -> Result<()> {
    match what {
        RetentionCommand::Apply(a) => retention_apply(cli, a),
        RetentionCommand::Certificates => {
            for (id, text) in haven_governance::retention::certificates(&cli.data_dir)? {
                let v: serde_json::Value = serde_json::from_str(&text)?;
                println!("{id}  {}  {} rows destroyed  by {}  {}", v["dsa"].as_str().unwrap_or(""), v["rows_destroyed"], v["run_by"].as_str().unwrap_or(""), v["at"].as_str().unwrap_or(""));
            }
            Ok(())
        }
    }
}

fn retention_apply(cli: &Cli, a: &RetentionArgs) -> Result<()> {
    let dsa = find_dsa(cli, &a.dsa)?;
    let role = session().map_or("admin", |s| s.role.name());
    let action = if a.dry_run { "retention.plan" } else { "retention.apply" };
    let today = today();
    // A destruction runs as of today; only a dry run takes a date, today or later.
    let run = a
        .on
        .as_deref()
        .map(|s| Date::parse(s).map_err(|e| anyhow!("--on: {e}")))
        .transpose()
        .and_then(|on| Ok(Run::requested(today, a.dry_run, on)?));
    let run = match run {
        Ok(run) => run,
        Err(e) => {
            let detail = serde_json::json!({"on": a.on, "dry_run": a.dry_run, "reason": format!("{e:#}")});
            audit(&cli.data_dir, event(role, "", &dsa.id, action, &dsa.id, "refused", detail))?;
            return Err(e);
        }
    };
    if run == Run::Destroy {
        // On the record before anything is destroyed, so a run killed
        // half-way (some loads rewritten, no certificate) is not silent.
        audit(&cli.data_dir, event(role, "", &dsa.id, action, &dsa.id, "attempt", serde_json::json!({"on": today.to_string()})))?;
    }
    let result = haven_store::Store::open_for_write(&cli.data_dir)
        .map_err(anyhow::Error::from)
        .and_then(|mut store| {
            let cert = haven_governance::retention::apply(&mut store, &dsa, today, run, &actor(), role)?;
            // Spells derived from destroyed episodes are stale (sessions no
            // longer read them); rebuilding replaces their files.
            if !a.dry_run {
                crate::ingest::refresh_spells(&mut store, cli.json);
            }
            Ok(cert)
        });
    let detail = match &result {
        Ok(c) if !a.dry_run => serde_json::json!({"certificate": c.id, "sha256": haven_governance::retention::certificate_sha256(&cli.data_dir, &c.id)?, "rows_destroyed": c.rows_destroyed, "keep_from": c.window.keep_from}),
        Ok(c) => serde_json::json!({"on": c.on, "rows_destroyed": c.rows_destroyed, "keep_from": c.window.keep_from}),
        Err(e) => serde_json::json!({"reason": format!("{e:#}")}),
    };
    audit(&cli.data_dir, event(role, "", &dsa.id, action, &dsa.id, if result.is_ok() { "ok" } else { "failed" }, detail))?;
    let cert = result?;
    if cli.json {
        println!("{}", serde_json::to_string_pretty(&cert)?);
        return Ok(());
    }
    println!("{}{}", cert.window.reason, if a.dry_run { " (dry run: nothing changed)" } else { "" });
    // Each load once (its parts and zones summed); `--json` has every file.
    for l in &cert.loads {
        println!(
            "  load {}  {:<16} {:>10} of {:>10} rows in {} ({} files)  years {}",
            l.load_id,
            l.datasets.join(","),
            l.rows_destroyed,
            l.rows_before,
            l.zones.join(","),
            l.files,
            l.years.join(",")
        );
    }
    match a.dry_run {
        true => println!("{} rows would be destroyed", cert.rows_destroyed),
        false => println!("{} rows destroyed; certificate {} in {}", cert.rows_destroyed, cert.id, cli.data_dir.join("certificates").display()),
    }
    Ok(())
}

pub fn users(cli: &Cli, what: &UsersCommand) -> Result<()> {
    let users = Users::open(&cli.data_dir)?;
    match what {
        UsersCommand::Add { name, role, practice, password_file } => {
            let password = read_password(password_file.as_deref())?;
            let user = app(cli).add_user(&app_actor(), name, role, practice.as_deref(), &password)?;
            println!("added user {} ({}{})", user.name, user.role, user.practice.map(|p| format!(", practice {p}")).unwrap_or_default());
        }
        UsersCommand::List => {
            let list = users.list()?;
            if cli.json {
                println!("{}", serde_json::to_string_pretty(&list)?);
            } else {
                for u in list {
                    println!(
                        "{:<24} {:<8} {:<8} {}{}",
                        u.name,
                        u.role,
                        u.practice.as_deref().unwrap_or("-"),
                        u.created_at,
                        if u.disabled { "  disabled" } else { "" }
                    );
                }
            }
        }
        UsersCommand::Disable { name } => {
            app(cli).disable_user(&app_actor(), name)?;
            println!("disabled user {name}");
        }
        UsersCommand::Unlock { name } => {
            app(cli).unlock_user(&app_actor(), name)?;
            println!("unlocked user {name}");
        }
        UsersCommand::Mfa { name } => {
            let e = app(cli).enrol_mfa(&app_actor(), name)?;
            println!("second factor enrolled for {name}; show this once to the user, then clear the screen:");
            println!("  secret (type into the authenticator app): {}", e.secret_base32);
            println!("  or scan: {}", e.uri);
            println!("{}", e.qr_text);
            println!("from now on `haven login {name}` needs --code (or HAVEN_TOTP) from the app");
        }
    }
    Ok(())
}

pub fn audit_command(cli: &Cli, what: &AuditCommand) -> Result<()> {
    let log = audit_log(&cli.data_dir)?;
    match what {
        AuditCommand::Verify { checkpoint } => {
            let cp = checkpoint.as_deref().map(Checkpoint::parse).transpose()?;
            let n = log.verify_with(cp.as_ref()).map_err(|e| anyhow!("audit log verification failed: {e}"))?;
            if cli.json {
                println!("{}", serde_json::json!({"verified": true, "entries": n, "checkpoint_entries": cp.as_ref().map(|c| c.entries)}));
            } else {
                let held = cp.map(|c| format!("; it holds the checkpoint of entry {}", c.entries)).unwrap_or_default();
                println!("audit log verified: {n} entries, chain intact{held}");
            }
        }
        AuditCommand::Checkpoint => {
            // A checkpoint of a broken chain would vouch for the break.
            log.verify().map_err(|e| anyhow!("audit log verification failed: {e}"))?;
            drop(log);
            let cp = app(cli).checkpoint(&app_actor())?;
            if cli.json {
                println!("{}", serde_json::json!({"checkpoint": cp.to_string(), "entries": cp.entries}));
            } else {
                println!("{cp}");
                eprintln!(
                    "audit log checkpoint at entry {}: keep this line where the data directory's operators cannot write, and check it with `haven audit verify --checkpoint <line>`",
                    cp.entries
                );
            }
        }
        AuditCommand::Export { out, format } => {
            let n = match format.as_str() {
                "csv" => log.export_csv(out)?,
                "json" => log.export_json(out)?,
                other => bail!("--format must be csv or json, not {other:?}"),
            };
            drop(log);
            audit(&cli.data_dir, event("auditor", "audit", "", "audit.export", &out.display().to_string(), "ok", serde_json::json!({"entries": n})))?;
            println!("wrote {n} audit entries to {}", out.display());
        }
    }
    Ok(())
}

/// A labelled table of counts: corner label, row labels, column labels, counts.
type Counts = (String, Vec<String>, Vec<String>, Vec<Vec<u64>>);

/// Reads a counts CSV: header `label,cat1,cat2,...`, then `row,n1,n2,...`.
fn read_counts(path: &Path) -> Result<Counts> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let header: Vec<String> = lines.next().ok_or_else(|| anyhow!("{}: empty", path.display()))?.split(',').map(|s| s.trim().to_owned()).collect();
    if header.len() < 2 {
        bail!("{}, line 1: expected a label column and at least one count column", path.display());
    }
    let (mut rows, mut counts) = (Vec::new(), Vec::new());
    for (i, line) in lines.enumerate() {
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        if fields.len() != header.len() {
            bail!("{}, line {}: {} fields, the header has {}", path.display(), i + 2, fields.len(), header.len());
        }
        rows.push(fields[0].to_owned());
        let values = fields[1..]
            .iter()
            .enumerate()
            .map(|(j, f)| f.parse::<u64>().map_err(|_| anyhow!("{}, line {}, field {}: not a count", path.display(), i + 2, header[j + 1])))
            .collect::<Result<Vec<u64>>>()?;
        counts.push(values);
    }
    Ok((header[0].clone(), rows, header[1..].to_vec(), counts))
}

pub fn outputs(cli: &Cli, what: &OutputsCommand) -> Result<()> {
    let outputs = Outputs::open(&cli.data_dir)?;
    let me = actor();
    match what {
        OutputsCommand::Submit { title, counts, rule } => {
            let rule = match rule.as_str() {
                "hes_ecds" => Rule::HesEcds,
                "midpoint6" => Rule::Midpoint6,
                other => bail!("--rule must be hes_ecds or midpoint6, not {other:?}"),
            };
            let (corner, rows, cols, table) = read_counts(counts)?;
            let policy = Policy { rule, ..Policy::default() };
            let content = Content::from_protected(&corner, &rows, &cols, &policy.table(&table));
            let out = app(cli).submit(&app_actor(), title, &content)?;
            println!("{} held for review (needs {} approvals from reviewers other than {me})", out.id, haven_governance::outputs::APPROVALS_NEEDED);
        }
        OutputsCommand::List => {
            let all = outputs.list()?;
            if cli.json {
                println!("{}", serde_json::to_string_pretty(&all)?);
            } else {
                for o in all {
                    println!("{}  {:<9} {:<12} {}  ({} reviews)", o.id, format!("{:?}", o.status).to_lowercase(), o.author, o.title, o.reviews.len());
                }
            }
        }
        OutputsCommand::Show { id } => {
            let o = outputs.get(id)?.ok_or_else(|| anyhow!("no output {id}"))?;
            // Every file of the held folder against the manifest, rendered:
            // reviewing needs no access to the data directory.
            let files = outputs.inspect(id)?;
            if cli.json {
                println!("{}", serde_json::to_string_pretty(&serde_json::json!({"output": o, "files": files}))?);
                return Ok(());
            }
            println!("{}  {}  by {} under {} for {}  status {:?}", o.id, o.title, o.author, o.dsa, o.purpose, o.status);
            println!("manifest sha256 {}; {} files", o.sha256, files.iter().filter(|f| f.sha256.is_some()).count());
            for (who, decision, reason, at) in &o.reviews {
                println!("  {at} {who}: {decision} {reason}");
            }
            let flagged = files.iter().filter(|f| f.state != FileState::Held).count();
            if flagged > 0 {
                println!("WARNING: {flagged} file(s) in the held folder are not as Haven wrote them; this output cannot be exported");
            }
            for f in &files {
                println!();
                println!("== {}  sha256 {}  ({})", f.name, f.sha256.as_deref().unwrap_or("-"), f.state.describe());
                let Some(r) = &f.rendering else { continue };
                if r.kind == "chart" {
                    println!("chart: {}", r.title.as_deref().unwrap_or("(untitled)"));
                    if let Some(d) = &r.description {
                        println!("description: {d}");
                    }
                    println!("data: {}", r.data.as_deref().unwrap_or("(no table of this output)"));
                } else {
                    print!("{}", r.text);
                }
            }
        }
        OutputsCommand::Approve { id } | OutputsCommand::Reject { id, .. } => {
            let (approve, reason) = match what {
                OutputsCommand::Reject { reason, .. } => (false, reason.as_str()),
                _ => (true, ""),
            };
            let o = app(cli).review(&app_actor(), id, approve, reason)?;
            println!("{id}: {:?}", o.status);
        }
        OutputsCommand::Export { id, out } => {
            app(cli).export(&app_actor(), id, out)?;
            println!("exported {id} to {}", out.display());
        }
    }
    Ok(())
}
