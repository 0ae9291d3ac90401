//! Risk stratification's GP page (issue 18 §5): the practice's currently
//! registered patients ranked by the ICB's model, identifiable, for direct
//! care, filtered by cohort. The GP sees only their own practice: the page
//! takes no practice from the URL, and the use case refuses any other.

use axum::extract::{Query, State};
use maud::{html, Markup};
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
                html! { (p.nhs_number) },
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
