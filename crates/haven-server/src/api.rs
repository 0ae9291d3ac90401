//! The JSON API: the web app's operations under `/api`, for a bearer token
//! (a personal API token, or a session token from `haven login`). The same
//! guard, table, audit and disclosure control as the pages: it returns only
//! what the pages show. The OpenAPI document at `/api/openapi.json` is
//! generated from the annotations on these handlers.

use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::response::IntoResponse;
use axum::{Json, Router};
use serde::Deserialize;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::guard::{Refused, Signed};
use crate::pages::call;
use crate::Shared;

type Answer = Result<Json<serde_json::Value>, Refused>;

fn json<T: serde::Serialize>(v: T) -> Answer {
    Ok(Json(serde_json::to_value(v).unwrap_or_default()))
}

/// The API's routes.
pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/api/openapi.json", get(openapi))
        .route("/api/whoami", get(whoami))
        .route("/api/outputs", get(outputs))
        .route("/api/outputs/{id}", get(output))
        .route("/api/outputs/{id}/review", post(review))
        .route("/api/released", get(released))
        .route("/api/released/{id}", get(released_one))
        .route("/api/audit", get(audit))
        .route("/api/agreements", get(agreements))
        .route("/api/users", get(users))
        .route("/api/loads", get(loads))
        .route("/api/dq", get(dq))
        .route("/api/indicators", get(indicators))
        .route("/api/indicators/{id}", get(indicator))
        .route("/api/practices/{code}", get(practice))
        .route("/api/analyses/indicators", post(run_indicators))
        .route("/api/analyses/benchmark", post(run_benchmark))
        .route("/api/jobs", get(jobs))
        .route("/api/jobs/{id}", get(job))
        .route("/api/finance/runs", get(iv_runs).post(iv_run))
        .route("/api/finance/runs/{id}", get(iv_run_one))
        .route("/api/finance/runs/{id}/invoices/{invoice}", get(iv_invoice))
        .route("/api/finance/challenges", get(iv_challenges))
        .route("/api/finance/challenges/{id}", get(iv_challenge).post(iv_challenge_update))
        .route("/api/finance/responses", post(iv_responses))
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Haven API", description = "Haven's operations for scripts: the same governance, audit and disclosure control as the web app. Authenticate with `Authorization: Bearer <token>` (a personal API token made on the Tokens page)."),
    paths(whoami, outputs, output, review, released, released_one, audit, agreements, users, loads, dq, indicators, indicator, practice, run_indicators, run_benchmark, jobs, job, iv_runs, iv_run, iv_run_one, iv_invoice, iv_challenges, iv_challenge, iv_challenge_update, iv_responses),
    modifiers(&Bearer)
)]
struct Doc;

struct Bearer;

impl Modify for Bearer {
    fn modify(&self, api: &mut utoipa::openapi::OpenApi) {
        let components = api.components.get_or_insert_with(Default::default);
        components.add_security_scheme("bearer", SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()));
        api.security = Some(vec![utoipa::openapi::security::SecurityRequirement::new("bearer", Vec::<String>::new())]);
    }
}

/// The OpenAPI document (generated from the handlers below).
pub fn document() -> utoipa::openapi::OpenApi {
    Doc::openapi()
}

async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(document())
}

/// Who the token signs in as.
#[utoipa::path(get, path = "/api/whoami", responses((status = 200, description = "The session: user, role, purpose, agreement, expiry"), (status = 401, description = "No valid token")))]
async fn whoami(signed: Signed) -> Answer {
    json(&signed.session)
}

/// Every output (held, released, rejected) for reviewers.
#[utoipa::path(get, path = "/api/outputs", responses((status = 200, description = "Outputs with their reviews"), (status = 403, description = "Not a reviewer")))]
async fn outputs(State(state): State<Shared>, signed: Signed) -> Answer {
    json(call(&state, &signed, |app| app.outputs()).await?)
}

/// One output, every file checked against its manifest and rendered.
#[utoipa::path(get, path = "/api/outputs/{id}", params(("id" = String, Path, description = "Output id")), responses((status = 200, description = "The output and its files"), (status = 404, description = "No such output")))]
async fn output(State(state): State<Shared>, signed: Signed, Path(id): Path<String>) -> Answer {
    json(call(&state, &signed, move |app| app.output(&id)).await?)
}

/// A reviewer's decision.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct Decision {
    /// `approve` or `reject`.
    pub decision: String,
    /// Needed to reject.
    #[serde(default)]
    pub reason: String,
}

