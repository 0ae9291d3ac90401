//! The analyst's and viewer's pages (issue 16 §3), built from the newest
//! released indicators output and benchmark (`haven_app::insight`): the
//! ICB overview against England and peers with SPC trends, an indicator
//! with its charts and every breakdown, inequalities, benchmarking of
//! providers and practices, the drill-down ICB → sub-ICB → PCN → practice
//! and a practice's dashboard. Every figure was released by two reviewers
//! after disclosure control; charts are the output's own SVGs, shown from
//! `/released/{id}/chart/{name}` and downloadable as released files.

use axum::extract::{Path, Query, State};
use haven_analytics::benchmark::Flag;
use haven_analytics::{Breakdown, Row};
use haven_app::insight::{self, Benchmarked, Compared, Indicators};
use haven_governance::disclosure::Cell;
use maud::{html, Markup};
use serde::Deserialize;
use std::sync::Arc;

use crate::guard::Signed;
use crate::pages::{call, layout, render, Page};
use crate::Shared;

pub(crate) fn num(v: Option<f64>) -> String {
    v.map(|v| format!("{v:.1}")).unwrap_or_else(|| "–".into())
}

/// A 95% interval, or a dash when none is published.
fn interval(lower: Option<f64>, upper: Option<f64>) -> String {
    match (lower, upper) {
        (Some(l), Some(u)) => format!("{l:.1}–{u:.1}"),
        _ => "–".into(),
    }
}

fn cell(c: Option<Cell>) -> String {
    c.map(|c| c.to_string()).unwrap_or_default()
}

/// A flag as a tag whose words carry the meaning (never colour alone).
pub(crate) fn flag(f: Flag) -> Markup {
    let colour = match f {
        Flag::Better => "nhsuk-tag--green",
        Flag::Worse => "nhsuk-tag--red",
        Flag::Higher | Flag::Lower => "nhsuk-tag--purple",
        Flag::Similar => "nhsuk-tag--grey",
        Flag::NotCompared => "nhsuk-tag--white",
    };
    html! { strong class={"nhsuk-tag " (colour)} { (f.label()) } }
}

fn chart(output: &str, name: &str) -> Markup {
    html! {
        figure class="haven-chart" {
            img src={"/released/" (output) "/chart/" (name)} alt={"Chart " (name) " (its data is in the table of the same name)"};
            figcaption class="nhsuk-body-s" { a href={"/released/" (output) "/" (name)} { "Download " (name) } }
        }
    }
}

fn source(o: &haven_governance::outputs::Output) -> Markup {
    html! { p class="nhsuk-body-s" { "From released output " a href={"/released/" (o.id)} { (o.id) } " (" (o.title) ", made " (o.created_at) ")." } }
}

fn nothing(what: &str) -> Markup {
    html! { div class="nhsuk-inset-text" { p { "No " (what) " has been released yet. Analysts run one on the Analyses page; it appears here once two reviewers release it." } } }
}

/// Both released outputs, read (once) off the blocking pool.
async fn released(state: &Shared, signed: &Signed) -> Result<(Option<Arc<Indicators>>, Option<Arc<Benchmarked>>), crate::guard::Refused> {
    call(state, signed, |app| app.released_insight()).await
}

