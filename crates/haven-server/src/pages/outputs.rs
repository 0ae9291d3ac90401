//! Outputs: the review queue (held outputs, every file checked against its
//! manifest and rendered, approve or reject with a reason) and the released
//! outputs analysts and viewers see (the pages built from them are in
//! [`crate::pages::insight`]). Nothing else reaches these pages: every figure has passed
//! disclosure control before it was held, and two reviewers released it.

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use haven_governance::outputs::{FileState, Output, Status};
use maud::{html, Markup};
use serde::Deserialize;

use crate::guard::Signed;
use crate::pages::{call, csrf, layout, render, Page};
use crate::Shared;

fn status(s: Status) -> &'static str {
    match s {
        Status::Pending => "held for review",
        Status::Released => "released",
        Status::Rejected => "rejected",
    }
}

fn list_table(caption: &str, outputs: &[Output], href: impl Fn(&Output) -> String) -> Markup {
    let rows: Vec<Vec<Markup>> = outputs
        .iter()
        .rev()
        .map(|o| {
            vec![
                html! { a href=(href(o)) { (o.id) } },
                html! { (o.title) },
                html! { (o.author) },
                html! { (o.purpose) },
                html! { (status(o.status)) },
                html! { (o.reviews.len()) },
            ]
        })
        .collect();
    layout::table(caption, &["Output", "Title", "Author", "Purpose", "Status", "Reviews"], &rows)
}

/// A CSV file as an accessible table (first row the header).
pub(crate) fn csv_table(caption: &str, bytes: &[u8]) -> Markup {
    let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(bytes);
    let rows: Vec<Vec<String>> = reader.records().filter_map(Result::ok).map(|r| r.iter().map(str::to_owned).collect()).collect();
    let Some((head, body)) = rows.split_first() else { return html! { p { "(empty table)" } } };
    html! {
        div class="haven-table-scroll" tabindex="0" role="region" aria-label=(caption) {
            table class="nhsuk-table haven-data" {
                caption class="nhsuk-table__caption" { (caption) }
                thead { tr { @for h in head { th scope="col" { (h) } } } }
                tbody { @for r in body { tr { @for c in r { td { (c) } } } } }
            }
        }
    }
}

/// Held tables already turned into HTML, keyed by output, file name and
/// the SHA-256 the manifest records: the bytes behind a key never change
/// (another SHA-256 is another key, and a file not as written is never
/// rendered), so a review page re-read 50 times a second parses and
/// escapes each table once. Bounded: emptied when it holds
/// [`Tables::LIMIT`] tables.
#[derive(Default)]
pub struct Tables(std::sync::Mutex<std::collections::HashMap<(String, String, String), std::sync::Arc<str>>>);

impl Tables {
    const LIMIT: usize = 4096;

    fn get(&self, id: &str, f: &haven_governance::outputs::Inspected, bytes: &[u8]) -> Markup {
        let key = (id.to_owned(), f.name.clone(), f.sha256.clone().unwrap_or_default());
        let cached = self.0.lock().unwrap_or_else(|p| p.into_inner()).get(&key).cloned();
        let html: std::sync::Arc<str> = match cached {
            Some(h) => h,
            None => {
                let made: std::sync::Arc<str> = csv_table(&f.name, bytes).into_string().into();
                let mut map = self.0.lock().unwrap_or_else(|p| p.into_inner());
                if map.len() >= Self::LIMIT {
                    map.clear();
                }
                map.insert(key, made.clone());
                made
            }
        };
        maud::PreEscaped(html.to_string())
    }
}

/// Files one page of an output shows: an `icb`-scale output holds ~700
/// tables and charts, several megabytes as one page. Every file is still
/// checked on every view, and any file not as written is named at the top
/// of every page.
const PER_PAGE: usize = 40;

/// Which page of an output's files (`?page=N`, from 1).
#[derive(Deserialize, Default)]
pub struct Paging {
    #[serde(default)]
    page: Option<usize>,
}


/// The files' check at a glance, and the links between pages.
fn overview(shown: &haven_app::outputs::Shown, page: usize, href: impl Fn(usize) -> String) -> Markup {
    let bad: Vec<&haven_governance::outputs::Inspected> = shown.files.iter().filter(|f| f.state != FileState::Held).collect();
    let pages = shown.files.len().div_ceil(PER_PAGE).max(1);
    let (from, to) = (page * PER_PAGE + 1, ((page + 1) * PER_PAGE).min(shown.files.len()));
    html! {
        @if bad.is_empty() {
            p class="nhsuk-body" { (shown.files.len()) " files, every one as its manifest records it." }
        } @else {
            div class="nhsuk-warning-callout" {
                h2 class="nhsuk-warning-callout__label" { (bad.len()) " of " (shown.files.len()) " files are not as written" }
                ul { @for f in &bad { li { (f.name) ": " (f.state.describe()) } } }
            }
        }
        @if pages > 1 {
            nav class="nhsuk-pagination" role="navigation" aria-label="Pages of files" {
                p class="nhsuk-body" { "Files " (from) "–" (to) " of " (shown.files.len()) ", page " (page + 1) " of " (pages) "." }
                ul class="nhsuk-list haven-pages" {
                    @for p in 0..pages {
                        li { @if p == page { strong { (p + 1) } } @else { a href=(href(p + 1)) { "Page " (p + 1) } } }
                    }
                }
            }
        }
    }
}

