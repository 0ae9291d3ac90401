//! The finance (CEfF) pages (issue 17 §2): a validator in the `ceff` role,
//! signed in for invoice validation, runs validation (queued like an
//! analysis), reads each run's headline, its invoices and their lines with
//! the evidence, and its disclosure-controlled reports; works the
//! challenge log (status changes, provider responses pasted from their
//! file). The auditor sees the challenge log, never an invoice's lines:
//! the operation table decides which route each role reaches.

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect};
use axum::Form;
use haven_app::finance::IvRun;
use haven_finance::challenge::Status;
use haven_finance::reason::REASONS;
use maud::{html, Markup};
use serde::Deserialize;

use crate::guard::Signed;
use crate::pages::{call, csrf, layout, render, Page};
use crate::Shared;

/// Pence as pounds with a thousands separator.
pub fn pounds(pence: i64) -> String {
    let (sign, p) = if pence < 0 { ("-", -pence) } else { ("", pence) };
    let whole = (p / 100).to_string();
    let mut grouped = String::new();
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    format!("{sign}£{grouped}.{:02}", p % 100)
}

fn meaning(code: &str) -> &'static str {
    REASONS.iter().find(|r| r.code == code).map_or("", |r| r.meaning)
}

fn counts_table(caption: &str, head: &str, counts: &std::collections::BTreeMap<String, usize>, explain: bool) -> Markup {
    let rows: Vec<Vec<Markup>> = counts
        .iter()
        .map(|(k, n)| {
            let mut row = vec![html! { code { (k) } }, html! { (n) }];
            if explain {
                row.push(html! { (meaning(k)) });
            }
            row
        })
        .collect();
    let heads: &[&str] = if explain { &[head, "Lines", "Meaning"] } else { &[head, "Lines"] };
    layout::table(caption, heads, &rows)
}

/// `GET /finance`: run validation, and every run so far.
pub async fn home(State(state): State<Shared>, signed: Signed) -> Page {
    let token = csrf(&state, &signed).await?;
    let runs = call(&state, &signed, |app| app.iv_runs()).await?;
    let jobs = state.app.my_jobs(&signed.actor());
    let rows: Vec<Vec<Markup>> = runs
        .iter()
        .map(|r| {
            vec![
                html! { a href={"/finance/runs/" (r.run)} { (r.run) } },
                html! { (r.invoices) },
                html! { (r.lines) },
                html! { (r.challenged) },
                html! { (pounds(r.value_billed)) },
                html! { (pounds(r.value_challenged)) },
            ]
        })
        .collect();
    let body = html! {
        p class="nhsuk-lede-text" { "Providers' invoices checked line by line against SUS+ inside the Controlled Environment for Finance: who pays, the price, duplicates, activity after death or inside a spell, prior approval. Each line ends validated or challenged with its reasons and evidence." }
        h2 class="nhsuk-heading-m" { "Run validation" }
        form method="post" action="/finance/run" {
            (layout::csrf_field(&token))
            div class="nhsuk-form-group" {
                label class="nhsuk-label" for="month" { "Month (optional)" }
                div class="nhsuk-hint" id="month-hint" { "Report the invoices of one month, for example 2024-07; every month otherwise" }
                input class="nhsuk-input nhsuk-input--width-10" id="month" name="month" type="text" aria-describedby="month-hint";
            }
            div class="nhsuk-checkboxes nhsuk-form-group" {
                div class="nhsuk-checkboxes__item" {
                    input class="nhsuk-checkboxes__input" id="report" name="report" type="checkbox" value="yes";
                    label class="nhsuk-label nhsuk-checkboxes__label" for="report" { "Also hold the reports for two-person release" }
                }
            }
            button class="nhsuk-button" type="submit" { "Validate invoices" }
        }
        @if !jobs.is_empty() { (crate::pages::analyses::jobs_table(&jobs)) }
        (layout::table("Validation runs", &["Run", "Invoices", "Lines", "Challenged", "Billed", "Challenged value"], &rows))
    };
    render(&state, &signed, "Invoice validation", body).await
}

/// The run form's fields.
#[derive(Deserialize)]
pub struct RunForm {
    #[serde(default)]
    month: String,
    #[serde(default)]
    report: String,
}