/// Approve or reject a held output (the second approval releases it).
#[utoipa::path(post, path = "/api/outputs/{id}/review", params(("id" = String, Path, description = "Output id")), request_body = Decision, responses((status = 200, description = "The output after the decision"), (status = 403, description = "Refused (own output, already decided, not a reviewer)")))]
async fn review(State(state): State<Shared>, signed: Signed, Path(id): Path<String>, Json(d): Json<Decision>) -> Answer {
    let approve = match d.decision.as_str() {
        "approve" => true,
        "reject" => false,
        _ => return Err(Refused::from(&state, &signed, haven_app::AppError::Invalid("decision is approve or reject".into())).await),
    };
    let actor = signed.actor();
    json(call(&state, &signed, move |app| app.review(&actor, &id, approve, &d.reason)).await?)
}

/// The released outputs (what analysts and viewers see).
#[utoipa::path(get, path = "/api/released", responses((status = 200, description = "Released outputs")))]
async fn released(State(state): State<Shared>, signed: Signed) -> Answer {
    json(call(&state, &signed, |app| app.released()).await?)
}

/// One released output with its tables and charts rendered.
#[utoipa::path(get, path = "/api/released/{id}", params(("id" = String, Path, description = "Output id")), responses((status = 200, description = "The output and its files"), (status = 403, description = "Not released")))]
async fn released_one(State(state): State<Shared>, signed: Signed, Path(id): Path<String>) -> Answer {
    json(call(&state, &signed, move |app| app.released_output(&id)).await?)
}

/// The audit chain's verification and its latest 200 entries.
#[utoipa::path(get, path = "/api/audit", responses((status = 200, description = "Verification and entries, newest first")))]
async fn audit(State(state): State<Shared>, signed: Signed) -> Answer {
    let verified = call(&state, &signed, |app| app.verify_audit(None)).await?;
    let entries = call(&state, &signed, |app| app.audit_entries(200)).await?;
    json(serde_json::json!({"verified": verified, "entries": entries}))
}

/// The agreement registry: latest version of each, with whether its import
/// is in the keyed audit chain.
#[utoipa::path(get, path = "/api/agreements", responses((status = 200, description = "Agreements")))]
async fn agreements(State(state): State<Shared>, signed: Signed) -> Answer {
    let all = call(&state, &signed, |app| app.agreements()).await?;
    let today = haven_app::today();
    json(
        all.iter()
            .map(|(a, attested)| {
                let d = &a.dsa;
                serde_json::json!({"id": d.id, "title": d.title, "version": a.version.version, "sha256": a.version.sha256, "start": d.start.to_string(), "end": d.end.to_string(),
                    "in_force": d.in_force(today).is_ok(), "days_to_expiry": d.end.days() - today.days(), "import_audited": attested})
            })
            .collect::<Vec<_>>(),
    )
}

/// Users (names, roles, practices; never credentials).
#[utoipa::path(get, path = "/api/users", responses((status = 200, description = "Users")))]
async fn users(State(state): State<Shared>, signed: Signed) -> Answer {
    json(call(&state, &signed, |app| app.users()).await?)
}

/// Loads with their lineage.
#[utoipa::path(get, path = "/api/loads", responses((status = 200, description = "Loads")))]
async fn loads(State(state): State<Shared>, signed: Signed) -> Answer {
    json(call(&state, &signed, |app| app.loads()).await?)
}

/// Data quality of every committed load, by provider and field.
#[utoipa::path(get, path = "/api/dq", responses((status = 200, description = "Loads with completeness and validity by provider")))]
async fn dq(State(state): State<Shared>, signed: Signed) -> Answer {
    json(call(&state, &signed, |app| app.data_quality(None)).await?)
}

fn trend(t: Option<&haven_analytics::insight::Trend>) -> serde_json::Value {
    t.map_or(serde_json::Value::Null, |t| {
        serde_json::json!({"months": t.months, "latest": t.latest.as_ref().map(|(m, v)| serde_json::json!({"month": m, "value": v})), "signal": t.signal.label()})
    })
}