/// One page of a shown output's files: tables as tables, charts as images
/// with their title and description as alternative text.
fn files(tables: &Tables, shown: &haven_app::outputs::Shown, page: usize, file_href: impl Fn(&str) -> String) -> Markup {
    let mut parts = Vec::new();
    for (f, bytes) in shown.files.iter().zip(&shown.bytes).skip(page * PER_PAGE).take(PER_PAGE) {
        let r = f.rendering.as_ref();
        let part = if f.state != FileState::Held {
            html! { div class="nhsuk-warning-callout" { h3 class="nhsuk-warning-callout__label" { (f.name) } p { (f.state.describe()) } } }
        } else if f.name.ends_with(".svg") {
            let alt = format!("{}. {}", r.and_then(|r| r.title.clone()).unwrap_or_default(), r.and_then(|r| r.description.clone()).unwrap_or_default());
            html! {
                figure class="haven-chart" {
                    img src=(file_href(&f.name)) alt=(alt.trim());
                    figcaption class="nhsuk-body-s" { (f.name) @if let Some(d) = r.and_then(|r| r.data.clone()) { " · data in " (d) } }
                }
            }
        } else if let (true, Some(bytes)) = (f.name.ends_with(".csv"), bytes) {
            tables.get(&shown.output.id, f, bytes)
        } else {
            html! { h3 class="nhsuk-heading-s" { (f.name) } pre class="haven-pre" { (r.map(|r| r.text.as_str()).unwrap_or("")) } }
        };
        parts.push(html! { section class="haven-file" { (part) p class="nhsuk-body-s" { a href=(file_href(&f.name)) { "Open " (f.name) } } } });
    }
    html! { @for p in parts { (p) } }
}

fn header(o: &Output) -> Markup {
    html! {
        dl class="nhsuk-summary-list" {
            @for (k, v) in [("Title", o.title.clone()), ("Author", o.author.clone()), ("Agreement", o.dsa.clone()), ("Purpose", o.purpose.clone()), ("Made", o.created_at.clone()), ("Status", status(o.status).to_owned()), ("Manifest SHA-256", o.sha256.clone())] {
                div class="nhsuk-summary-list__row" { dt class="nhsuk-summary-list__key" { (k) } dd class="nhsuk-summary-list__value" { (v) } }
            }
        }
        @if !o.reviews.is_empty() {
            h2 class="nhsuk-heading-m" { "Reviews" }
            ul class="nhsuk-list" { @for (who, decision, reason, at) in &o.reviews { li { (at) " " strong { (who) } ": " (decision) " " (reason) } } }
        }
    }
}

/// `GET /released`.
pub async fn released_list(State(state): State<Shared>, signed: Signed) -> Page {
    let released = call(&state, &signed, |app| app.released()).await?;
    render(&state, &signed, "Released outputs", list_table("Released outputs, newest first", &released, |o| format!("/released/{}", o.id))).await
}

/// `GET /released/{id}`: refused (and audited) for anything not released.
pub async fn released_one(State(state): State<Shared>, signed: Signed, Path(id): Path<String>, Query(paging): Query<Paging>) -> Page {
    let (shown, page) = call(&state, &signed, move |app| app.released_page(&id, paging.page, PER_PAGE)).await?;
    let id = shown.output.id.clone();
    let body = html! {
        (header(&shown.output))
        (overview(&shown, page, |p| format!("/released/{id}?page={p}")))
        (files(&state.tables, &shown, page, |n| format!("/released/{id}/{n}")))
    };
    render(&state, &signed, &shown.output.title.clone(), body).await
}

pub(crate) fn file_response(name: &str, bytes: Vec<u8>, download: bool) -> Response {
    let kind = match name.rsplit('.').next() {
        Some("svg") => "image/svg+xml",
        Some("csv") => "text/csv; charset=utf-8",
        Some("json") => "application/json",
        _ => "application/octet-stream",
    };
    let mut r = bytes.into_response();
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(kind));
    let disposition = if download && !name.ends_with(".svg") { format!("attachment; filename=\"{name}\"") } else { "inline".to_owned() };
    r.headers_mut().insert(header::CONTENT_DISPOSITION, HeaderValue::from_str(&disposition).unwrap_or(HeaderValue::from_static("attachment")));
    r
}

/// `GET /released/{id}/{name}`: one released file (an audited download).
pub async fn released_download(State(state): State<Shared>, signed: Signed, Path((id, name)): Path<(String, String)>) -> Page {
    let actor = signed.actor();
    let n = name.clone();
    let bytes = call(&state, &signed, move |app| app.released_file(&actor, &id, &n)).await?;
    Ok(file_response(&name, bytes, true))
}

