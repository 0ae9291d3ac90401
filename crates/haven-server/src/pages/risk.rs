//! Risk stratification's GP pages (issue 18 §5): the practice's currently
//! registered patients ranked by the ICB's model, identifiable, for direct
//! care, filtered by cohort; and one patient's encounters with their
//! theograph. The GP sees only their own practice: the list takes no
//! practice from the URL, and the use cases refuse any other practice's
//! patient whatever NHS number the URL names (the refusal audited).

use axum::extract::{Path, Query, State};
use maud::{html, Markup, PreEscaped};
use serde::Deserialize;

use crate::guard::Signed;
use crate::pages::{call, layout, render, Page};
use crate::Shared;

/// The most patients the page lists.
const SHOWN: usize = 500;

/// `?cohort=…` narrows the list to one cohort.
#[derive(Debug, Deserialize)]
pub struct Filter {
    cohort: Option<String>,
}

/// `GET /risk/patients`: the at-risk list.
pub async fn patients(State(state): State<Shared>, signed: Signed, Query(filter): Query<Filter>) -> Page {
    let actor = signed.actor();
    let list = call(&state, &signed, move |app| app.risk_list(&actor, None, None, usize::MAX)).await?;
    let wanted = filter.cohort.filter(|c| haven_app::risk::Cohort::ALL.iter().any(|k| k.name() == c));
    let shown: Vec<_> = list.patients.iter().filter(|p| wanted.as_deref().is_none_or(|c| p.cohorts.contains(&c))).take(SHOWN).collect();
    let rows: Vec<Vec<Markup>> = shown
        .iter()
        .map(|p| {
            vec![
                html! { (p.rank) },
                html! { a href={"/risk/patients/" (p.nhs_number)} { (p.nhs_number) } },
                html! { (p.age.map_or_else(|| "–".to_owned(), |a| a.to_string())) },
                html! { (p.sex) },
                html! { (format!("{:.1}%", 100.0 * p.risk)) },
                html! { (format!("{:.1}", p.hfrs)) },
                html! { (p.charlson) },
                html! { (p.efi.as_deref().unwrap_or("–")) },
                html! { (p.emergency_admissions) },
                html! { (p.cohorts.join(", ")) },
            ]
        })
        .collect();
    let body = html! {
        p class="nhsuk-lede-text" {
            (list.registered) " patients registered with " (list.practice) ", ranked by the risk of an emergency admission in the next year (the ICB's model from " (list.model_from) ", histories to " (list.index_date) ")."
        }
        form method="get" action="/risk/patients" {
            div class="nhsuk-form-group" {
                label class="nhsuk-label" for="cohort" { "Cohort" }
                select class="nhsuk-select" id="cohort" name="cohort" {
                    option value="" { "Everyone" }
                    @for c in haven_app::risk::Cohort::ALL {
                        option value=(c.name()) selected[wanted.as_deref() == Some(c.name())] { (c.name().replace('_', " ")) }
                    }
                }
            }
            button class="nhsuk-button nhsuk-button--secondary" type="submit" { "Show" }
        }
        @if rows.is_empty() { p { "No patient is in this cohort." } } @else {
            (layout::table(&format!("The {} highest-risk patients shown", rows.len()), &["Rank", "NHS number", "Age", "Sex", "Risk", "HFRS", "Charlson", "eFI", "Emergency admissions last year", "Cohorts"], &rows))
        }
    };
    render(&state, &signed, "Patients at risk", body).await
}

/// `GET /risk/patients/{nhs}`: one patient's encounters over the two years
/// to the end of the model's outcome year, and their theograph. Every view
/// is audited by the use case.
pub async fn patient(State(state): State<Shared>, signed: Signed, Path(nhs): Path<String>) -> Page {
    let actor = signed.actor();
    let t = call(&state, &signed, move |app| app.risk_patient(&actor, &nhs, None, 2)).await?;
    let rows: Vec<Vec<Markup>> = t.encounters.iter().map(|e| vec![html! { (e.day) }, html! { (e.end.as_deref().unwrap_or("–")) }, html! { (e.kind) }, html! { (e.what) }]).collect();
    let body = html! {
        p class="nhsuk-lede-text" {
            "NHS number " (t.nhs_number) ", registered with " (t.practice) ": " (t.encounters.len()) " encounters from " (t.from) " to " (t.to) "."
        }
        // The chart is haven-charts' own SVG, its text already escaped.
        div class="haven-chart" { (PreEscaped(&t.svg)) }
        @if rows.is_empty() { p { "No encounter in these two years." } } @else {
            (layout::table("Encounters", &["From", "To", "Kind", "What"], &rows))
        }
        p { a href="/risk/patients" { "All patients at risk" } }
    };
    render(&state, &signed, "Patient timeline", body).await
}
