//! Administration: users (add, disable, unlock, second-factor enrolment or
//! reset, shown once), practices and their GP accounts, every user's API
//! tokens (administrators revoke any), and each user's own tokens.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect};
use axum::Form;
use maud::{html, PreEscaped};
use serde::Deserialize;

use crate::guard::Signed;
use crate::pages::{call, csrf, layout, render, Page};
use crate::Shared;

/// `GET /admin/users`.
pub async fn users(State(state): State<Shared>, signed: Signed) -> Page {
    let users = call(&state, &signed, |app| {
        let list = app.users()?;
        list.into_iter().map(|u| app.mfa_enrolled(&u.name).map(|m| (u, m))).collect::<Result<Vec<_>, _>>()
    })
    .await?;
    let token = csrf(&state, &signed).await?;
    let admin = signed.session.role == haven_governance::dsa::Role::Admin;
    let action = |name: &str, what: &str, label: &str| {
        html! {
            form method="post" action={"/admin/users/" (name) "/" (what)} class="haven-inline" {
                (layout::csrf_field(&token))
                button class="nhsuk-button nhsuk-button--secondary nhsuk-button--small" type="submit" { (label) span class="nhsuk-u-visually-hidden" { " " (name) } }
            }
        }
    };
    let rows: Vec<Vec<maud::Markup>> = users
        .iter()
        .map(|(u, mfa)| {
            vec![
                html! { (u.name) },
                html! { (u.role) },
                html! { (u.practice.as_deref().unwrap_or("-")) },
                html! { @if *mfa { "enrolled" } @else { "none" } },
                html! { @if u.disabled { "disabled" } @else { "active" } },
                html! {
                    @if admin && !u.disabled {
                        (action(&u.name, "mfa", if *mfa { "Reset second factor" } else { "Enrol second factor" }))
                        (action(&u.name, "unlock", "Unlock"))
                        (action(&u.name, "disable", "Disable"))
                    }
                },
            ]
        })
        .collect();
    let body = html! {
        (layout::table("Users", &["Name", "Role", "Practice", "Second factor", "State", "Actions"], &rows))
        @if admin {
            h2 class="nhsuk-heading-m" { "Add a user" }
            form method="post" action="/admin/users" {
                (layout::csrf_field(&token))
                @for (id, label, kind) in [("name", "User name", "text"), ("password", "Initial password (12 characters or more)", "password"), ("practice", "Practice (GP users only)", "text")] {
                    div class="nhsuk-form-group" { label class="nhsuk-label" for=(id) { (label) } input class="nhsuk-input nhsuk-input--width-20" id=(id) name=(id) type=(kind) autocomplete="off"; }
                }
                div class="nhsuk-form-group" {
                    label class="nhsuk-label" for="role" { "Role" }
                    select class="nhsuk-select" id="role" name="role" {
                        @for r in ["analyst", "viewer", "gp", "ceff", "dscro", "auditor", "admin"] { option value=(r) { (r) } }
                    }
                }
                button class="nhsuk-button" type="submit" { "Add user" }
            }
        }
    };
    render(&state, &signed, "Users", body).await
}

/// The add-user form.
#[derive(Deserialize)]
pub struct NewUser {
    name: String,
    role: String,
    password: String,
    #[serde(default)]
    practice: String,
}

/// `POST /admin/users`.
pub async fn add_user(State(state): State<Shared>, signed: Signed, Form(u): Form<NewUser>) -> Page {
    let actor = signed.actor();
    call(&state, &signed, move |app| {
        let practice = Some(u.practice.trim()).filter(|p| !p.is_empty());
        app.add_user(&actor, u.name.trim(), &u.role, practice, &u.password)
    })
    .await?;
    Ok(Redirect::to("/admin/users").into_response())
}

/// `POST /admin/users/{name}/disable`.
pub async fn disable(State(state): State<Shared>, signed: Signed, Path(name): Path<String>) -> Page {
    let actor = signed.actor();
    call(&state, &signed, move |app| app.disable_user(&actor, &name)).await?;
    Ok(Redirect::to("/admin/users").into_response())
}