/// `POST /finance/run`: queued; the page goes to the job.
pub async fn run(State(state): State<Shared>, signed: Signed, Form(f): Form<RunForm>) -> Page {
    let run = IvRun { month: Some(f.month.trim().to_owned()).filter(|m| !m.is_empty()), truth: None, report: f.report == "yes" };
    let actor = signed.actor();
    let job = call(&state, &signed, move |app| app.queue_iv(&actor, run, haven_finance::Config::for_icb(""))).await?;
    Ok(Redirect::to(&format!("/jobs/{}", job.id)).into_response())
}

/// `GET /finance/runs/{id}`: a run's headline and its invoices.
pub async fn run_page(State(state): State<Shared>, signed: Signed, Path(id): Path<String>) -> Page {
    let (s, invoices) = call(&state, &signed, move |app| Ok((app.iv_run(&id)?, app.iv_invoices(&id)?))).await?;
    let rows: Vec<Vec<Markup>> = invoices
        .iter()
        .map(|i| {
            vec![
                html! { a href={"/finance/runs/" (s.run) "/invoices/" (i.invoice_id)} { (i.invoice_number) } },
                html! { (i.provider) },
                html! { (i.lines) },
                html! { (i.challenged) },
                html! { (pounds(i.billed_pence)) },
                html! { (pounds(i.challenged_pence)) },
            ]
        })
        .collect();
    let body = html! {
        dl class="nhsuk-summary-list" {
            @for (k, v) in [
                ("Invoices", s.invoices.to_string()), ("Lines", s.lines.to_string()), ("Challenged", s.challenged.to_string()),
                ("Billed", pounds(s.value_billed)), ("Challenged value", pounds(s.value_challenged)),
                ("Challenges raised", s.challenges.raised.to_string()),
            ] {
                div class="nhsuk-summary-list__row" { dt class="nhsuk-summary-list__key" { (k) } dd class="nhsuk-summary-list__value" { (v) } }
            }
        }
        @if !s.not_opened.is_empty() {
            div class="nhsuk-warning-callout" { h3 class="nhsuk-warning-callout__label" { "Checks that did not run" } p { "Not loaded for this run: " (s.not_opened.join(", ")) } }
        }
        @if let Some(o) = &s.output { p { "Reports held for review as " a href={"/outputs/" (o)} { (o) } "." } }
        p { a href={"/finance/runs/" (s.run) "/reports"} { "Accuracy and budget reports" } }
        (counts_table("Lines challenged, by reason", "Reason", &s.by_reason, true))
        (counts_table("How lines matched SUS+", "Match", &s.matched_by, false))
        @if !s.invoice_findings.is_empty() { (counts_table("Invoice findings", "Reason", &s.invoice_findings, true)) }
        div class="haven-table-scroll" tabindex="0" role="region" aria-label="Invoices" {
            (layout::table("Invoices", &["Invoice", "Provider", "Lines", "Challenged", "Billed", "Challenged value"], &rows))
        }
    };
    render(&state, &signed, &format!("Validation run {}", s.run), body).await
}

/// `GET /finance/runs/{id}/invoices/{invoice}`: every line with its outcome,
/// reasons, matched SUS+ record and evidence.
pub async fn invoice(State(state): State<Shared>, signed: Signed, Path((id, invoice)): Path<(String, String)>) -> Page {
    let (run, inv) = (id.clone(), invoice.clone());
    let lines = call(&state, &signed, move |app| app.iv_lines(&run, Some(&inv))).await?;
    let number = lines.first().map(|l| l.invoice_number.clone()).unwrap_or_default();
    let money = |p: Option<i64>| p.map(pounds).unwrap_or_default();
    let rows: Vec<Vec<Markup>> = lines
        .iter()
        .map(|l| {
            vec![
                html! { (l.line_no) },
                html! { (l.activity_date) " " (l.setting) " " (l.pod) },
                html! { strong { (l.outcome) } @if !l.reasons.is_empty() { br; code { (l.reasons) } } },
                html! { (l.matched_by) @if !l.sus_key.is_empty() { br; code { (l.sus_key) } } },
                html! { (money(l.billed_pence)) },
                html! { (money(l.expected_pence)) },
                html! { (l.evidence) },
            ]
        })
        .collect();
    let body = html! {
        p { "Provider " strong { (lines.first().map(|l| l.provider.as_str()).unwrap_or("")) } ", run " a href={"/finance/runs/" (id)} { (id) } "." }
        div class="haven-table-scroll" tabindex="0" role="region" aria-label="Lines" {
            (layout::table("Lines", &["Line", "Activity", "Outcome", "Matched", "Billed", "Expected", "Evidence"], &rows))
        }
    };
    render(&state, &signed, &format!("Invoice {number}"), body).await
}

