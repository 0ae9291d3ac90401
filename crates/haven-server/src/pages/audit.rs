//! The IG pages: the audit log with its chain verified on every view and
//! checkpoints, the agreement registry with versions and days to expiry,
//! retention certificates, and the loads' lineage.

use axum::extract::State;
use axum::http::{header, HeaderValue};
use axum::response::IntoResponse;
use haven_app::today;
use maud::html;

use crate::guard::Signed;
use crate::pages::{call, csrf, layout, render, Page};
use crate::Shared;

/// Entries the page shows (the export has them all).
const SHOWN: usize = 200;

/// `GET /audit`.
pub async fn log(State(state): State<Shared>, signed: Signed) -> Page {
    let verified = call(&state, &signed, |app| app.verify_audit(None)).await?;
    let entries = call(&state, &signed, |app| app.audit_entries(SHOWN)).await?;
    let token = csrf(&state, &signed).await?;
    let rows: Vec<Vec<maud::Markup>> = entries
        .iter()
        .map(|e| {
            let v = &e.event;
            vec![html! { (e.seq) }, html! { (e.at) }, html! { (v.actor) }, html! { (v.role) }, html! { (v.action) }, html! { (v.target) }, html! { (v.outcome) }, html! { (v.dsa) }]
        })
        .collect();
    let body = html! {
        @match (&verified.entries, &verified.failure) {
            (Some(n), _) => div class="nhsuk-inset-text" { p { "Chain verified: " strong { (n) " entries" } ", every MAC under the audit key intact." } },
            (_, Some(why)) => div class="nhsuk-error-summary" role="alert" { h2 class="nhsuk-error-summary__title" { "The audit log does not verify" } p { (why) } },
            _ => {},
        }
        form method="post" action="/audit/checkpoint" {
            (layout::csrf_field(&token))
            button class="nhsuk-button nhsuk-button--secondary" type="submit" { "Make a checkpoint" }
        }
        p { a href="/audit/export.csv" { "Export the whole log (CSV)" } }
        (layout::table(&format!("The latest {} entries, newest first", rows.len()), &["Seq", "At", "Actor", "Role", "Action", "Target", "Outcome", "Agreement"], &rows))
    };
    render(&state, &signed, "Audit log", body).await
}

/// `POST /audit/checkpoint`: shows the line to keep elsewhere.
pub async fn checkpoint(State(state): State<Shared>, signed: Signed) -> Page {
    let actor = signed.actor();
    let cp = call(&state, &signed, move |app| app.checkpoint(&actor)).await?;
    let body = html! {
        p { "Keep this line where the data directory's operators cannot write, and check the log against it later with " code { "haven audit verify --checkpoint" } "." }
        pre class="haven-pre" { (cp.to_string()) }
        p { a href="/audit" { "Back to the audit log" } }
    };
    render(&state, &signed, &format!("Checkpoint at entry {}", cp.entries), body).await
}

/// `GET /audit/export.csv`.
pub async fn export_csv(State(state): State<Shared>, signed: Signed) -> Page {
    let actor = signed.actor();
    let text = call(&state, &signed, move |app| app.audit_csv(&actor)).await?;
    let mut r = text.into_response();
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
    r.headers_mut().insert(header::CONTENT_DISPOSITION, HeaderValue::from_static("attachment; filename=\"haven-audit.csv\""));
    Ok(r)
}

/// `GET /agreements`.
pub async fn agreements(State(state): State<Shared>, signed: Signed) -> Page {
    let all = call(&state, &signed, |app| app.agreements()).await?;
    let today = today();
    let rows: Vec<Vec<maud::Markup>> = all
        .iter()
        .map(|(a, attested)| {
            let d = &a.dsa;
            let left = d.end.days() - today.days();
            let state = if d.in_force(today).is_ok() { format!("in force, {left} days to expiry") } else if left < 0 { "expired".to_owned() } else { "not started".to_owned() };
            let purposes: Vec<&str> = d.purposes.iter().map(|t| t.purpose.name()).collect();
            vec![
                html! { (d.id) },
                html! { (d.title) },
                html! { "v" (a.version.version) },
                html! { (d.start) " to " (d.end) },
                html! { (state) },
                html! { (purposes.join(", ")) },
                html! { @if *attested { "yes" } @else { strong { "NO: changed outside Haven" } } },
            ]
        })
        .collect();
    render(&state, &signed, "Agreements", layout::table("The agreement registry (latest version of each)", &["Agreement", "Title", "Version", "Period", "State", "Purposes", "Import audited"], &rows)).await
}

/// `GET /retention`.
pub async fn retention(State(state): State<Shared>, signed: Signed) -> Page {
    let certs = call(&state, &signed, |app| app.certificates()).await?;
    let rows: Vec<Vec<maud::Markup>> = certs
        .iter()
        .map(|(id, text)| {
            let v: serde_json::Value = serde_json::from_str(text).unwrap_or_default();
            vec![html! { (id) }, html! { (v["dsa"].as_str().unwrap_or("")) }, html! { (v["rows_destroyed"]) }, html! { (v["run_by"].as_str().unwrap_or("")) }, html! { (v["at"].as_str().unwrap_or("")) }]
        })
        .collect();
    render(&state, &signed, "Retention", layout::table("Destruction certificates", &["Certificate", "Agreement", "Rows destroyed", "Run by", "At"], &rows)).await
}

/// `GET /loads`: lineage of every load (never a row of data).
pub async fn loads(State(state): State<Shared>, signed: Signed) -> Page {
    let loads = call(&state, &signed, |app| app.loads()).await?;
    let route = "GET /loads/{id}/quarantine";
    let quarantine = haven_app::operation::for_route(route).is_some_and(|op| haven_app::operation::allows(op, route, Some(&signed.session)).is_ok());
    let rows: Vec<Vec<maud::Markup>> = loads
        .iter()
        .rev()
        .map(|l| {
            let committed = l.status == haven_store::LoadStatus::Committed;
            vec![
                html! { @if quarantine && committed { a href={"/loads/" (l.id) "/quarantine"} { (l.id) } } @else { (l.id) } },
                html! { (l.dataset) },
                html! { (format!("{:?}", l.status).to_lowercase()) },
                html! { (l.finished_at) },
                html! { (l.operator) },
                html! { (l.dsa.as_deref().unwrap_or("-")) @if let Some(v) = l.dsa_version { " v" (v) } },
                html! { code { (&l.source_sha256[..12.min(l.source_sha256.len())]) } },
            ]
        })
        .collect();
    render(&state, &signed, "Loads", layout::table("Loads, newest first", &["Load", "Dataset", "Status", "Finished", "Operator", "Agreement", "Source SHA-256"], &rows)).await
}