/// The headline indicators: the newest released benchmark's comparison
/// with England and peers, and the newest released indicators output's
/// local total and monthly SPC reading.
#[utoipa::path(get, path = "/api/indicators", responses((status = 200, description = "One line per indicator; null where nothing is released")))]
async fn indicators(State(state): State<Shared>, signed: Signed) -> Answer {
    let (x, b) = call(&state, &signed, |app| app.released_insight()).await?;
    let lines: Vec<_> = haven_app::insight::headline(x.as_deref(), b.as_deref())
        .iter()
        .map(|h| serde_json::json!({"indicator": h.indicator.id, "title": h.indicator.title, "comparison": h.comparison, "local": h.local, "local_unit": h.local_unit, "trend": trend(h.trend.as_ref())}))
        .collect();
    json(serde_json::json!({
        "icb": b.as_ref().map(|b| b.benchmark.icb.clone()),
        "indicators_output": x.as_ref().map(|x| x.output.id.clone()),
        "benchmark_output": b.as_ref().map(|b| b.output.id.clone()),
        "lines": lines,
    }))
}

/// Replies that depend only on released outputs (which outputs, by id and
/// manifest SHA-256, are part of the key), kept as the JSON bytes sent: an
/// indicator's reply flags every breakdown row, the same work for every
/// caller until another output is released. The guard has already decided
/// the caller may have it. Bounded: emptied when it holds
/// [`Replies::LIMIT`] replies.
#[derive(Default)]
pub struct Replies(std::sync::Mutex<std::collections::HashMap<String, axum::body::Bytes>>);

impl Replies {
    const LIMIT: usize = 1024;

    fn get_or(&self, key: String, make: impl FnOnce() -> serde_json::Value) -> axum::body::Bytes {
        if let Some(b) = self.0.lock().unwrap_or_else(|p| p.into_inner()).get(&key) {
            return b.clone();
        }
        let bytes = axum::body::Bytes::from(serde_json::to_vec(&make()).unwrap_or_default());
        let mut map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= Self::LIMIT {
            map.clear();
        }
        map.insert(key, bytes.clone());
        bytes
    }
}

/// One indicator: its comparison with England and every released
/// breakdown, each row flagged against the total.
#[utoipa::path(get, path = "/api/indicators/{id}", params(("id" = String, Path, description = "Indicator id, e.g. apc.emergency_readmission_30d")), responses((status = 200, description = "The indicator's released tables"), (status = 404, description = "No such indicator")))]
async fn indicator(State(state): State<Shared>, signed: Signed, Path(id): Path<String>) -> Result<axum::response::Response, Refused> {
    let ind = call(&state, &signed, move |_| haven_app::insight::indicator(&id)).await?;
    let (x, b) = call(&state, &signed, |app| app.released_insight()).await?;
    let of = |o: Option<&haven_governance::outputs::Output>| o.map_or(String::new(), |o| format!("{}:{}", o.id, o.sha256));
    let key = format!("indicator|{}|{}|{}", ind.id, of(x.as_ref().map(|x| &x.output)), of(b.as_ref().map(|b| &b.output)));
    let bytes = state.replies.get_or(key, || {
        let comparison = b.as_ref().and_then(|b| b.benchmark.comparisons.iter().find(|c| c.indicator == ind.id).cloned());
        let breakdowns: Vec<_> = x
            .as_ref()
            .map(|x| haven_analytics::Breakdown::ALL.iter().filter_map(|br| x.compared(&ind, *br)).map(|c| serde_json::json!({"table": &c.table, "flags": &c.flags})).collect())
            .unwrap_or_default();
        serde_json::json!({
            "indicator": ind.id, "title": ind.title, "numerator": ind.numerator, "denominator": ind.denominator, "source": ind.citation,
            "comparison": comparison, "trend": trend(x.as_ref().and_then(|x| x.trend(&ind)).as_ref()),
            "indicators_output": x.as_ref().map(|x| x.output.id.clone()), "breakdowns": breakdowns,
        })
    });
    Ok(([(axum::http::header::CONTENT_TYPE, "application/json")], bytes).into_response())
}

/// A practice's dashboard (a GP only their own practice).
#[utoipa::path(get, path = "/api/practices/{code}", params(("code" = String, Path, description = "Practice code")), responses((status = 200, description = "Every indicator for the practice against its ICB"), (status = 403, description = "Another practice than the GP's own")))]
async fn practice(State(state): State<Shared>, signed: Signed, Path(code): Path<String>) -> Answer {
    let actor = signed.actor();
    let c = code.clone();
    call(&state, &signed, move |app| app.may_see_practice(&actor, &c)).await?;
    let x = call(&state, &signed, |app| app.released_indicators()).await?;
    let lines: Vec<_> = x
        .as_ref()
        .map(|x| haven_app::insight::practice_lines(x, &code).into_iter().map(|l| serde_json::json!({"indicator": l.indicator.id, "unit": l.unit, "practice": l.practice, "icb": l.icb, "flag": l.flag})).collect())
        .unwrap_or_default();
    json(serde_json::json!({"practice": code, "area": x.as_ref().and_then(|x| x.area(&code).cloned()), "lines": lines}))
}