/// `GET /overview`: the headline indicators against England and peers,
/// with the local total and the SPC reading of its monthly series.
pub async fn overview(State(state): State<Shared>, signed: Signed) -> Page {
    let (ind, bm) = released(&state, &signed).await?;
    if ind.is_none() && bm.is_none() {
        return render(&state, &signed, "ICB overview", html! { (nothing("indicators output or benchmark")) p { a href="/released" { "All released outputs" } } }).await;
    }
    let lines = insight::headline(ind.as_deref(), bm.as_deref());
    let icb = bm.as_ref().map(|b| b.benchmark.icb.clone()).unwrap_or_else(|| "ICB".into());
    let rows: Vec<Vec<Markup>> = lines
        .iter()
        .map(|h| {
            let c = h.comparison.as_ref();
            vec![
                html! { a href={"/indicators/" (h.indicator.id)} { (h.indicator.title) } },
                html! { (num(c.and_then(|c| c.value))) " " span class="nhsuk-body-s" { (c.map(|c| c.unit.as_str()).unwrap_or("")) } },
                html! { (num(c.and_then(|c| c.england))) },
                html! { (num(c.and_then(|c| c.peer_median))) },
                html! { (flag(c.map_or(Flag::NotCompared, |c| c.vs_england))) },
                html! { (num(h.local.as_ref().and_then(|r| r.value))) " " span class="nhsuk-body-s" { (h.local_unit) } },
                html! { (h.trend.as_ref().map_or("–", |t| t.signal.label())) },
            ]
        })
        .collect();
    let head = ["Indicator", &*icb, "England", "Peer median", "Against England (95%)", "Local total", "Latest month (SPC)"];
    let body = html! {
        p class="nhsuk-lede-text" { (icb) " against England and its nearest peers, and the local trend by month." }
        (layout::table("Headline indicators", &head, &rows))
        p class="nhsuk-body-s" {
            "Against England: the ICB's 95% interval excludes England's value (event counts as age–sex standardised rates, readmissions indirectly standardised). "
            "Latest month: the Making Data Count reading of the last published month (XmR chart, limits mean ± 2.66 × average moving range)."
        }
        @if let Some(b) = &bm {
            @if b.files.iter().any(|f| f == "benchmark.spine.svg") { (chart(&b.output.id, "benchmark.spine.svg")) }
            (source(&b.output))
        }
        @if let Some(i) = &ind { (source(&i.output)) }
        ul class="nhsuk-list" {
            li { a href="/inequalities" { "Inequalities" } }
            li { a href="/benchmarking" { "Providers and practices" } }
            li { a href="/areas" { "Drill down by area" } }
            li { a href="/released" { "All released outputs" } }
        }
    };
    render(&state, &signed, "ICB overview", body).await
}

/// The released table's CSV, as a download link (audited when followed).
fn download(output: &str, c: &Compared) -> Markup {
    let name = format!("{}.{}.csv", c.table.indicator, c.table.breakdown.name());
    html! { p class="nhsuk-body-s" { a href={"/released/" (output) "/" (name)} { "Download " (name) } } }
}

/// A table of one breakdown with each row's flag against the total.
fn compared_table(c: &Compared, caption: &str, link: Option<&dyn Fn(&str) -> String>) -> Markup {
    let t = &c.table;
    let mut rows: Vec<Vec<Markup>> = t
        .rows
        .iter()
        .zip(&c.flags)
        .map(|(r, f)| {
            let group = match link {
                Some(l) if r.group != "Unknown" => html! { a href=(l(&r.group)) { (r.group) } },
                _ => html! { (r.group) },
            };
            vec![group, html! { (cell(r.numerator)) }, html! { (cell(r.denominator)) }, html! { (num(r.value)) }, html! { (interval(r.lower, r.upper)) }, flag(*f)]
        })
        .collect();
    let tr = &t.total;
    rows.push(vec![html! { strong { "Total" } }, html! { (cell(tr.numerator)) }, html! { (cell(tr.denominator)) }, html! { (num(tr.value)) }, html! { (interval(tr.lower, tr.upper)) }, html! {}]);
    let value = format!("Value ({})", t.unit);
    html! {
        div class="haven-table-scroll" tabindex="0" role="region" aria-label=(caption) {
            (layout::table(caption, &[t.breakdown.label(), "Numerator", "Denominator", &value, "95% interval", "Against the total"], &rows))
        }
    }
}

