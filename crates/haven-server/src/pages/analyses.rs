//! Running analyses from the web app (issue 16 §1, §3): an analyst runs the
//! indicator catalogue (commissioning) or the benchmark against England
//! (population health benchmarking) under the session's agreement. The
//! form queues the analysis ([`haven_app::jobs`]) and goes to the job's
//! page, which names the held output when it is done; the result is held
//! for review like every output.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect};
use axum::Form;
use haven_app::analyses::{BenchmarkRun, IndicatorsRun};
use haven_app::jobs::{Job, JobState};
use haven_governance::dsa::Purpose;
use maud::html;
use serde::Deserialize;

use crate::guard::Signed;
use crate::pages::{call, csrf, layout, render, Page};
use crate::Shared;

fn text_input(id: &str, label: &str, value: &str, hint: &str) -> maud::Markup {
    html! {
        div class="nhsuk-form-group" {
            label class="nhsuk-label" for=(id) { (label) }
            div class="nhsuk-hint" id={(id) "-hint"} { (hint) }
            input class="nhsuk-input nhsuk-input--width-10" id=(id) name=(id) type="text" value=(value) aria-describedby={(id) "-hint"};
        }
    }
}

/// `GET /analyses`: the form for the session's purpose.
pub async fn form(State(state): State<Shared>, signed: Signed) -> Page {
    let token = csrf(&state, &signed).await?;
    let purpose = signed.session.purpose;
    let jobs = state.app.my_jobs(&signed.actor());
    let body = html! {
        p class="nhsuk-lede-text" { "Analyses read the data your agreement and purpose allow, pass every table through disclosure control, and are held for review: two other reviewers release them before anyone outside review sees them." }
        @match purpose {
            Some(Purpose::Commissioning) => {
                h2 class="nhsuk-heading-m" { "Indicator catalogue" }
                form method="post" action="/analyses/indicators" {
                    (layout::csrf_field(&token))
                    (text_input("period", "Financial year", "2024-25", "For example 2024-25"))
                    (text_input("icb", "ICB (optional)", "", "Count only the population this ICB is responsible for (ODS code)"))
                    button class="nhsuk-button" type="submit" { "Run the catalogue" }
                }
            }
            Some(Purpose::PopulationHealthBenchmarking) => {
                h2 class="nhsuk-heading-m" { "Benchmark against England" }
                form method="post" action="/analyses/benchmark" {
                    (layout::csrf_field(&token))
                    (text_input("icb", "ICB", "", "ODS code of the ICB to compare, for example QMJ"))
                    (text_input("period", "Financial year", "2024-25", "For example 2024-25"))
                    (text_input("peers", "Nearest peers", "10", "How many ICBs most like it by age and deprivation"))
                    button class="nhsuk-button" type="submit" { "Run the benchmark" }
                }
            }
            _ => p { "Sign in for commissioning to run the indicator catalogue, or for population health benchmarking to benchmark against England." },
        }
        @if !jobs.is_empty() {
            (jobs_table(&jobs))
        }
    };
    render(&state, &signed, "Run an analysis", body).await
}

/// The analysis forms' fields.
#[derive(Deserialize)]
pub struct Asked {
    #[serde(default)]
    period: String,
    #[serde(default)]
    icb: String,
    #[serde(default)]
    peers: String,
}

fn period(a: &Asked) -> String {
    if a.period.trim().is_empty() { "2024-25".into() } else { a.period.trim().into() }
}

/// `POST /analyses/indicators`.
pub async fn indicators(State(state): State<Shared>, signed: Signed, Form(a): Form<Asked>) -> Page {
    let mut run = IndicatorsRun::catalogue(&period(&a));
    run.icb = Some(a.icb.trim().to_ascii_uppercase()).filter(|i| !i.is_empty());
    let actor = signed.actor();
    let job = call(&state, &signed, move |app| app.queue_indicators(&actor, &run)).await?;
    Ok(Redirect::to(&format!("/jobs/{}", job.id)).into_response())
}

/// `POST /analyses/benchmark`.
pub async fn benchmark(State(state): State<Shared>, signed: Signed, Form(a): Form<Asked>) -> Page {
    let peers = match a.peers.trim() {
        "" => 10,
        p => match p.parse::<usize>() {
            Ok(n) if (1..=41).contains(&n) => n,
            _ => return Err(crate::guard::Refused::from(&state, &signed, haven_app::AppError::Invalid("nearest peers is a number from 1 to 41".into())).await),
        },
    };
    let run = BenchmarkRun { icb: a.icb.clone(), period: period(&a), peers, only: None, readmissions: Default::default() };
    let actor = signed.actor();
    let job = call(&state, &signed, move |app| app.queue_benchmark(&actor, &run)).await?;
    Ok(Redirect::to(&format!("/jobs/{}", job.id)).into_response())
}

/// A job's state in words, with the held output's link when it is done.
fn state_of(job: &Job) -> maud::Markup {
    match &job.state {
        JobState::Queued { ahead: 0 } => html! { "Queued: next to run" },
        JobState::Queued { ahead } => html! { "Queued: " (ahead) " to run before it" },
        JobState::Running => html! { "Running" },
        JobState::Done { id, href, label } => html! { (label) " " a href=(href) { (id) } },
        JobState::Failed { reason } => html! { "Failed: " (reason) },
    }
}

pub(crate) fn jobs_table(jobs: &[Job]) -> maud::Markup {
    let rows: Vec<Vec<maud::Markup>> = jobs
        .iter()
        .map(|j| vec![html! { a href={"/jobs/" (j.id)} { (j.id) } }, html! { (j.what) }, html! { (haven_store::format_timestamp(j.queued_at)) }, state_of(j)])
        .collect();
    layout::table("Your analyses", &["Job", "Analysis", "Queued", "State"], &rows)
}

/// `GET /jobs/{id}`: one of the user's own jobs (anyone else's is
/// refused, and the refusal audited).
pub async fn job(State(state): State<Shared>, signed: Signed, Path(id): Path<String>) -> Page {
    let actor = signed.actor();
    let job = call(&state, &signed, move |app| app.job(&actor, &id)).await?;
    let body = html! {
        dl class="nhsuk-summary-list" {
            @for (k, v) in [("Job", html! { (job.id) }), ("Analysis", html! { (job.what) }), ("Queued", html! { (haven_store::format_timestamp(job.queued_at)) }), ("State", state_of(&job))] {
                div class="nhsuk-summary-list__row" { dt class="nhsuk-summary-list__key" { (k) } dd class="nhsuk-summary-list__value" { (v) } }
            }
        }
        @if !job.state.finished() {
            p class="nhsuk-body" { "Analyses run one at a time. " a href={"/jobs/" (job.id)} { "Check again" } " for its state." }
        }
        p class="nhsuk-body" { a href=(if job.what.starts_with("Invoice") { "/finance" } else { "/analyses" }) { "Your jobs" } }
    };
    render(&state, &signed, &format!("Analysis {}", job.id), body).await
}