/// `POST /admin/users/{name}/unlock`.
pub async fn unlock(State(state): State<Shared>, signed: Signed, Path(name): Path<String>) -> Page {
    let actor = signed.actor();
    call(&state, &signed, move |app| app.unlock_user(&actor, &name)).await?;
    Ok(Redirect::to("/admin/users").into_response())
}

/// `POST /admin/users/{name}/mfa`: enrols or resets, and shows the secret
/// and QR code once (to hand to the user in person).
pub async fn mfa(State(state): State<Shared>, signed: Signed, Path(name): Path<String>) -> Page {
    let actor = signed.actor();
    let who = name.clone();
    let e = call(&state, &signed, move |app| app.enrol_mfa(&actor, &who)).await?;
    let body = html! {
        div class="nhsuk-warning-callout" {
            h3 class="nhsuk-warning-callout__label" { "Shown once" }
            p { "Give this to " (name) " in person; it is not shown again. Enrolling again replaces it." }
        }
        p { "Secret to type into an authenticator app: " code { (e.secret_base32) } }
        // The QR code is Haven's own SVG (qrcode crate), not user input.
        div class="haven-qr" role="img" aria-label={"QR code for " (name) "'s authenticator app"} { (PreEscaped(e.qr_svg)) }
        p { a href="/admin/users" { "Back to users" } }
    };
    render(&state, &signed, &format!("Second factor for {name}"), body).await
}

/// `GET /tokens`: the signed-in user's own tokens.
pub async fn tokens(State(state): State<Shared>, signed: Signed) -> Page {
    let user = signed.session.user.clone();
    let tokens = call(&state, &signed, move |app| app.tokens(&user)).await?;
    let token = csrf(&state, &signed).await?;
    let rows: Vec<Vec<maud::Markup>> = tokens
        .iter()
        .map(|t| {
            vec![
                html! { code { (t.handle) } },
                html! { (t.label) },
                html! { (t.role) @if let Some(p) = t.purpose { " · " (p) } @if let Some(d) = &t.dsa { " · " (d) } },
                html! { (haven_store::format_timestamp(t.expires_at)) },
                html! { @if t.revoked { "revoked" } @else { "live" } },
                html! {
                    @if !t.revoked {
                        form method="post" action={"/tokens/" (t.handle) "/revoke"} class="haven-inline" {
                            (layout::csrf_field(&token))
                            button class="nhsuk-button nhsuk-button--secondary nhsuk-button--small" type="submit" { "Revoke" span class="nhsuk-u-visually-hidden" { " " (t.label) } }
                        }
                    }
                },
            ]
        })
        .collect();
    let body = html! {
        p { "A personal token lets a script call the API as you, in this session's role, purpose and agreement, until it expires or you revoke it. Send it as " code { "Authorization: Bearer <token>" } "." }
        (layout::table("Your tokens", &["Handle", "Label", "Scope", "Expires", "State", ""], &rows))
        h2 class="nhsuk-heading-m" { "Make a token" }
        form method="post" action="/tokens" {
            (layout::csrf_field(&token))
            div class="nhsuk-form-group" { label class="nhsuk-label" for="label" { "What it is for" } input class="nhsuk-input nhsuk-input--width-20" id="label" name="label" type="text"; }
            div class="nhsuk-form-group" { label class="nhsuk-label" for="days" { "Days it lasts (1 to 90)" } input class="nhsuk-input nhsuk-input--width-4" id="days" name="days" type="number" min="1" max="90" value="30"; }
            button class="nhsuk-button" type="submit" { "Make token" }
        }
    };
    render(&state, &signed, "API tokens", body).await
}

/// The new-token form.
#[derive(Deserialize)]
pub struct NewToken {
    label: String,
    days: u64,
}