/// `GET /indicators/{id}`: one indicator — its definition, the ICB against
/// England, its charts and every breakdown the output holds.
pub async fn indicator(State(state): State<Shared>, signed: Signed, Path(id): Path<String>) -> Page {
    let ind = call(&state, &signed, move |_| insight::indicator(&id)).await?;
    let (x, bm) = released(&state, &signed).await?;
    let comparison = bm.as_ref().and_then(|b| b.benchmark.comparisons.iter().find(|c| c.indicator == ind.id).cloned());
    let body = html! {
        dl class="nhsuk-summary-list" {
            @for (k, v) in [("Numerator", ind.numerator), ("Denominator", ind.denominator), ("Source", ind.citation)] {
                div class="nhsuk-summary-list__row" { dt class="nhsuk-summary-list__key" { (k) } dd class="nhsuk-summary-list__value" { (v) } }
            }
            @if !ind.choices.is_empty() {
                div class="nhsuk-summary-list__row" { dt class="nhsuk-summary-list__key" { "Choices Haven makes" } dd class="nhsuk-summary-list__value" { (ind.choices) } }
            }
        }
        @if let Some(c) = &comparison {
            h2 class="nhsuk-heading-m" { "Against England" }
            p { (bm.as_ref().map(|b| b.benchmark.icb.as_str()).unwrap_or("")) ": " strong { (num(c.value)) " " (c.unit) } " (95% " (num(c.lower)) "–" (num(c.upper)) "); England " (num(c.england)) "; peer median " (num(c.peer_median)) ". " (flag(c.vs_england)) }
            @if let Some(b) = &bm {
                @for f in b.files.iter().filter(|f| f.starts_with(&format!("{}.", ind.id)) && f.ends_with(".svg")) { (chart(&b.output.id, f)) }
            }
        }
        @match &x {
            None => (nothing("indicators output")),
            Some(x) => {
                @if let Some(t) = x.trend(&ind) {
                    p { "Latest month " (t.latest.as_ref().map(|(m, v)| format!("{m}: {v:.1}")).unwrap_or_default()) " — " strong { (t.signal.label()) } " (" (t.months) " months)." }
                }
                @for f in x.charts(ind.id) { (chart(&x.output.id, f)) }
                @for b in Breakdown::ALL {
                    @if let Some(c) = x.compared(&ind, b) {
                        h2 class="nhsuk-heading-m" { "By " (b.label()) }
                        (compared_table(&c, &format!("{} by {}, {}", ind.title, b.label(), c.table.period), None))
                        (download(&x.output.id, &c))
                    }
                }
                (source(&x.output))
            }
        }
    };
    render(&state, &signed, ind.title, body).await
}

/// `GET /inequalities`: each indicator by deprivation (with the slope
/// index), ethnicity, age and sex.
pub async fn inequalities(State(state): State<Shared>, signed: Signed) -> Page {
    let (x, _) = released(&state, &signed).await?;
    let Some(x) = x else { return render(&state, &signed, "Inequalities", nothing("indicators output")).await };
    let by = [Breakdown::ImdQuintile, Breakdown::Ethnicity, Breakdown::AgeBand, Breakdown::Sex];
    let body = html! {
        p class="nhsuk-lede-text" { "Each indicator by deprivation (IMD quintile 1 = most deprived), ethnicity, age and sex. The slope index of inequality (SII) is the modelled gap, in percentage points, between the most and least deprived (PHE method, methods.md §6.7)." }
        @for ind in x.indicators() {
            @if by.iter().any(|b| x.table(ind.id, *b).is_some()) {
                h2 class="nhsuk-heading-m" { a href={"/indicators/" (ind.id)} { (ind.title) } }
                @if let Some([s, lo, hi]) = x.sii.get(ind.id) {
                    p { "Slope index of inequality: " strong { (format!("{s:.1}")) } " percentage points (95% " (format!("{lo:.1}")) " to " (format!("{hi:.1}")) ")." }
                }
                @for f in x.charts(ind.id).into_iter().filter(|f| f.ends_with(".inequality.svg")) { (chart(&x.output.id, f)) }
                @for b in by {
                    @if let Some(c) = x.compared(&ind, b) { (compared_table(&c, &format!("{} by {}", ind.title, b.label()), None)) }
                }
            }
        }
        (source(&x.output))
    };
    render(&state, &signed, "Inequalities", body).await
}

/// The query of the benchmarking and drill-down pages.
#[derive(Deserialize, Default)]
pub struct Pick {
    #[serde(default)]
    indicator: Option<String>,
    #[serde(default)]
    level: Option<String>,
}

