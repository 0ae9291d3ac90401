//! Static files compiled into the binary: the NHS.UK frontend's built CSS,
//! JavaScript and assets (vendored by `cargo xtask frontend`, MIT licence
//! beside them) and Haven's own small style sheet. Served with a long
//! cache life: their names change when the vendored version does.

use axum::extract::Path;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use rust_embed::RustEmbed;

/// The NHS.UK frontend's style sheet.
pub const CSS: &str = "/assets/nhsuk-frontend/nhsuk-frontend.min.css";
/// Haven's module script, which starts the NHS.UK frontend's components
/// (an ES module since v10; progressive enhancement only: every page works
/// without it, and the content security policy allows no inline script).
pub const JS: &str = "/assets/haven.js";

#[derive(RustEmbed)]
#[folder = "assets/"]
#[exclude = "*/VERSIONS"]
struct Files;

/// `GET /assets/{*path}`.
pub async fn serve(Path(path): Path<String>) -> Response {
    let Some(file) = Files::get(&path) else { return StatusCode::NOT_FOUND.into_response() };
    let kind = match path.rsplit('.').next() {
        Some("css") => "text/css; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        Some("woff2") => "font/woff2",
        Some("woff") => "font/woff",
        _ => "application/octet-stream",
    };
    let mut r = file.data.into_owned().into_response();
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(kind));
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=86400"));
    r
}

/// Whether a path is served (for tests).
pub fn exists(path: &str) -> bool {
    Files::get(path).is_some()
}