/// `POST /tokens`: shows the token once. Only a signed-in session (not a
/// token) reaches this route: the API has no token-minting endpoint.
pub async fn issue_token(State(state): State<Shared>, signed: Signed, Form(t): Form<NewToken>) -> Page {
    let session = signed.session.clone();
    let (made, token) = call(&state, &signed, move |app| app.issue_token(&session, &t.label, t.days)).await?;
    let body = html! {
        div class="nhsuk-warning-callout" { h3 class="nhsuk-warning-callout__label" { "Shown once" } p { "Copy it now; Haven keeps only a digest." } }
        pre class="haven-pre" id="new-token" { (token) }
        p { "Handle " code { (made.handle) } ", expires " (haven_store::format_timestamp(made.expires_at)) "." }
        p { a href="/tokens" { "Back to your tokens" } }
    };
    render(&state, &signed, "Your new token", body).await
}

/// `POST /tokens/{handle}/revoke`.
pub async fn revoke_token(State(state): State<Shared>, signed: Signed, Path(handle): Path<String>) -> Page {
    let session = signed.session.clone();
    call(&state, &signed, move |app| app.revoke_token(&session, &handle)).await?;
    Ok(Redirect::to("/tokens").into_response())
}

/// `GET /admin/practices`: each practice with its GP accounts and whether
/// the newest released output has its dashboard.
pub async fn practices(State(state): State<Shared>, signed: Signed) -> Page {
    let practices = call(&state, &signed, |app| app.practices()).await?;
    let rows: Vec<Vec<maud::Markup>> = practices
        .iter()
        .map(|p| {
            vec![
                html! { (p.code) },
                html! {
                    @if p.accounts.is_empty() { "none" }
                    @for (name, disabled, mfa) in &p.accounts {
                        (name) @if *disabled { " (disabled)" } @if !*mfa { " (no second factor)" } br;
                    }
                },
                html! { @if p.has_dashboard { "yes" } @else { "no" } },
            ]
        })
        .collect();
    let body = html! {
        p { "GP accounts are bound to one practice (set when the account is added on the Users page); a GP sees only their own practice's dashboard and, under direct care, only their own registered patients." }
        (layout::table("Practices", &["Practice", "GP accounts", "In the newest released output"], &rows))
        p { a href="/admin/users" { "Users" } }
    };
    render(&state, &signed, "Practices", body).await
}

/// `GET /admin/tokens`: every user's personal API tokens; an administrator
/// may revoke any.
pub async fn all_tokens(State(state): State<Shared>, signed: Signed) -> Page {
    let tokens = call(&state, &signed, |app| app.all_tokens()).await?;
    let token = csrf(&state, &signed).await?;
    let admin = signed.session.role == haven_governance::dsa::Role::Admin;
    let rows: Vec<Vec<maud::Markup>> = tokens
        .iter()
        .map(|t| {
            vec![
                html! { (t.user) },
                html! { code { (t.handle) } },
                html! { (t.label) },
                html! { (t.role) @if let Some(p) = t.purpose { " · " (p) } @if let Some(d) = &t.dsa { " · " (d) } },
                html! { (haven_store::format_timestamp(t.expires_at)) },
                html! { (t.last_used_at.map(haven_store::format_timestamp).unwrap_or_else(|| "never".into())) },
                html! { @if t.revoked { "revoked" } @else { "live" } },
                html! {
                    @if admin && !t.revoked {
                        form method="post" action={"/admin/tokens/" (t.user) "/" (t.handle) "/revoke"} class="haven-inline" {
                            (layout::csrf_field(&token))
                            button class="nhsuk-button nhsuk-button--secondary nhsuk-button--small" type="submit" { "Revoke" span class="nhsuk-u-visually-hidden" { " " (t.user) "'s token " (t.handle) } }
                        }
                    }
                },
            ]
        })
        .collect();
    let body = html! { (layout::table("Every personal API token", &["User", "Handle", "Label", "Scope", "Expires", "Last used", "State", ""], &rows)) };
    render(&state, &signed, "API tokens of all users", body).await
}

/// `POST /admin/tokens/{name}/{handle}/revoke`: an administrator revokes
/// another user's token (audited with the owner as target).
pub async fn revoke_any(State(state): State<Shared>, signed: Signed, Path((name, handle)): Path<(String, String)>) -> Page {
    let session = signed.session.clone();
    call(&state, &signed, move |app| app.revoke_token_of(&session, &name, &handle)).await?;
    Ok(Redirect::to("/admin/tokens").into_response())
}
