//! `haven serve` (issue 16): the one process that holds the data and keys,
//! serving the web app and the JSON API over [`haven_app`]. Handlers are
//! thin: [`guard`] looks every request's route up in the operation × role ×
//! purpose table ([`haven_app::operation`]), verifies the session (a cookie
//! for pages, a bearer token for the API), checks the anti-forgery token on
//! every form and audits every refusal before a handler runs; handlers then
//! call the application layer and render.
//!
//! - [`pages`]: HTML in the NHS.UK frontend's styling (vendored, served
//!   from [`assets`]), usable without JavaScript.
//! - [`api`]: the same operations as JSON under `/api`, described by an
//!   OpenAPI document generated from the handlers' annotations.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::routing::{get, post};
use axum::Router;
use haven_app::App;

pub mod api;
pub mod assets;
pub mod guard;
pub mod pages;

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// A precondition of serving failed (keys, registry, address).
    #[error("refused: {0}")]
    Refused(String),
    #[error(transparent)]
    App(#[from] haven_app::AppError),
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// What the server shares between requests.
pub struct State {
    pub app: App,
    /// Held tables as HTML, by output, file and SHA-256 ([`pages::outputs`]).
    pub tables: pages::outputs::Tables,
    /// API replies built from released outputs alone ([`api`]).
    pub replies: api::Replies,
}

/// The shared state every handler gets.
pub type Shared = Arc<State>;

/// Every route the server serves, as `METHOD /path`: the test walks these
/// against the operation table, and [`router`] registers exactly these.
pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/", get(pages::home))
        .route("/sign-in", get(pages::sign_in::form).post(pages::sign_in::submit))
        .route("/sign-out", post(pages::sign_in::sign_out))
        .route("/overview", get(pages::insight::overview))
        .route("/indicators/{id}", get(pages::insight::indicator))
        .route("/inequalities", get(pages::insight::inequalities))
        .route("/benchmarking", get(pages::insight::benchmarking))
        .route("/areas", get(pages::insight::areas))
        .route("/areas/{level}/{code}", get(pages::insight::area_below))
        .route("/practices/{code}", get(pages::insight::practice))
        .route("/released/{id}/chart/{name}", get(pages::insight::chart_file))
        .route("/analyses", get(pages::analyses::form))
        .route("/analyses/indicators", post(pages::analyses::indicators))
        .route("/analyses/benchmark", post(pages::analyses::benchmark))
        .route("/jobs/{id}", get(pages::analyses::job))
        .route("/finance", get(pages::finance::home))
        .route("/finance/run", post(pages::finance::run))
        .route("/finance/runs/{id}", get(pages::finance::run_page))
        .route("/finance/runs/{id}/invoices/{invoice}", get(pages::finance::invoice))
        .route("/finance/runs/{id}/reports", get(pages::finance::reports))
        .route("/finance/challenges", get(pages::finance::challenges))
        .route("/finance/challenges/{id}", get(pages::finance::challenge).post(pages::finance::update))
        .route("/finance/responses", post(pages::finance::responses))
        .route("/risk/patients", get(pages::risk::patients))
        .route("/risk/patients/{nhs}", get(pages::risk::patient))
        .route("/dq", get(pages::dscro::data_quality))
        .route("/loads/{id}/quarantine", get(pages::dscro::quarantine))
        .route("/released", get(pages::outputs::released_list))
        .route("/released/{id}", get(pages::outputs::released_one))
        .route("/released/{id}/{name}", get(pages::outputs::released_download))
        .route("/outputs", get(pages::outputs::list))
        .route("/outputs/{id}", get(pages::outputs::show))
        .route("/outputs/{id}/view/{name}", get(pages::outputs::view_file))
        .route("/outputs/{id}/review", post(pages::outputs::review))
        .route("/audit", get(pages::audit::log))
        .route("/audit/checkpoint", post(pages::audit::checkpoint))
        .route("/audit/export.csv", get(pages::audit::export_csv))
        .route("/agreements", get(pages::audit::agreements))
        .route("/retention", get(pages::audit::retention))
        .route("/loads", get(pages::audit::loads))
        .route("/admin/users", get(pages::admin::users).post(pages::admin::add_user))
        .route("/admin/users/{name}/disable", post(pages::admin::disable))
        .route("/admin/users/{name}/unlock", post(pages::admin::unlock))
        .route("/admin/users/{name}/mfa", post(pages::admin::mfa))
        .route("/admin/practices", get(pages::admin::practices))
        .route("/admin/tokens", get(pages::admin::all_tokens))
        .route("/admin/tokens/{name}/{handle}/revoke", post(pages::admin::revoke_any))
        .route("/tokens", get(pages::admin::tokens).post(pages::admin::issue_token))
        .route("/tokens/{handle}/revoke", post(pages::admin::revoke_token))
        .route("/assets/{*path}", get(assets::serve))
        .route("/healthz", get(|| async { "ok" }))
        .merge(api::routes())
}

