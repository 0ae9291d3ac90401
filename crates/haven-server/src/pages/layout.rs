//! The page frame: the NHS.UK frontend's header, a navigation of what the
//! signed-in role may do (read off the operation table, so a link is shown
//! only where the route would be allowed), the main column and the footer.

use haven_app::operation;
use haven_governance::session::Session;
use maud::{html, Markup, DOCTYPE};

use crate::assets::{CSS, JS};

/// The icons the NHS.UK frontend ships (vendored).
const FAVICON: &str = "/assets/nhsuk-frontend/assets/images/favicon.svg";

/// The navigation: (label, route in the table, link).
const NAV: &[(&str, &str, &str)] = &[
    ("Overview", "GET /overview", "/overview"),
    ("Inequalities", "GET /inequalities", "/inequalities"),
    ("Benchmarking", "GET /benchmarking", "/benchmarking"),
    ("Areas", "GET /areas", "/areas"),
    ("Analyses", "GET /analyses", "/analyses"),
    ("Patients at risk", "GET /risk/patients", "/risk/patients"),
    ("Invoice validation", "GET /finance", "/finance"),
    ("Challenges", "GET /finance/challenges", "/finance/challenges"),
    ("Data quality", "GET /dq", "/dq"),
    ("Outputs for review", "GET /outputs", "/outputs"),
    ("Loads", "GET /loads", "/loads"),
    ("Audit log", "GET /audit", "/audit"),
    ("Agreements", "GET /agreements", "/agreements"),
    ("Retention", "GET /retention", "/retention"),
    ("Users", "GET /admin/users", "/admin/users"),
    ("Practices", "GET /admin/practices", "/admin/practices"),
    ("All tokens", "GET /admin/tokens", "/admin/tokens"),
    ("API tokens", "GET /tokens", "/tokens"),
];

/// The links `session` may follow; a GP's own practice dashboard first.
pub fn nav_for(session: &Session) -> Vec<(&'static str, String)> {
    let allowed = |route: &str| operation::for_route(route).is_some_and(|op| operation::allows(op, route, Some(session)).is_ok());
    let mut links = Vec::new();
    if let (haven_governance::dsa::Role::Gp, Some(p)) = (session.role, session.practice.as_deref()) {
        if allowed("GET /practices/{code}") {
            links.push(("My practice", format!("/practices/{p}")));
        }
    }
    links.extend(NAV.iter().filter(|(_, route, _)| allowed(route)).map(|(label, _, href)| (*label, (*href).to_owned())));
    links
}

/// A whole page. `csrf` is the session's anti-forgery token, for the
/// sign-out form in the header.
pub fn page(title: &str, session: Option<&Session>, csrf: Option<&str>, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " – Haven" }
                link rel="stylesheet" href=(CSS);
                link rel="stylesheet" href="/assets/haven.css";
                link rel="icon" href=(FAVICON) type="image/svg+xml";
            }
            body {
                a class="nhsuk-skip-link" href="#maincontent" { "Skip to main content" }
                header class="nhsuk-header" role="banner" {
                    div class="nhsuk-header__container nhsuk-width-container" {
                        div class="nhsuk-header__service" {
                            a class="nhsuk-header__service-logo" href="/" aria-label="Haven home" {
                                span class="nhsuk-header__service-name" { "Haven" }
                            }
                        }
                        @if let Some(s) = session {
                            p class="haven-whoami" {
                                (s.user) " · " (s.role)
                                @if let Some(p) = s.purpose { " · " (p) }
                                @if let Some(d) = &s.dsa { " · " (d) }
                            }
                            @if let Some(token) = csrf {
                                form method="post" action="/sign-out" class="haven-sign-out" {
                                    input type="hidden" name="csrf" value=(token);
                                    button class="nhsuk-button nhsuk-button--reverse nhsuk-button--small" type="submit" { "Sign out" }
                                }
                            }
                        }
                    }
                    @if let Some(s) = session {
                        nav class="nhsuk-header__navigation" aria-label="Menu" {
                            div class="nhsuk-width-container" {
                                ul class="nhsuk-header__navigation-list" {
                                    @for (label, href) in nav_for(s) {
                                        li class="nhsuk-header__navigation-item" {
                                            a class="nhsuk-header__navigation-link" href=(href) { (label) }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
                div class="nhsuk-width-container" {
                    main class="nhsuk-main-wrapper" id="maincontent" role="main" {
                        h1 class="nhsuk-heading-l" { (title) }
                        (body)
                    }
                }
                footer role="contentinfo" {
                    div class="nhsuk-footer" {
                        div class="nhsuk-width-container" {
                            p class="nhsuk-body-s" { "Haven: governed commissioning analytics. Every figure shown has passed disclosure control; every action is audited." }
                        }
                    }
                }
                script type="module" src=(JS) {}
            }
        }
    }
}

/// A refusal or error, without navigation.
pub fn error_page(title: &str, reason: &str) -> Markup {
    page(
        title,
        None,
        None,
        html! {
            div class="nhsuk-error-summary" aria-labelledby="error-summary-title" role="alert" tabindex="-1" {
                h2 class="nhsuk-error-summary__title" id="error-summary-title" { (title) }
                div class="nhsuk-error-summary__body" { p { (reason) } }
            }
            p { a href="/" { "Back to Haven" } }
        },
    )
}

/// A table of rows of cells, with a caption and header row.
pub fn table(caption: &str, head: &[&str], rows: &[Vec<Markup>]) -> Markup {
    html! {
        table class="nhsuk-table" {
            caption class="nhsuk-table__caption" { (caption) }
            thead class="nhsuk-table__head" {
                tr class="nhsuk-table__row" { @for h in head { th class="nhsuk-table__header" scope="col" { (h) } } }
            }
            tbody class="nhsuk-table__body" {
                @for row in rows {
                    tr class="nhsuk-table__row" { @for cell in row { td class="nhsuk-table__cell" { (cell) } } }
                }
            }
        }
    }
}

/// A hidden anti-forgery field.
pub fn csrf_field(token: &str) -> Markup {
    html! { input type="hidden" name="csrf" value=(token); }
}
