//! Sign-in and sign-out. The sign-in form carries its own anti-forgery
//! token (a random value in a `SameSite=Strict` cookie and in the form), so
//! another site cannot sign a browser in as someone else; remote sign-in
//! needs the second factor (`haven_app::sign_in::Channel::Remote`).

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use haven_app::sign_in::{Channel, Request};
use maud::html;
use serde::Deserialize;

use crate::guard::{blocking, cookie, set_cookie, Signed, SESSION_COOKIE, SIGN_IN_COOKIE};
use crate::pages::layout;
use crate::Shared;

/// Hours a web session lasts (an idle half hour ends it sooner).
pub const WEB_SESSION_HOURS: u64 = 8;

fn random_hex() -> String {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b).expect("the operating system's random source");
    haven_store::hex(&b)
}

/// `GET /sign-in`, or `/sign-in?ended` after a session ended (expired,
/// idle, revoked or its user disabled): the page says so in fixed words
/// (nothing from the query is shown).
pub async fn form(uri: axum::http::Uri) -> Response {
    let token = random_hex();
    let ended = uri.query().is_some_and(|q| q.split('&').any(|p| p == "ended"));
    let mut r = sign_in_page(&token, ended.then_some("Your session has ended (it expired, was left idle, or was stopped). Sign in again."), StatusCode::OK);
    r.headers_mut().append(header::SET_COOKIE, set_cookie(SIGN_IN_COOKIE, &token, 3600));
    r
}

fn sign_in_page(token: &str, error: Option<&str>, status: StatusCode) -> Response {
    let field = |id: &str, label: &str, kind: &str, autocomplete: &str, hint: Option<&str>| {
        html! {
            div class="nhsuk-form-group" {
                label class="nhsuk-label" for=(id) { (label) }
                @if let Some(h) = hint { div class="nhsuk-hint" id={(id) "-hint"} { (h) } }
                input class="nhsuk-input nhsuk-input--width-20" id=(id) name=(id) type=(kind) autocomplete=(autocomplete) spellcheck="false";
            }
        }
    };
    let body = html! {
        @if let Some(e) = error {
            div class="nhsuk-error-summary" aria-labelledby="error-summary-title" role="alert" tabindex="-1" {
                h2 class="nhsuk-error-summary__title" id="error-summary-title" { "Sign-in refused" }
                div class="nhsuk-error-summary__body" { p { (e) } }
            }
        }
        form method="post" action="/sign-in" novalidate {
            input type="hidden" name="csrf" value=(token);
            (field("user", "User name", "text", "username", None))
            (field("password", "Password", "password", "current-password", None))
            (field("code", "Code from your authenticator app", "text", "one-time-code", Some("Six digits; it changes every 30 seconds.")))
            (field("dsa", "Data Sharing Agreement", "text", "off", Some("For analysis, GP and finance work, e.g. DSA-HAVEN-DEMO. Leave empty for review, audit and administration.")))
            div class="nhsuk-form-group" {
                label class="nhsuk-label" for="purpose" { "Purpose" }
                select class="nhsuk-select" id="purpose" name="purpose" {
                    option value="" { "None (review, audit, administration)" }
                    @for p in ["commissioning", "population_health_benchmarking", "risk_stratification", "direct_care", "invoice_validation"] {
                        option value=(p) { (p) }
                    }
                }
            }
            button class="nhsuk-button" type="submit" { "Sign in" }
        }
    };
    (status, layout::page("Sign in", None, None, body)).into_response()
}

/// The sign-in form's fields.
#[derive(Deserialize)]
pub struct SignInForm {
    csrf: String,
    user: String,
    password: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    purpose: String,
    #[serde(default)]
    dsa: String,
}

/// `POST /sign-in`.
pub async fn submit(State(state): State<Shared>, headers: axum::http::HeaderMap, Form(f): Form<SignInForm>) -> Response {
    let expected = cookie(&headers, SIGN_IN_COOKIE).unwrap_or_default().to_owned();
    if expected.is_empty() || expected != f.csrf {
        let token = random_hex();
        let mut r = sign_in_page(&token, Some("The form expired or did not come from this site; sign in again."), StatusCode::FORBIDDEN);
        r.headers_mut().append(header::SET_COOKIE, set_cookie(SIGN_IN_COOKIE, &token, 3600));
        return r;
    }
    let app = state.app.clone();
    let result = blocking(move || {
        let req = Request {
            user: &f.user,
            password: &f.password,
            code: Some(f.code.trim()),
            purpose: Some(f.purpose.as_str()),
            dsa: Some(f.dsa.trim()),
            hours: WEB_SESSION_HOURS,
            channel: Channel::Remote,
        };
        app.sign_in(&req)
    })
    .await;
    match result {
        Ok((_, token)) => {
            let mut r = Redirect::to("/").into_response();
            r.headers_mut().append(header::SET_COOKIE, set_cookie(SESSION_COOKIE, &token, WEB_SESSION_HOURS * 3600));
            r.headers_mut().append(header::SET_COOKIE, set_cookie(SIGN_IN_COOKIE, "", 0));
            r
        }
        Err(e) => {
            let token = random_hex();
            let mut r = sign_in_page(&token, Some(&e.to_string()), StatusCode::UNAUTHORIZED);
            r.headers_mut().append(header::SET_COOKIE, set_cookie(SIGN_IN_COOKIE, &token, 3600));
            r
        }
    }
}

/// `POST /sign-out`.
pub async fn sign_out(State(state): State<Shared>, signed: Signed) -> Response {
    let app = state.app.clone();
    let _ = blocking(move || app.sign_out(&signed.token)).await;
    let mut r = Redirect::to("/sign-in").into_response();
    r.headers_mut().append(header::SET_COOKIE, set_cookie(SESSION_COOKIE, "", 0));
    r
}