/// `GET /finance/runs/{id}/reports`: the run's reports, each cell through
/// disclosure control (counts by the count rule, values by the magnitude
/// rules).
pub async fn reports(State(state): State<Shared>, signed: Signed, Path(id): Path<String>) -> Page {
    let run = id.clone();
    let reports = call(&state, &signed, move |app| app.iv_reports(&run)).await?;
    let body = html! {
        p { "Counts of 1–7 are suppressed and others rounded to 5; a value is suppressed when one or two patients make up most of it (dominance) or when it would tell one patient's care to within 10% (p%). " a href={"/finance/runs/" (id)} { "Back to the run" } }
        @for (name, csv) in &reports { (crate::pages::outputs::csv_table(name, csv.as_bytes())) }
    };
    render(&state, &signed, &format!("Reports of {id}"), body).await
}

/// The challenge list's filter.
#[derive(Deserialize)]
pub struct Filter {
    #[serde(default)]
    status: String,
}

/// `GET /finance/challenges`: the log, optionally of one status, and the
/// import of a provider's responses.
pub async fn challenges(State(state): State<Shared>, signed: Signed, Query(f): Query<Filter>) -> Page {
    let token = csrf(&state, &signed).await?;
    let status = Some(f.status.clone()).filter(|s| !s.is_empty());
    let list = call(&state, &signed, move |app| app.challenges(status.as_deref())).await?;
    let may_update = matches!(signed.session.role, haven_governance::dsa::Role::Ceff);
    let rows: Vec<Vec<Markup>> = list
        .iter()
        .take(500)
        .map(|c| {
            vec![
                html! { a href={"/finance/challenges/" (c.id)} { (c.id) } },
                html! { (c.invoice_number) " line " (c.line_no) },
                html! { (c.provider) },
                html! { code { (c.reasons) } },
                html! { (pounds(c.amount)) },
                html! { (c.status.name()) },
                html! { (c.updated) },
            ]
        })
        .collect();
    let body = html! {
        form method="get" action="/finance/challenges" class="nhsuk-form-group" {
            label class="nhsuk-label" for="status" { "Status" }
            select class="nhsuk-select" id="status" name="status" {
                option value="" { "Any" }
                @for s in Status::all() { option value=(s.name()) selected[f.status == s.name()] { (s.name()) } }
            }
            " "
            button class="nhsuk-button nhsuk-button--secondary" type="submit" { "Show" }
        }
        p { (list.len()) " challenges" @if list.len() > 500 { "; the first 500 are shown" } "." }
        div class="haven-table-scroll" tabindex="0" role="region" aria-label="Challenges" {
            (layout::table("Challenges", &["Challenge", "Line", "Provider", "Reasons", "Amount", "Status", "Updated"], &rows))
        }
        @if may_update {
            h2 class="nhsuk-heading-m" { "Import a provider's responses" }
            form method="post" action="/finance/responses" {
                (layout::csrf_field(&token))
                div class="nhsuk-form-group" {
                    label class="nhsuk-label" for="responses" { "The provider's response file" }
                    div class="nhsuk-hint" id="responses-hint" { "CSV with a header: invoice_number,line_no,response,reason (response accept or dispute)" }
                    textarea class="nhsuk-textarea" id="responses" name="responses" rows="6" aria-describedby="responses-hint" {}
                }
                button class="nhsuk-button" type="submit" { "Import responses" }
            }
        }
    };
    render(&state, &signed, "Challenges", body).await
}