fn picker(action: &str, x: &Indicators, chosen: &str, levels: Option<(&[Breakdown], Breakdown)>) -> Markup {
    html! {
        form method="get" action=(action) class="nhsuk-form-group" {
            label class="nhsuk-label" for="indicator" { "Indicator" }
            select class="nhsuk-select" id="indicator" name="indicator" {
                @for i in x.indicators() { option value=(i.id) selected[i.id == chosen] { (i.title) } }
            }
            @if let Some((levels, at)) = levels {
                label class="nhsuk-label" for="level" { "Compare" }
                select class="nhsuk-select" id="level" name="level" {
                    @for l in levels { option value=(l.name()) selected[*l == at] { (l.label()) } }
                }
            }
            button class="nhsuk-button nhsuk-button--secondary haven-inline" type="submit" { "Show" }
        }
    }
}

fn chosen(x: &Indicators, asked: Option<&str>) -> Option<haven_analytics::Indicator> {
    let all = x.indicators();
    asked.and_then(|a| all.iter().find(|i| i.id == a).cloned()).or_else(|| all.into_iter().next())
}

/// `GET /benchmarking?indicator=…&level=provider|practice|pcn|sub_icb`:
/// every provider or practice against the ICB, with the funnel plot.
pub async fn benchmarking(State(state): State<Shared>, signed: Signed, Query(q): Query<Pick>) -> Page {
    let (x, _) = released(&state, &signed).await?;
    let Some(x) = x else { return render(&state, &signed, "Providers and practices", nothing("indicators output")).await };
    let Some(ind) = chosen(&x, q.indicator.as_deref()) else { return render(&state, &signed, "Providers and practices", nothing("indicator table")).await };
    let levels = [Breakdown::Provider, Breakdown::Practice, Breakdown::Pcn, Breakdown::SubIcb];
    let level = q.level.as_deref().and_then(|l| levels.iter().find(|b| b.name() == l).copied()).unwrap_or(Breakdown::Provider);
    let practice_link = |g: &str| format!("/practices/{g}");
    let link: Option<&dyn Fn(&str) -> String> = (level == Breakdown::Practice).then_some(&practice_link as &dyn Fn(&str) -> String);
    let funnel = format!("{}.{}.funnel.svg", ind.id, level.name());
    let body = html! {
        (picker("/benchmarking", &x, ind.id, Some((&levels, level))))
        @if x.files.contains(&funnel) { (chart(&x.output.id, &funnel)) }
        @match x.compared(&ind, level) {
            Some(c) => { (compared_table(&c, &format!("{} by {}, against the ICB (PHE funnel, 95% and 99.8%)", ind.title, level.label()), link)) (download(&x.output.id, &c)) }
            None => p { "The released output has no table of this indicator by " (level.label()) "." },
        }
        (source(&x.output))
    };
    render(&state, &signed, "Providers and practices", body).await
}

fn area_page(x: &Indicators, ind: &haven_analytics::Indicator, level: Breakdown, code: &str) -> Markup {
    let q = format!("?indicator={}", ind.id);
    let Some((below, children)) = x.children(level, code) else { return html! { p { "Nothing below this level." } } };
    let rows = x.compared(ind, below);
    let href = |g: &str| if below == Breakdown::Practice { format!("/practices/{g}") } else { format!("/areas/{}/{g}{q}", below.name()) };
    html! {
        @match rows {
            Some(c) => {
                @let lines = c.only(&children);
                @let body: Vec<Vec<Markup>> = lines.iter().map(|(r, f)| vec![html! { a href=(href(&r.group)) { (r.group) } }, html! { (cell(r.numerator)) }, html! { (cell(r.denominator)) }, html! { (num(r.value)) }, flag(*f)]).collect();
                @let value = format!("Value ({})", c.table.unit);
                (layout::table(&format!("{} by {} (ICB {} {})", ind.title, below.label(), num(c.table.total.value), c.table.unit), &[below.label(), "Numerator", "Denominator", &value, "Against the ICB"], &body))
                @if lines.len() < children.len() { p class="nhsuk-body-s" { (children.len() - lines.len()) " " (below.label()) " areas here have no published row." } }
            }
            None => p { "The released output has no table by " (below.label()) "." },
        }
    }
}

/// `GET /areas?indicator=…`: the ICB's sub-ICBs, each linking down.
pub async fn areas(State(state): State<Shared>, signed: Signed, Query(q): Query<Pick>) -> Page {
    area(state, signed, Breakdown::Icb, String::new(), q).await
}

