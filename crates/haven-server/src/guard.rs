//! The guard every request passes before its handler: the route's row of
//! the operation table, the session (a cookie for pages, a bearer token for
//! `/api`), the agreement, the anti-forgery token on every form, and an
//! audit entry for every refusal. A handler only ever sees a request the
//! table allows; what it reaches beyond that (another output, another
//! user's token) the application layer refuses, and [`Refused`] audits.

use axum::body::Body;
use axum::extract::{FromRequestParts, MatchedPath, Request, State};
use axum::http::{header, request::Parts, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use haven_app::{operation, Actor, AppError};
use haven_governance::session::Session;

use crate::Shared;

/// The session cookie: `Secure`, `HttpOnly`, `SameSite=Strict`.
pub const SESSION_COOKIE: &str = "haven_session";

/// The sign-in form's own anti-forgery cookie (before there is a session).
pub const SIGN_IN_COOKIE: &str = "haven_sign_in";

/// The form field every form carries its anti-forgery token in.
pub const FORM_FIELD: &str = "csrf";

/// Largest form body the guard reads to check its token.
const MAX_FORM: usize = 64 * 1024;

/// How a request was signed in.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Via {
    /// A page, with the session cookie.
    Cookie,
    /// The API, with `Authorization: Bearer` (a session or personal token).
    Bearer,
}

/// A signed-in request, as the guard verified it.
#[derive(Clone, Debug)]
pub struct Signed {
    pub session: Session,
    pub token: String,
    pub via: Via,
    /// The route (`METHOD /path`), for refusals and audit entries.
    pub route: String,
}

impl Signed {
    /// The actor for the application layer.
    pub fn actor(&self) -> Actor {
        Actor::Signed(self.session.clone())
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Signed {
    type Rejection = StatusCode;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts.extensions.get::<Signed>().cloned().ok_or(StatusCode::UNAUTHORIZED)
    }
}

/// The value of cookie `name` in the request, if any.
pub fn cookie<'a>(headers: &'a axum::http::HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// A `Set-Cookie` value for `name`, always `Secure; HttpOnly;
/// SameSite=Strict`; `max_age` 0 deletes it.
pub fn set_cookie(name: &str, value: &str, max_age: u64) -> HeaderValue {
    HeaderValue::from_str(&format!("{name}={value}; Path=/; Max-Age={max_age}; Secure; HttpOnly; SameSite=Strict")).expect("cookie values are hex")
}

fn bearer(headers: &axum::http::HeaderMap) -> Option<&str> {
    headers.get(header::AUTHORIZATION)?.to_str().ok()?.strip_prefix("Bearer ").map(str::trim)
}

/// The middleware. See the module comment.
pub async fn guard(State(state): State<Shared>, request: Request, next: Next) -> Response {
    let path = request.extensions().get::<MatchedPath>().map(|m| m.as_str().to_owned()).unwrap_or_default();
    let route = format!("{} {path}", request.method());
    let Some(op) = operation::for_route(&route) else {
        // Every served route is in the table (a test walks them); this is
        // the fail-closed answer if one is not.
        return (StatusCode::FORBIDDEN, "this route is not in the access table").into_response();
    };
    let api = path.starts_with("/api/");
    let token = if api { bearer(request.headers()) } else { cookie(request.headers(), SESSION_COOKIE) }.map(str::to_owned);
    // One trip to the blocking pool: verify the session, then the table
    // and the agreement.
    let app = state.app.clone();
    let (check_op, check_route, check_token) = (*op, route.clone(), token.clone());
    let decided = blocking(move || {
        let session = match check_token.map(|t| app.verify(&t)) {
            Some(Ok(s)) => Some(s),
            // A stale cookie on an open page (the sign-in form) is ignored.
            Some(Err(_)) if check_op.need == haven_app::Need::Open => None,
            Some(Err(e)) => return Ok(Decision::Ended(e.to_string())),
            None => None,
        };
        Ok(match app.authorize(&check_op, &check_route, session.as_ref()) {
            Ok(()) => Decision::Allowed(session),
            Err(e) => Decision::Refused(session, e.to_string()),
        })
    })
    .await;
    let session = match decided {
        Ok(Decision::Allowed(session)) => session,
        Ok(Decision::Ended(reason)) => {
            audit_refusal(&state, Actor::Unsigned { account: "unknown-session".into() }, &route, &reason).await;
            return unauthenticated(api, &reason, true);
        }
        Ok(Decision::Refused(None, reason)) => return unauthenticated(api, &reason, false),
        Ok(Decision::Refused(Some(s), reason)) => {
            audit_refusal(&state, Actor::Signed(s), &route, &reason).await;
            return forbidden(api, &reason);
        }
        Err(e) => return forbidden(api, &e.to_string()),
    };
    // Open routes (the sign-in form, assets, the API description) carry
    // their own protection; a signed-in visitor passes as anyone would.
    let (Some(session), Some(token), false) = (session, token, op.need == haven_app::Need::Open) else {
        return next.run(request).await;
    };
    let request = if request.method() == Method::POST && !api {
        match check_form(&state, &token, request).await {
            Ok(r) => r,
            Err(reason) => {
                audit_refusal(&state, Actor::Signed(session), &route, reason).await;
                return forbidden(false, reason);
            }
        }
    } else {
        request
    };
    let mut request = request;
    request.extensions_mut().insert(Signed { session, token, via: if api { Via::Bearer } else { Via::Cookie }, route });
    next.run(request).await
}

/// Reads a form's body to check its anti-forgery token, then hands the
/// same bytes on.
async fn check_form(state: &Shared, token: &str, request: Request) -> Result<Request, &'static str> {
    let (parts, body) = request.into_parts();
    let bytes = axum::body::to_bytes(body, MAX_FORM).await.map_err(|_| "the form is too large")?;
    let given = form_field(&bytes, FORM_FIELD).ok_or("the form has no anti-forgery token")?;
    match state.app.form_token_matches(token, &given) {
        Ok(true) => Ok(Request::from_parts(parts, Body::from(bytes))),
        _ => Err("the form's anti-forgery token is not this session's"),
    }
}