/// `GET /finance/challenges/{id}`: one challenge, its history, and (for the
/// CEfF) the moves the process allows from here.
pub async fn challenge(State(state): State<Shared>, signed: Signed, Path(id): Path<String>) -> Page {
    let token = csrf(&state, &signed).await?;
    let n: i64 = id.parse().unwrap_or(-1);
    let (c, history) = call(&state, &signed, move |app| app.challenge(n)).await?;
    let moves: Vec<Status> = Status::all().iter().copied().filter(|s| c.status.can_move_to(*s)).collect();
    let may_update = matches!(signed.session.role, haven_governance::dsa::Role::Ceff) && !moves.is_empty();
    let rows: Vec<Vec<Markup>> = history.iter().map(|e| vec![html! { (e.at) }, html! { (e.status.name()) }, html! { (e.by) }, html! { (e.note) }]).collect();
    let body = html! {
        dl class="nhsuk-summary-list" {
            @for (k, v) in [
                ("Invoice", c.invoice_number.clone()), ("Line", c.line_no.to_string()), ("Provider", c.provider.clone()),
                ("Reasons", c.reasons.clone()), ("Amount", pounds(c.amount)), ("Recovered", c.recovered.map_or("—".into(), pounds)), ("Status", c.status.name().to_owned()), ("Run", c.run.clone()),
            ] {
                div class="nhsuk-summary-list__row" { dt class="nhsuk-summary-list__key" { (k) } dd class="nhsuk-summary-list__value" { (v) } }
            }
        }
        (layout::table("History", &["When", "Status", "By", "Note"], &rows))
        @if may_update {
            h2 class="nhsuk-heading-m" { "Move it on" }
            form method="post" action={"/finance/challenges/" (c.id)} {
                (layout::csrf_field(&token))
                div class="nhsuk-form-group" {
                    label class="nhsuk-label" for="status" { "New status" }
                    select class="nhsuk-select" id="status" name="status" { @for s in &moves { option value=(s.name()) { (s.name()) } } }
                }
                div class="nhsuk-form-group" {
                    label class="nhsuk-label" for="note" { "Note" }
                    textarea class="nhsuk-textarea" id="note" name="note" rows="2" {}
                }
                @if moves.contains(&haven_finance::challenge::Status::Resolved) {
                    div class="nhsuk-form-group" {
                        label class="nhsuk-label" for="recovered" { "Amount recovered, £ (when resolving)" }
                        div class="nhsuk-hint" id="recovered-hint" { "The whole amount challenged if left empty after an acceptance or an upheld dispute" }
                        input class="nhsuk-input nhsuk-input--width-10" id="recovered" name="recovered" type="text" inputmode="decimal" aria-describedby="recovered-hint";
                    }
                }
                button class="nhsuk-button" type="submit" { "Record" }
            }
        }
        p { a href="/finance/challenges" { "All challenges" } }
    };
    render(&state, &signed, &format!("Challenge {}", c.id), body).await
}

/// The status-change form.
#[derive(Deserialize)]
pub struct Move {
    #[serde(default)]
    status: String,
    #[serde(default)]
    note: String,
    #[serde(default)]
    recovered: String,
}

/// `POST /finance/challenges/{id}`.
pub async fn update(State(state): State<Shared>, signed: Signed, Path(id): Path<String>, Form(m): Form<Move>) -> Page {
    let n: i64 = id.parse().unwrap_or(-1);
    let actor = signed.actor();
    call(&state, &signed, move |app| {
        let recovered = Some(m.recovered.trim()).filter(|r| !r.is_empty()).map(haven_finance::challenge::parse_pounds).transpose().map_err(|e| haven_app::AppError::Invalid(e.to_string()))?;
        app.update_challenge(&actor, n, &m.status, &m.note, recovered)
    })
    .await?;
    Ok(Redirect::to(&format!("/finance/challenges/{n}")).into_response())
}

/// The responses form.
#[derive(Deserialize)]
pub struct Responses {
    #[serde(default)]
    responses: String,
}

/// `POST /finance/responses`: what the import did, line numbers only for
/// rows it could not read.
pub async fn responses(State(state): State<Shared>, signed: Signed, Form(r): Form<Responses>) -> Page {
    let actor = signed.actor();
    let done = call(&state, &signed, move |app| app.import_responses(&actor, &r.responses)).await?;
    let body = html! {
        dl class="nhsuk-summary-list" {
            @for (k, v) in [("Accepted", done.accepted), ("Disputed", done.disputed), ("Naming no challenge awaiting a response", done.not_awaiting), ("Unreadable rows", done.unreadable.len() as u64)] {
                div class="nhsuk-summary-list__row" { dt class="nhsuk-summary-list__key" { (k) } dd class="nhsuk-summary-list__value" { (v) } }
            }
        }
        @if !done.unreadable.is_empty() {
            ul class="nhsuk-list" { @for (line, why) in &done.unreadable { li { "Line " (line) ": " (why) } } }
        }
        p { a href="/finance/challenges" { "Back to the challenges" } }
    };
    render(&state, &signed, "Provider responses imported", body).await
}