/// `GET /areas/{level}/{code}?indicator=…`: a sub-ICB's PCNs or a PCN's
/// practices.
pub async fn area_below(State(state): State<Shared>, signed: Signed, Path((level, code)): Path<(String, String)>, Query(q): Query<Pick>) -> Page {
    let level = match level.as_str() {
        "sub_icb" => Breakdown::SubIcb,
        "pcn" => Breakdown::Pcn,
        _ => return Err(crate::guard::Refused::from(&state, &signed, haven_app::AppError::NotFound(format!("no area level {level}"))).await),
    };
    area(state, signed, level, code, q).await
}

async fn area(state: Shared, signed: Signed, level: Breakdown, code: String, q: Pick) -> Page {
    let title = if code.is_empty() { "Areas".to_owned() } else { format!("{} {code}", level.label()) };
    let (x, _) = released(&state, &signed).await?;
    let Some(x) = x else { return render(&state, &signed, &title, nothing("indicators output")).await };
    let Some(ind) = chosen(&x, q.indicator.as_deref()) else { return render(&state, &signed, &title, nothing("indicator table")).await };
    let action = if code.is_empty() { "/areas".to_owned() } else { format!("/areas/{}/{code}", level.name()) };
    let body = html! {
        nav class="nhsuk-breadcrumb" aria-label="Breadcrumb" { ol class="nhsuk-breadcrumb__list" {
            li class="nhsuk-breadcrumb__item" { a class="nhsuk-breadcrumb__link" href={"/areas?indicator=" (ind.id)} { "ICB" } }
            @if !code.is_empty() { li class="nhsuk-breadcrumb__item" { (level.label()) " " (code) } }
        } }
        (picker(&action, &x, ind.id, None))
        (area_page(&x, &ind, level, &code))
        (source(&x.output))
    };
    render(&state, &signed, &title, body).await
}

/// `GET /practices/{code}`: a practice's dashboard — every indicator for
/// the practice against its ICB. A GP sees only their own practice.
pub async fn practice(State(state): State<Shared>, signed: Signed, Path(code): Path<String>) -> Page {
    let actor = signed.actor();
    let c = code.clone();
    call(&state, &signed, move |app| app.may_see_practice(&actor, &c)).await?;
    let (x, _) = released(&state, &signed).await?;
    let title = format!("Practice {code}");
    let Some(x) = x else { return render(&state, &signed, &title, nothing("indicators output")).await };
    let lines = insight::practice_lines(&x, &code);
    let area = x.area(&code);
    let rows: Vec<Vec<Markup>> = lines
        .iter()
        .map(|l| {
            let r: &Row = &l.practice;
            vec![html! { (l.indicator.title) }, html! { (cell(r.numerator)) }, html! { (cell(r.denominator)) }, html! { (num(r.value)) " " (l.unit) }, html! { (num(l.icb.value)) }, flag(l.flag)]
        })
        .collect();
    let body = html! {
        @if let Some(a) = area {
            p class="nhsuk-lede-text" { "PCN " (a.pcn.as_deref().unwrap_or("unknown")) ", sub-ICB " (a.sub_icb.as_deref().unwrap_or("unknown")) "." }
        }
        @if rows.is_empty() {
            p { "The released output has no published row for this practice." }
        } @else {
            (layout::table(&format!("Practice {code} against its ICB"), &["Indicator", "Numerator", "Denominator", "Practice", "ICB", "Against the ICB"], &rows))
            p class="nhsuk-body-s" { "Against the ICB: outside the PHE funnel's 95% limits for the practice's denominator (methods.md §6.6); counts 1–7 are suppressed and others rounded to 5." }
        }
        (source(&x.output))
    };
    render(&state, &signed, &title, body).await
}

/// `GET /released/{id}/chart/{name}`: a released chart shown in a page
/// (downloads go through `/released/{id}/{name}`, audited).
pub async fn chart_file(State(state): State<Shared>, signed: Signed, Path((id, name)): Path<(String, String)>) -> Page {
    let n = name.clone();
    let bytes = call(&state, &signed, move |app| app.released_chart(&id, &n)).await?;
    Ok(crate::pages::outputs::file_response(&name, bytes, false))
}
