//! The web app's pages: HTML rendered on the server with the NHS.UK
//! frontend's classes, forms that work without JavaScript, and every action
//! a call into `haven_app`.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use maud::{html, Markup};

use crate::guard::{blocking, Refused, Signed};
use crate::Shared;

pub mod admin;
pub mod analyses;
pub mod audit;
pub mod dscro;
pub mod finance;
pub mod insight;
pub mod layout;
pub mod outputs;
pub mod risk;
pub mod sign_in;

/// A page handler's result.
pub type Page = Result<Response, Refused>;

/// Renders `body` in the frame for `signed`, with its anti-forgery token.
pub async fn render(state: &Shared, signed: &Signed, title: &str, body: Markup) -> Page {
    let csrf = csrf(state, signed).await?;
    Ok(layout::page(title, Some(&signed.session), Some(&csrf), body).into_response())
}

/// The session's anti-forgery token, for forms in a page body.
pub async fn csrf(state: &Shared, signed: &Signed) -> Result<String, Refused> {
    // No trip to the blocking pool: the session key is read once, then
    // this is one HMAC.
    match state.app.form_token(&signed.token) {
        Ok(t) => Ok(t),
        Err(e) => Err(Refused::from(state, signed, e).await),
    }
}

/// Runs a use case for `signed`; a refusal is audited and answered.
pub async fn call<T: Send + 'static>(
    state: &Shared,
    signed: &Signed,
    f: impl FnOnce(&haven_app::App) -> Result<T, haven_app::AppError> + Send + 'static,
) -> Result<T, Refused> {
    let app = state.app.clone();
    match blocking(move || f(&app)).await {
        Ok(v) => Ok(v),
        Err(e) => Err(Refused::from(state, signed, e).await),
    }
}

/// `GET /`: who is signed in and what their role does here.
pub async fn home(State(state): State<Shared>, signed: Signed) -> Page {
    let links = layout::nav_for(&signed.session);
    let s = &signed.session;
    let body = html! {
        p class="nhsuk-lede-text" {
            "Signed in as " strong { (s.user) } " in the role " strong { (s.role) }
            @if let Some(p) = s.purpose { ", for " strong { (p) } }
            @if let Some(d) = &s.dsa { ", under " strong { (d) } }
            ", until " (haven_store::format_timestamp(s.expires_at)) "."
        }
        ul class="nhsuk-list nhsuk-list--bullet" {
            @for (label, href) in links { li { a href=(href) { (label) } } }
        }
    };
    render(&state, &signed, "Haven", body).await
}
