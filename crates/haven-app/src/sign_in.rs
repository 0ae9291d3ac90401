//! Sign-in, sign-out and personal API tokens, each audited: the one place
//! the CLI's `haven login` and the web app's sign-in page both call.

use haven_governance::dsa::Purpose;
use haven_governance::mfa::Mfa;
use haven_governance::session::{ApiToken, Session, Sessions, SignIn};
use haven_governance::users::Users;

use crate::{today, Actor, App, AppError};

/// Where a sign-in comes from.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Channel {
    /// `haven login` at the host, by an account with file access.
    Host,
    /// The web app or the API, over the network: a second factor is
    /// required (issue 16 §2: remote access to this data requires MFA).
    Remote,
}

/// What a sign-in asks for.
#[derive(Clone, Debug)]
pub struct Request<'a> {
    pub user: &'a str,
    pub password: &'a str,
    pub code: Option<&'a str>,
    pub purpose: Option<&'a str>,
    pub dsa: Option<&'a str>,
    pub hours: u64,
    pub channel: Channel,
}

impl App {
    /// Checks the agreement, the password, the second factor and the
    /// lock-out, then opens a session; audits `session.login` (and
    /// `session.lockout` when the account is or becomes locked). Returns the
    /// session and its token, which is never audited or logged.
    pub fn sign_in(&self, req: &Request) -> Result<(Session, String), AppError> {
        let result = self.try_sign_in(req);
        let detail = match &result {
            Ok((s, _)) => serde_json::json!({"expires_at": haven_store::format_timestamp(s.expires_at), "channel": channel_name(req.channel)}),
            Err(e) => serde_json::json!({"reason": e.to_string(), "channel": channel_name(req.channel)}),
        };
        let unsigned = Actor::Unsigned { account: String::new() };
        let mut e = unsigned.event("", req.purpose.unwrap_or(""), req.dsa.unwrap_or(""), "session.login", req.user, if result.is_ok() { "ok" } else { "refused" }, detail);
        e.actor = req.user.to_owned();
        if let Ok((s, _)) = &result {
            e.role = s.role.name().into();
        }
        self.audit(e)?;
        if let Err(err) = &result {
            if err.is_lockout() {
                let mut lock = unsigned.event("", "", "", "session.lockout", req.user, "refused", serde_json::json!({"reason": err.to_string()}));
                lock.actor = req.user.to_owned();
                self.audit(lock)?;
            }
        }
        result
    }

    fn try_sign_in(&self, req: &Request) -> Result<(Session, String), AppError> {
        let purpose: Option<Purpose> = req.purpose.filter(|p| !p.is_empty()).map(str::parse).transpose()?;
        let dsa = req.dsa.filter(|d| !d.is_empty());
        let users = Users::open(&self.data)?;
        if let Some(id) = dsa {
            let account = users.get(req.user)?;
            let terms = self.dsa(id)?;
            match (purpose, account) {
                (Some(p), Some(u)) => terms.check(today(), p, u.role).map(|_| ())?,
                _ => terms.in_force(today())?,
            }
        }
        let key = self.session_key(true)?;
        let mut sessions = Sessions::open(&self.data)?;
        let ask = SignIn { user: req.user, password: req.password, purpose, dsa, hours: req.hours, code: req.code.filter(|c| !c.is_empty()) };
        let (session, token) = sessions.sign_in(&users, key, &ask, haven_governance::session::now())?;
        if req.channel == Channel::Remote && !Mfa::open(&self.data)?.is_enrolled(&session.user)? {
            // The password was right; the session is closed at once rather
            // than left open without a second factor.
            sessions.sign_out(key, &token, haven_governance::session::now())?;
            return Err(AppError::Refused(format!(
                "{} has no second factor; remote access needs one (an administrator enrols it with `haven users mfa {}`)",
                session.user, session.user
            )));
        }
        Ok((session, token))
    }

    /// Ends the session a token stands for; audits `session.logout`.
    pub fn sign_out(&self, token: &str) -> Result<(), AppError> {
        let who = self.verify(token).ok();
        let key = self.session_key(false)?;
        let result = Sessions::open(&self.data)?.sign_out(key, token, haven_governance::session::now());
        let actor = who.map_or_else(Actor::host, Actor::Signed);
        self.audit(actor.event("", "", "", "session.logout", "-", if result.is_ok() { "ok" } else { "refused" }, serde_json::json!({})))?;
        Ok(result?)
    }

    /// Issues a personal API token in the signed-in user's own role,
    /// purpose and agreement; audited `token.issue` (the token itself never
    /// is). A token cannot mint another: only a session made by signing in.
    pub fn issue_token(&self, actor: &Session, label: &str, days: u64) -> Result<(ApiToken, String), AppError> {
        let key = self.session_key(false)?;
        let result = Sessions::open(&self.data)?.issue_token(key, actor, label, days, haven_governance::session::now());
        let detail = match &result {
            Ok((t, _)) => serde_json::json!({"handle": t.handle, "label": t.label, "expires_at": haven_store::format_timestamp(t.expires_at)}),
            Err(e) => serde_json::json!({"reason": e.to_string()}),
        };
        let signed = Actor::Signed(actor.clone());
        self.audit(signed.event("", "", "", "token.issue", &actor.user, if result.is_ok() { "ok" } else { "refused" }, detail))?;
        Ok(result?)
    }

    /// `user`'s personal API tokens (never the tokens themselves).
    pub fn tokens(&self, user: &str) -> Result<Vec<ApiToken>, AppError> {
        Ok(Sessions::open(&self.data)?.tokens(user)?)
    }

    /// Every user's personal API tokens, for administrators (never the
    /// tokens themselves).
    pub fn all_tokens(&self) -> Result<Vec<ApiToken>, AppError> {
        Ok(Sessions::open(&self.data)?.all_tokens()?)
    }

    /// Revokes one of the actor's own tokens; audited `token.revoke`.
    pub fn revoke_token(&self, actor: &Session, handle: &str) -> Result<(), AppError> {
        self.revoke_token_of(actor, &actor.user, handle)
    }

    /// Revokes `owner`'s token `handle`: one's own, or anyone's for an
    /// administrator (the table lets only administrators reach the route
    /// that names another owner; this checks again). Audited
    /// `token.revoke` with the owner as target.
    pub fn revoke_token_of(&self, actor: &Session, owner: &str, handle: &str) -> Result<(), AppError> {
        let result = if owner != actor.user && actor.role != haven_governance::dsa::Role::Admin {
            Err(AppError::Refused(format!("{} may revoke only their own tokens", actor.user)))
        } else {
            Sessions::open(&self.data)?.revoke_token(owner, handle, haven_governance::session::now()).map_err(AppError::from)
        };
        let detail = match &result {
            Ok(()) => serde_json::json!({"handle": handle}),
            Err(e) => serde_json::json!({"handle": handle, "reason": e.to_string()}),
        };
        let signed = Actor::Signed(actor.clone());
        self.audit(signed.event("", "", "", "token.revoke", owner, if result.is_ok() { "ok" } else { "refused" }, detail))?;
        result
    }
}

fn channel_name(c: Channel) -> &'static str {
    match c {
        Channel::Host => "host",
        Channel::Remote => "remote",
    }
}