/// The whole application: the routes behind the guard.
pub fn router(app: App) -> Router {
    let state: Shared = Arc::new(State { app, tables: Default::default(), replies: Default::default() });
    routes()
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), guard::guard))
        .layer(axum::middleware::from_fn(guard::headers))
        .with_state(state)
}

/// Refuses to serve a store that is not ready: the keys folder must hold
/// the session and audit keys, the audit chain must verify, and the
/// registry must hold at least one agreement whose import the chain
/// attests (the server would otherwise admit no one, or admit under an
/// agreement changed outside Haven).
pub fn check_ready(app: &App) -> Result<(), ServerError> {
    let keys = app.keys_dir();
    for file in [haven_governance::session::KEY_FILE, haven_governance::audit::KEY_FILE] {
        if !keys.join(file).is_file() {
            return Err(ServerError::Refused(format!(
                "no {file} in the keys folder {}: run `haven keys init` and sign in once at the host, then serve",
                keys.display()
            )));
        }
    }
    haven_governance::session::SessionKey::load(keys).map_err(haven_app::AppError::from)?;
    let verified = app.verify_audit(None)?;
    if let Some(why) = verified.failure {
        return Err(ServerError::Refused(format!("the audit log does not verify ({why}); Haven does not serve a store whose log is broken")));
    }
    if !app.agreements()?.iter().any(|(_, attested)| *attested) {
        return Err(ServerError::Refused("the agreement registry is empty: an administrator imports one with `haven dsa import` first".into()));
    }
    Ok(())
}

/// Serves until Ctrl-C or SIGTERM, on an already bound listener (so a
/// caller may bind port 0 and read the address).
pub async fn serve(app: App, listener: tokio::net::TcpListener) -> Result<(), ServerError> {
    let service = router(app).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, service).with_graceful_shutdown(shutdown()).await?;
    Ok(())
}

/// Serves over TLS (rustls) with a PEM certificate chain and private key,
/// until Ctrl-C or SIGTERM, on an already bound listener.
pub async fn serve_tls(app: App, listener: std::net::TcpListener, cert: &std::path::Path, key: &std::path::Path) -> Result<(), ServerError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(key).map_err(|e| ServerError::Refused(format!("the TLS key {}: {e}", key.display())))?.permissions().mode();
        if mode & 0o077 != 0 {
            return Err(ServerError::Refused(format!("the TLS key {} may be read by group or others (mode {:o}): make it 0600", key.display(), mode & 0o777)));
        }
    }
    // One process-wide provider; a second install (tests) is harmless. ring
    // rather than aws-lc-rs keeps cmake out of the build; rustls marks it
    // deprecated only for lacking post-quantum key exchange.
    #[allow(deprecated)]
    let _ = rustls::crypto::ring::default_provider().install_default();
    let config = axum_server::tls_rustls::RustlsConfig::from_pem_file(cert, key)
        .await
        .map_err(|e| ServerError::Refused(format!("the TLS certificate {} or key {} could not be used: {e}", cert.display(), key.display())))?;
    let handle = axum_server::Handle::new();
    let stopping = handle.clone();
    tokio::spawn(async move {
        shutdown().await;
        stopping.graceful_shutdown(Some(std::time::Duration::from_secs(10)));
    });
    let service = router(app).into_make_service_with_connect_info::<SocketAddr>();
    listener.set_nonblocking(true)?;
    axum_server::from_tcp_rustls(listener, config)?.handle(handle).serve(service).await?;
    Ok(())
}

async fn shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}

/// Whether `addr` is a loopback address (the default; anything else is an
/// explicit choice in the configuration).
pub fn is_loopback(addr: &SocketAddr) -> bool {
    addr.ip().is_loopback()
}