/// `GET /outputs`: the review queue and history.
pub async fn list(State(state): State<Shared>, signed: Signed) -> Page {
    let all = call(&state, &signed, |app| app.outputs()).await?;
    let (held, done): (Vec<Output>, Vec<Output>) = all.into_iter().partition(|o| o.status == Status::Pending);
    let body = html! {
        (list_table("Held for review", &held, |o| format!("/outputs/{}", o.id)))
        (list_table("Released or rejected", &done, |o| format!("/outputs/{}", o.id)))
    };
    render(&state, &signed, "Outputs for review", body).await
}

/// `GET /outputs/{id}`: every file rendered, and the decision form.
pub async fn show(State(state): State<Shared>, signed: Signed, Path(id): Path<String>, Query(paging): Query<Paging>) -> Page {
    let (shown, page) = call(&state, &signed, move |app| app.output_page(&id, paging.page, PER_PAGE)).await?;
    let token = csrf(&state, &signed).await?;
    let id = shown.output.id.clone();
    let own = shown.output.author == signed.session.user;
    let body = html! {
        (header(&shown.output))
        (overview(&shown, page, |p| format!("/outputs/{id}?page={p}")))
        (files(&state.tables, &shown, page, |n| format!("/outputs/{id}/view/{n}")))
        @if shown.output.status == Status::Pending && !own {
            h2 class="nhsuk-heading-m" { "Your decision" }
            form method="post" action={"/outputs/" (id) "/review"} {
                (layout::csrf_field(&token))
                div class="nhsuk-form-group" {
                    fieldset class="nhsuk-fieldset" {
                        legend class="nhsuk-fieldset__legend" { "Release this output?" }
                        div class="nhsuk-radios" {
                            div class="nhsuk-radios__item" { input class="nhsuk-radios__input" id="approve" name="decision" type="radio" value="approve"; label class="nhsuk-label nhsuk-radios__label" for="approve" { "Approve" } }
                            div class="nhsuk-radios__item" { input class="nhsuk-radios__input" id="reject" name="decision" type="radio" value="reject"; label class="nhsuk-label nhsuk-radios__label" for="reject" { "Reject" } }
                        }
                    }
                }
                div class="nhsuk-form-group" {
                    label class="nhsuk-label" for="reason" { "Reason (needed to reject)" }
                    textarea class="nhsuk-textarea" id="reason" name="reason" rows="3" {}
                }
                button class="nhsuk-button" type="submit" { "Record decision" }
            }
        }
        @if own { p class="nhsuk-body" { "You made this output; two other reviewers decide." } }
    };
    render(&state, &signed, &format!("Output {}", shown.output.id), body).await
}

/// `GET /outputs/{id}/view/{name}`: a held file shown inside its review
/// page (a chart); no download header.
pub async fn view_file(State(state): State<Shared>, signed: Signed, Path((id, name)): Path<(String, String)>) -> Page {
    let n = name.clone();
    let bytes = call(&state, &signed, move |app| app.held_file(&id, &n)).await?;
    Ok(file_response(&name, bytes, false))
}

/// The decision form.
#[derive(Deserialize)]
pub struct Decision {
    #[serde(default)]
    decision: String,
    #[serde(default)]
    reason: String,
}

/// `POST /outputs/{id}/review`.
pub async fn review(State(state): State<Shared>, signed: Signed, Path(id): Path<String>, Form(d): Form<Decision>) -> Page {
    let approve = match d.decision.as_str() {
        "approve" => true,
        "reject" => false,
        _ => return Err(crate::guard::Refused::from(&state, &signed, haven_app::AppError::Invalid("choose approve or reject".into())).await),
    };
    let actor = signed.actor();
    let target = id.clone();
    call(&state, &signed, move |app| app.review(&actor, &target, approve, &d.reason)).await?;
    Ok(Redirect::to(&format!("/outputs/{id}")).into_response())
}

#[cfg(test)]
mod tests {
    use haven_governance::outputs::{FileState, Inspected};

    use super::*;

    fn held(name: &str, sha: &str) -> Inspected {
        Inspected { name: name.into(), sha256: Some(sha.into()), bytes: None, state: FileState::Held, rendering: None }
    }

    /// A cached table is the table its bytes make, escaped; the same name
    /// with another SHA-256 (bytes rewritten and re-held) is rendered from
    /// its own bytes, never from the earlier entry.
    #[test]
    fn a_cached_table_is_its_own_bytes_escaped_and_keyed_by_sha() {
        let tables = Tables::default();
        let first = tables.get("o1", &held("t.csv", "aa"), b"area,count\n<b>x</b>,10\n").into_string();
        assert_eq!(first, csv_table("t.csv", b"area,count\n<b>x</b>,10\n").into_string());
        assert!(first.contains("&lt;b&gt;x&lt;/b&gt;") && !first.contains("<b>x"));
        // Same key: the cached rendering, whatever bytes are passed.
        assert_eq!(tables.get("o1", &held("t.csv", "aa"), b"other,bytes\n").into_string(), first);
        // Another SHA-256 or another output: rendered afresh.
        assert!(tables.get("o1", &held("t.csv", "bb"), b"area,count\nY,20\n").into_string().contains(">20<"));
        assert!(tables.get("o2", &held("t.csv", "aa"), b"area,count\nZ,30\n").into_string().contains(">30<"));
    }
}
