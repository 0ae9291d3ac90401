//! Administration: users (add, disable, unlock, second-factor enrolment or
//! reset, shown once) and each user's own personal API tokens.

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