/// What to run: the financial year, and for the catalogue an optional ICB
/// (its responsible population), for the benchmark the ICB and its peers.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct AnalysisRequest {
    /// Financial year, e.g. `2024-25` (the default).
    #[serde(default)]
    pub period: Option<String>,
    /// ODS code of an ICB.
    #[serde(default)]
    pub icb: Option<String>,
    /// Nearest peers for the benchmark (1–41, default 10).
    #[serde(default)]
    pub peers: Option<usize>,
}

fn period_of(r: &AnalysisRequest) -> String {
    r.period.clone().filter(|p| !p.trim().is_empty()).unwrap_or_else(|| "2024-25".into())
}

/// Queue the indicator catalogue (commissioning); answers with the job.
#[utoipa::path(post, path = "/api/analyses/indicators", request_body = AnalysisRequest, responses((status = 200, description = "The queued job; follow it at /api/jobs/{id}"), (status = 400, description = "Not a valid period or ICB"), (status = 503, description = "Too many analyses queued")))]
async fn run_indicators(State(state): State<Shared>, signed: Signed, Json(r): Json<AnalysisRequest>) -> Answer {
    let mut run = haven_app::analyses::IndicatorsRun::catalogue(&period_of(&r));
    run.icb = r.icb.map(|i| i.trim().to_ascii_uppercase()).filter(|i| !i.is_empty());
    let actor = signed.actor();
    json(call(&state, &signed, move |app| app.queue_indicators(&actor, &run)).await?)
}

/// Queue the benchmark against England (population health benchmarking).
#[utoipa::path(post, path = "/api/analyses/benchmark", request_body = AnalysisRequest, responses((status = 200, description = "The queued job"), (status = 400, description = "Not a valid period, ICB or peer count"), (status = 503, description = "Too many analyses queued")))]
async fn run_benchmark(State(state): State<Shared>, signed: Signed, Json(r): Json<AnalysisRequest>) -> Answer {
    let peers = r.peers.unwrap_or(10);
    if !(1..=41).contains(&peers) {
        return Err(Refused::from(&state, &signed, haven_app::AppError::Invalid("peers is a number from 1 to 41".into())).await);
    }
    let run = haven_app::analyses::BenchmarkRun { icb: r.icb.clone().unwrap_or_default(), period: period_of(&r), peers, only: None, readmissions: Default::default() };
    let actor = signed.actor();
    json(call(&state, &signed, move |app| app.queue_benchmark(&actor, &run)).await?)
}

/// The caller's own analyses, newest first.
#[utoipa::path(get, path = "/api/jobs", responses((status = 200, description = "Jobs: id, analysis, times and state (queued, running, done with the held output, failed with the reason)")))]
async fn jobs(State(state): State<Shared>, signed: Signed) -> Answer {
    json(state.app.my_jobs(&signed.actor()))
}

/// One of the caller's analyses.
#[utoipa::path(get, path = "/api/jobs/{id}", params(("id" = String, Path, description = "Job id, e.g. JOB-000001")), responses((status = 200, description = "The job"), (status = 403, description = "Another user's job"), (status = 404, description = "No such job")))]
async fn job(State(state): State<Shared>, signed: Signed, Path(id): Path<String>) -> Answer {
    let actor = signed.actor();
    json(call(&state, &signed, move |app| app.job(&actor, &id)).await?)
}

/// Every invoice-validation run's headline (counts and values), newest first.
#[utoipa::path(get, path = "/api/finance/runs", responses((status = 200, description = "Runs: lines, challenged, values, by reason, how lines matched"), (status = 403, description = "Not the CEfF under invoice validation")))]
async fn iv_runs(State(state): State<Shared>, signed: Signed) -> Answer {
    json(call(&state, &signed, |app| app.iv_runs()).await?)
}

/// What to validate: a month (`YYYY-MM`, else every month), and whether to
/// hold the reports for release.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct IvRequest {
    #[serde(default)]
    pub month: Option<String>,
    #[serde(default)]
    pub report: bool,
}

/// Queue invoice validation; answers with the job.
#[utoipa::path(post, path = "/api/finance/runs", request_body = IvRequest, responses((status = 200, description = "The queued job; follow it at /api/jobs/{id}"), (status = 400, description = "Not a month"), (status = 503, description = "Too many jobs queued")))]
async fn iv_run(State(state): State<Shared>, signed: Signed, Json(r): Json<IvRequest>) -> Answer {
    let run = haven_app::finance::IvRun { month: r.month.filter(|m| !m.trim().is_empty()), truth: None, report: r.report };
    let actor = signed.actor();
    json(call(&state, &signed, move |app| app.queue_iv(&actor, run, haven_finance::Config::for_icb(""))).await?)
}

