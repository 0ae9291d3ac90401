//! The DSCRO stage's pages (issue 16 §3): data quality by load and
//! provider, and each load's quarantine by field and reason, with file and
//! line — never a value (the quarantine holds none).

use axum::extract::{Path, State};
use maud::{html, Markup};

use crate::guard::Signed;
use crate::pages::{call, layout, render, Page};
use crate::Shared;

fn pct(v: Option<f64>) -> String {
    v.map(|v| format!("{:.1}%", 100.0 * v)).unwrap_or_else(|| "–".into())
}

/// `GET /dq`: every committed load's data quality by provider.
pub async fn data_quality(State(state): State<Shared>, signed: Signed) -> Page {
    let loads = call(&state, &signed, |app| app.data_quality(None)).await?;
    let body = html! {
        p class="nhsuk-lede-text" { "Completeness (filled cells of the checked fields) and validity (filled cells that pass validation) by provider, for each committed load, in the spirit of NHS England's Data Quality Maturity Index." }
        @if loads.is_empty() { p { "No load has been committed yet." } }
        @for l in &loads {
            @let rows: Vec<Vec<Markup>> = l.providers.iter().map(|p| vec![
                html! { (p.provider) },
                html! { (p.rows) },
                html! { (pct(p.completeness)) },
                html! { (pct(p.validity)) },
                html! { (p.weakest.iter().map(|(f, v)| format!("{f} {:.1}%", 100.0 * v)).collect::<Vec<_>>().join(", ")) },
            ]).collect();
            h2 class="nhsuk-heading-m" { (l.load.dataset) " · " (l.load.id) }
            @if rows.is_empty() { p { "No field checks were recorded for this load." } } @else {
                (layout::table(&format!("{} by provider", l.load.dataset), &["Provider", "Rows", "Completeness", "Validity", "Weakest fields (validity)"], &rows))
            }
        }
    };
    render(&state, &signed, "Data quality", body).await
}

/// `GET /loads/{id}/quarantine`: what a load set aside, and why.
pub async fn quarantine(State(state): State<Shared>, signed: Signed, Path(id): Path<String>) -> Page {
    let q = call(&state, &signed, move |app| app.quarantine(&id)).await?;
    let reasons: Vec<Vec<Markup>> = q.by_reason.iter().map(|(f, r, a, n)| vec![html! { (f) }, html! { (r) }, html! { (a) }, html! { (n) }]).collect();
    let first: Vec<Vec<Markup>> = q.first.iter().map(|f| vec![html! { (f.file) }, html! { (f.line) }, html! { (f.field) }, html! { (f.reason) }, html! { (f.action) }]).collect();
    let body = html! {
        p class="nhsuk-lede-text" { (q.load.dataset) " from " (q.load.source_path.rsplit('/').next().unwrap_or("")) ": " (q.faults) " faults recorded." }
        @if q.faults == 0 { p { "Nothing was set aside." } } @else {
            (layout::table("Faults by field and reason", &["Field", "Reason", "Action", "Faults"], &reasons))
            (layout::table(&format!("The first {} faults, in file order", q.first.len()), &["File", "Line", "Field", "Reason", "Action"], &first))
        }
        p { a href="/loads" { "All loads" } }
    };
    render(&state, &signed, &format!("Quarantine of {}", q.load.id), body).await
}
