//! Who is acting: a verified session, or (for the few open and bootstrap
//! commands) the operating-system account at the host, marked as such.

use haven_governance::audit::Event;
use haven_governance::session::Session;

/// The authenticated party a use case runs for.
#[derive(Clone, Debug, PartialEq)]
pub enum Actor {
    /// A signed-in user (a web session, an API token or `HAVEN_SESSION`).
    Signed(Session),
    /// No session: an open command, or the bootstrap on a fresh store, run
    /// by this operating-system account.
    Unsigned { account: String },
}

impl Actor {
    /// The operating-system account running this process, unsigned.
    pub fn host() -> Actor {
        Actor::Unsigned { account: std::env::var("USER").unwrap_or_else(|_| "unknown".into()) }
    }

    /// The session, when signed in.
    pub fn session(&self) -> Option<&Session> {
        match self {
            Actor::Signed(s) => Some(s),
            Actor::Unsigned { .. } => None,
        }
    }

    /// The name the audit log records.
    pub fn name(&self) -> String {
        match self {
            Actor::Signed(s) => s.user.clone(),
            Actor::Unsigned { account } => format!("unsigned:{account}"),
        }
    }

    /// An audit event by this actor, in the session's role, purpose and
    /// agreement when there is one (the arguments say what the action is
    /// for otherwise).
    #[allow(clippy::too_many_arguments)]
    pub fn event(&self, role: &str, purpose: &str, dsa: &str, action: &str, target: &str, outcome: &str, detail: serde_json::Value) -> Event {
        let s = self.session();
        Event {
            actor: self.name(),
            role: s.map_or(role, |s| s.role.name()).into(),
            purpose: s.and_then(|s| s.purpose).map_or(purpose, |p| p.name()).into(),
            dsa: if dsa.is_empty() { s.and_then(|s| s.dsa.as_deref()).unwrap_or("") } else { dsa }.into(),
            action: action.into(),
            target: target.into(),
            outcome: outcome.into(),
            detail: detail.to_string(),
        }
    }
}