/// One field of an `application/x-www-form-urlencoded` body.
pub fn form_field(body: &[u8], name: &str) -> Option<String> {
    serde_urlencoded::from_bytes::<Vec<(String, String)>>(body).ok()?.into_iter().find(|(k, _)| k == name).map(|(_, v)| v)
}

/// What the guard decided about a request's session and route.
enum Decision {
    /// The table and agreement allow it (with the session, if any).
    Allowed(Option<Session>),
    /// The session presented no longer works (expired, idle, revoked,
    /// forged, its user disabled).
    Ended(String),
    /// The table or agreement refuses it.
    Refused(Option<Session>, String),
}

fn unauthenticated(api: bool, reason: &str, ended: bool) -> Response {
    if api {
        return (StatusCode::UNAUTHORIZED, axum::Json(serde_json::json!({"error": "unauthenticated", "reason": reason}))).into_response();
    }
    // A page whose session stopped working is told so on the sign-in form.
    let to = if ended { "/sign-in?ended" } else { "/sign-in" };
    let mut r = Redirect::to(to).into_response();
    r.headers_mut().append(header::SET_COOKIE, set_cookie(SESSION_COOKIE, "", 0));
    r
}

fn forbidden(api: bool, reason: &str) -> Response {
    if api {
        return (StatusCode::FORBIDDEN, axum::Json(serde_json::json!({"error": "refused", "reason": reason}))).into_response();
    }
    (StatusCode::FORBIDDEN, crate::pages::layout::error_page("Refused", reason)).into_response()
}

async fn audit_refusal(state: &Shared, actor: Actor, route: &str, reason: &str) {
    let app = state.app.clone();
    let (route, reason) = (route.to_owned(), reason.to_owned());
    // A refusal that cannot be audited is still refused.
    let _ = blocking(move || app.audit_refusal(&actor, &route, &reason)).await;
}

/// Runs a blocking use case (SQLite, files) off the async workers.
pub async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T, AppError> + Send + 'static) -> Result<T, AppError> {
    tokio::task::spawn_blocking(f).await.unwrap_or_else(|e| Err(AppError::Invalid(format!("the request's worker failed: {e}"))))
}

/// A use case's refusal of what a handler asked for (another output, a
/// file not released): audited, then answered 403 (404 for what does not
/// exist). Every handler's errors go through this.
pub struct Refused {
    pub status: StatusCode,
    pub message: String,
    pub api: bool,
}

impl Refused {
    /// Turns a use case's error into a response, auditing a refusal.
    pub async fn from(state: &Shared, signed: &Signed, e: AppError) -> Refused {
        let status = match &e {
            e if e.is_refusal() => StatusCode::FORBIDDEN,
            AppError::NotFound(_) => StatusCode::NOT_FOUND,
            AppError::Invalid(_) => StatusCode::BAD_REQUEST,
            AppError::Busy(_) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Governance(haven_governance::GovernanceError::User(_)) => StatusCode::BAD_REQUEST,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        let message = e.to_string();
        if status == StatusCode::FORBIDDEN || status == StatusCode::NOT_FOUND {
            audit_refusal(state, signed.actor(), &signed.route, &message).await;
        }
        Refused { status, message, api: signed.via == Via::Bearer }
    }
}

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        if self.api {
            return (self.status, axum::Json(serde_json::json!({"error": self.status.canonical_reason(), "reason": self.message}))).into_response();
        }
        (self.status, crate::pages::layout::error_page(self.status.canonical_reason().unwrap_or("Error"), &self.message)).into_response()
    }
}

/// Response headers on everything: no framing, no sniffing, no referrer, a
/// strict content security policy (no inline script; charts are images),
/// and nothing cached but the static assets.
pub async fn headers(request: Request, next: Next) -> Response {
    let is_asset = request.uri().path().starts_with("/assets/");
    let mut r = next.run(request).await;
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"),
    );
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    if !is_asset {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    r
}