/// One run's headline and its invoices.
#[utoipa::path(get, path = "/api/finance/runs/{id}", params(("id" = String, Path, description = "Run id, e.g. IV-20261207-101500")), responses((status = 200, description = "The run's summary and invoices"), (status = 404, description = "No such run")))]
async fn iv_run_one(State(state): State<Shared>, signed: Signed, Path(id): Path<String>) -> Answer {
    let (summary, invoices) = call(&state, &signed, move |app| Ok((app.iv_run(&id)?, app.iv_invoices(&id)?))).await?;
    json(serde_json::json!({"summary": summary, "invoices": invoices}))
}

/// One invoice's lines: outcome, reasons, matched SUS+ record, billed and
/// expected amounts, evidence.
#[utoipa::path(get, path = "/api/finance/runs/{id}/invoices/{invoice}", params(("id" = String, Path, description = "Run id"), ("invoice" = String, Path, description = "Invoice id")), responses((status = 200, description = "The invoice's lines"), (status = 404, description = "No such run or invoice")))]
async fn iv_invoice(State(state): State<Shared>, signed: Signed, Path((id, invoice)): Path<(String, String)>) -> Answer {
    json(call(&state, &signed, move |app| app.iv_lines(&id, Some(&invoice))).await?)
}

/// The challenge log (the CEfF and the auditor), optionally of one status.
#[utoipa::path(get, path = "/api/finance/challenges", params(("status" = Option<String>, Query, description = "raised, sent, accepted, disputed, upheld, withdrawn, resolved or superseded")), responses((status = 200, description = "Challenges, newest first")))]
async fn iv_challenges(State(state): State<Shared>, signed: Signed, axum::extract::Query(q): axum::extract::Query<std::collections::HashMap<String, String>>) -> Answer {
    let status = q.get("status").cloned().filter(|s| !s.is_empty());
    json(call(&state, &signed, move |app| app.challenges(status.as_deref())).await?)
}

/// One challenge and its history.
#[utoipa::path(get, path = "/api/finance/challenges/{id}", params(("id" = i64, Path, description = "Challenge number")), responses((status = 200, description = "The challenge and its history"), (status = 404, description = "No such challenge")))]
async fn iv_challenge(State(state): State<Shared>, signed: Signed, Path(id): Path<String>) -> Answer {
    let n: i64 = id.parse().unwrap_or(-1);
    let (c, history) = call(&state, &signed, move |app| app.challenge(n)).await?;
    json(serde_json::json!({"challenge": c, "history": history}))
}

/// A status change.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct ChallengeMove {
    /// The new status (the process decides which moves are allowed).
    pub status: String,
    #[serde(default)]
    pub note: String,
    /// On resolving: the amount recovered, pence (by default the whole
    /// amount after an acceptance or an upheld dispute).
    #[serde(default)]
    pub recovered_pence: Option<i64>,
}

/// Move a challenge on (audited).
#[utoipa::path(post, path = "/api/finance/challenges/{id}", params(("id" = i64, Path, description = "Challenge number")), request_body = ChallengeMove, responses((status = 200, description = "The challenge after the move"), (status = 400, description = "A move the process does not allow")))]
async fn iv_challenge_update(State(state): State<Shared>, signed: Signed, Path(id): Path<String>, Json(m): Json<ChallengeMove>) -> Answer {
    let n: i64 = id.parse().unwrap_or(-1);
    let actor = signed.actor();
    json(call(&state, &signed, move |app| app.update_challenge(&actor, n, &m.status, &m.note, m.recovered_pence)).await?)
}

/// A provider's response file.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct ResponseFile {
    /// CSV with a header: invoice_number,line_no,response,reason.
    pub csv: String,
}

/// Import a provider's responses to the challenges sent to it (audited).
#[utoipa::path(post, path = "/api/finance/responses", request_body = ResponseFile, responses((status = 200, description = "Accepted, disputed, not awaiting a response, unreadable rows (line and reason)")))]
async fn iv_responses(State(state): State<Shared>, signed: Signed, Json(r): Json<ResponseFile>) -> Answer {
    let actor = signed.actor();
    json(call(&state, &signed, move |app| app.import_responses(&actor, &r.csv)).await?)
}
