//! Sign-in sessions: how a grant crosses process boundaries.
//!
//! An [`crate::grant::AccessGrant`] lives only inside one process. A person
//! using the CLI (and later the web app) signs in once with their password
//! and gets a *session token* naming a (user, role, purpose, DSA) for a few
//! hours. The token is `hv1.<id>.<mac>`: a random 128-bit id and its
//! HMAC-SHA-256 under a session key held outside the data directory, so a
//! token cannot be forged without the key, and one minted by another
//! deployment is refused. The metadata database keeps only the SHA-256 of
//! the id with the session's terms, so someone who can read the database
//! still cannot present a session. Every use re-checks the database: a token
//! used after it expired, after `logout` revoked it, or after its user was
//! disabled or changed role (a replay) is refused with the reason.

use std::path::Path;

use hmac::{Hmac, Mac};
use rusqlite::{params, OptionalExtension};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::dsa::{Purpose, Role};
use crate::error::GovernanceError;
use crate::users::Users;

/// Longest session a sign-in may ask for, in hours (a working day and a bit).
pub const MAX_HOURS: u64 = 12;

/// A session unused for this long is refused (issue 16 §2: idle expiry
/// beside the absolute one): 30 minutes, the usual bound for sessions on
/// health data (the NHS DSPT asks for screens to lock when left).
pub const IDLE_SECONDS: u64 = 30 * 60;

/// How finely a session's last use is recorded, in seconds.
const USE_GRAIN_SECONDS: u64 = 60;

/// The file in the keys folder that holds the session key.
pub const KEY_FILE: &str = "session.key";

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS sessions (
    id_sha256 TEXT PRIMARY KEY,
    user TEXT NOT NULL,
    role TEXT NOT NULL,
    purpose TEXT,
    dsa TEXT,
    issued_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    revoked_at INTEGER,
    last_used_at INTEGER
);
";

/// Longest a personal API token may live, in days (issue 16 §2: tokens for
/// scripts have an expiry; a quarter keeps a forgotten one from living on).
pub const MAX_TOKEN_DAYS: u64 = 90;

/// The secret that signs session tokens (32 random bytes).
pub struct SessionKey([u8; 32]);

/// Never shows the key.
impl std::fmt::Debug for SessionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionKey(..)")
    }
}

impl SessionKey {
    /// The key from `HAVEN_SESSION_KEY` (64 hex digits) if set, else from
    /// `<keys-dir>/session.key`, created (mode 0600) on first use.
    pub fn load_or_create(keys_dir: &Path) -> Result<SessionKey, GovernanceError> {
        if let Ok(hex) = std::env::var("HAVEN_SESSION_KEY") {
            return SessionKey::from_hex(hex.trim())
                .ok_or_else(|| GovernanceError::Refused("HAVEN_SESSION_KEY must be 64 hex digits".into()));
        }
        let path = keys_dir.join(KEY_FILE);
        let io = |source| GovernanceError::Io { path: path.display().to_string(), source };
        match std::fs::read(&path) {
            Ok(bytes) => <[u8; 32]>::try_from(bytes.as_slice())
                .map(SessionKey)
                .map_err(|_| GovernanceError::Refused(format!("{} is not a 32-byte session key", path.display()))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut key = [0u8; 32];
                getrandom::fill(&mut key).map_err(|e| GovernanceError::Refused(format!("no randomness for a key: {e}")))?;
                std::fs::create_dir_all(keys_dir).map_err(io)?;
                write_private(&path, &key).map_err(io)?;
                Ok(SessionKey(key))
            }
            Err(e) => Err(io(e)),
        }
    }

    /// The key only if it already exists: commands other than sign-in never
    /// create one, so a missing key file is a clear refusal.
    pub fn load(keys_dir: &Path) -> Result<SessionKey, GovernanceError> {
        if std::env::var_os("HAVEN_SESSION_KEY").is_some() || keys_dir.join(KEY_FILE).exists() {
            return SessionKey::load_or_create(keys_dir);
        }
        Err(GovernanceError::Refused(format!(
            "no session key in {} (sign in with `haven login` first)",
            keys_dir.display()
        )))
    }

    fn from_hex(s: &str) -> Option<SessionKey> {
        unhex(s).and_then(|v| <[u8; 32]>::try_from(v).ok()).map(SessionKey)
    }

    /// The anti-forgery token of the web session `token`: an HMAC of it
    /// under the session key, in a separate domain from session MACs. Forms
    /// carry it; a cross-site page cannot read it, and it needs no storage.
    pub fn form_token(&self, token: &str) -> String {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.0).expect("HMAC takes any key length");
        mac.update(b"haven-form-v1:");
        mac.update(token.as_bytes());
        haven_store::hex(&mac.finalize().into_bytes())
    }

    fn mac(&self, id: &[u8]) -> Hmac<Sha256> {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.0).expect("HMAC takes any key length");
        mac.update(b"haven-session-v1:");
        mac.update(id);
        mac
    }
}

#[cfg(unix)]
pub(crate) fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

#[cfg(not(unix))]
pub(crate) fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::write(path, bytes)
}

/// A verified sign-in: who, in which role, for which purpose and agreement.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Session {
    pub user: String,
    pub role: Role,
    /// The purpose the user signed in for; administration and audit work
    /// has none.
    pub purpose: Option<Purpose>,
    /// The Data Sharing Agreement the work runs under.
    pub dsa: Option<String>,
    /// The practice a GP is bound to.
    pub practice: Option<String>,
    /// Seconds since 1970 when the session ends.
    pub expires_at: u64,
}

/// What a sign-in asks for.
pub struct SignIn<'a> {
    pub user: &'a str,
    pub password: &'a str,
    pub purpose: Option<Purpose>,
    pub dsa: Option<&'a str>,
    pub hours: u64,
    /// The one-time code, for a user with a second factor (`crate::mfa`).
    pub code: Option<&'a str>,
}

/// The sessions table of one data directory.
pub struct Sessions {
    conn: crate::pool::CatalogConn,
}

impl Sessions {
    /// Opens the table in `<data-dir>/catalog.sqlite`.
    pub fn open(data_dir: &Path) -> Result<Sessions, GovernanceError> {
        let conn = crate::open_catalog(data_dir, SCHEMA)?;
        // Catalogs made before idle expiry and API tokens lack the columns.
        for (column, ty) in [("last_used_at", "INTEGER"), ("kind", "TEXT NOT NULL DEFAULT 'session'"), ("label", "TEXT")] {
            let has: bool = conn.query_row("SELECT COUNT(*) > 0 FROM pragma_table_info('sessions') WHERE name = ?1", [column], |r| r.get(0))?;
            if !has {
                conn.execute_batch(&format!("ALTER TABLE sessions ADD COLUMN {column} {ty}"))?;
            }
        }
        Ok(Sessions { conn })
    }

    /// Checks the password and records a new session; returns it with its
    /// token. The caller checks the agreement before calling (it knows the
    /// DSA folder); this checks the account.
    pub fn sign_in(&mut self, users: &Users, key: &SessionKey, req: &SignIn, now: u64) -> Result<(Session, String), GovernanceError> {
        if req.hours == 0 || req.hours > MAX_HOURS {
            return Err(GovernanceError::Refused(format!("a session lasts 1 to {MAX_HOURS} hours, not {}", req.hours)));
        }
        if req.purpose.is_some() && req.dsa.is_none() {
            return Err(GovernanceError::Refused("a purpose needs the Data Sharing Agreement it runs under (--dsa)".into()));
        }
        crate::lockout::check(&self.conn, req.user, now)?;
        let checked = users.authenticate(req.user, req.password).and_then(|a| crate::mfa::check_sign_in(&self.conn, &a.name, req.code, now).map(|()| a));
        let account = match checked {
            Ok(a) => {
                crate::lockout::succeeded(&self.conn, &a.name)?;
                a
            }
            Err(e) if crate::lockout::failed(&self.conn, req.user, now)? => {
                let minutes = crate::lockout::LOCK_SECONDS / 60;
                return Err(GovernanceError::Locked(format!("{}; the account is now locked for {minutes} minutes", e.to_string().trim_start_matches("refused: "))));
            }
            Err(e) => return Err(e),
        };
        let mut id = [0u8; 16];
        getrandom::fill(&mut id).map_err(|e| GovernanceError::Refused(format!("no randomness for a session: {e}")))?;
        let expires_at = now + req.hours * 3600;
        self.conn.execute(
            "INSERT INTO sessions (id_sha256, user, role, purpose, dsa, issued_at, expires_at, last_used_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?6)",
            params![id_digest(&id), account.name, account.role.name(), req.purpose.map(|p| p.name()), req.dsa, now as i64, expires_at as i64],
        )?;
        let token = format!("hv1.{}.{}", haven_store::hex(&id), haven_store::hex(&key.mac(&id).finalize().into_bytes()));
        let session = Session {
            user: account.name,
            role: account.role,
            purpose: req.purpose,
            dsa: req.dsa.map(str::to_owned),
            practice: account.practice,
            expires_at,
        };
        Ok((session, token))
    }

    /// The session a token stands for, if it is genuine, unexpired, not
    /// revoked, and its user is still enabled in the same role.
    pub fn verify(&self, users: &Users, key: &SessionKey, token: &str, now: u64) -> Result<Session, GovernanceError> {
        let id = authentic_id(key, token)?;
        let row = self
            .conn
            .query_row(
                "SELECT user, role, purpose, dsa, expires_at, revoked_at, CASE kind WHEN 'api' THEN NULL ELSE last_used_at END FROM sessions WHERE id_sha256 = ?1",
                [id_digest(&id)],
                |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, Option<String>>(2)?,
                        r.get::<_, Option<String>>(3)?,
                        r.get::<_, i64>(4)?,
                        r.get::<_, Option<i64>>(5)?,
                        r.get::<_, Option<i64>>(6)?,
                    ))
                },
            )
            .optional()?
            .ok_or_else(|| GovernanceError::Refused("session unknown to this data directory".into()))?;
        let (user, role, purpose, dsa, expires_at, revoked_at, last_used_at) = row;
        if revoked_at.is_some() {
            return Err(GovernanceError::Refused("session was signed out or the token revoked; sign in again".into()));
        }
        if now >= expires_at as u64 {
            return Err(GovernanceError::Refused(format!("session expired at {}; sign in again", haven_store::format_timestamp(expires_at as u64))));
        }
        if let Some(last) = last_used_at.map(|t| t as u64).filter(|t| now > t + IDLE_SECONDS) {
            return Err(GovernanceError::Refused(format!(
                "session was idle for more than {} minutes (last used {}); sign in again",
                IDLE_SECONDS / 60,
                haven_store::format_timestamp(last)
            )));
        }
        let role: Role = role.parse()?;
        let account = users.get(&user)?.ok_or_else(|| GovernanceError::Refused(format!("no user {user}")))?;
        if account.disabled {
            return Err(GovernanceError::Refused(format!("user {user} is disabled")));
        }
        if account.role != role {
            return Err(GovernanceError::Refused(format!("user {user} now holds role {}, not {role}; sign in again", account.role)));
        }
        let purpose = purpose.map(|p| p.parse()).transpose()?;
        // A use is recorded at most once a minute: the idle bound needs no
        // finer grain, and 50 clients must not queue on the catalog's writer.
        self.conn.execute(
            "UPDATE sessions SET last_used_at = ?2 WHERE id_sha256 = ?1 AND COALESCE(last_used_at, 0) <= ?2 - ?3",
            params![id_digest(&id), now as i64, USE_GRAIN_SECONDS as i64],
        )?;
        Ok(Session { user, role, purpose, dsa, practice: account.practice, expires_at: expires_at as u64 })
    }

    /// Ends the session a token stands for; later use is refused.
    pub fn sign_out(&mut self, key: &SessionKey, token: &str, now: u64) -> Result<(), GovernanceError> {
        let id = authentic_id(key, token)?;
        let n = self.conn.execute(
            "UPDATE sessions SET revoked_at = ?2 WHERE id_sha256 = ?1 AND revoked_at IS NULL",
            params![id_digest(&id), now as i64],
        )?;
        if n == 0 {
            return Err(GovernanceError::Refused("no open session for this token".into()));
        }
        Ok(())
    }
}

/// A personal API token as its owner sees it: never the token itself,
/// which is shown once when it is made.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ApiToken {
    /// A public handle: the first 12 hex digits of the digest the table
    /// keeps (not the token's id, which stays secret).
    pub handle: String,
    pub user: String,
    pub role: Role,
    pub purpose: Option<Purpose>,
    pub dsa: Option<String>,
    pub label: String,
    pub issued_at: u64,
    pub expires_at: u64,
    pub revoked: bool,
    pub last_used_at: Option<u64>,
}

impl Sessions {
    /// Issues a personal API token for the signed-in `owner`, in the
    /// session's own role, purpose and agreement (a token never widens what
    /// its maker holds), lasting `days` (1 to [`MAX_TOKEN_DAYS`]). It is a
    /// session of kind `api`: verified, revoked and audited like one, with
    /// no idle expiry (scripts run weekly).
    pub fn issue_token(&mut self, key: &SessionKey, owner: &Session, label: &str, days: u64, now: u64) -> Result<(ApiToken, String), GovernanceError> {
        if days == 0 || days > MAX_TOKEN_DAYS {
            return Err(GovernanceError::Refused(format!("a token lasts 1 to {MAX_TOKEN_DAYS} days, not {days}")));
        }
        let label = label.trim();
        if label.is_empty() || label.len() > 80 || label.chars().any(char::is_control) {
            return Err(GovernanceError::Refused("a token needs a label of 1 to 80 printable characters".into()));
        }
        let mut id = [0u8; 16];
        getrandom::fill(&mut id).map_err(|e| GovernanceError::Refused(format!("no randomness for a token: {e}")))?;
        let expires_at = (now + days * 86_400).min(now + MAX_TOKEN_DAYS * 86_400);
        self.conn.execute(
            "INSERT INTO sessions (id_sha256, user, role, purpose, dsa, issued_at, expires_at, kind, label) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'api', ?8)",
            params![id_digest(&id), owner.user, owner.role.name(), owner.purpose.map(|p| p.name()), owner.dsa, now as i64, expires_at as i64, label],
        )?;
        let token = format!("hv1.{}.{}", haven_store::hex(&id), haven_store::hex(&key.mac(&id).finalize().into_bytes()));
        let handle = id_digest(&id)[..12].to_owned();
        let made = self.tokens(&owner.user)?.into_iter().find(|t| t.handle == handle).ok_or_else(|| GovernanceError::Refused("the token was not recorded".into()))?;
        Ok((made, token))
    }

    /// `user`'s API tokens, newest first.
    pub fn tokens(&self, user: &str) -> Result<Vec<ApiToken>, GovernanceError> {
        self.tokens_of(Some(user))
    }

    /// Every user's personal API tokens (for administrators), newest first.
    pub fn all_tokens(&self) -> Result<Vec<ApiToken>, GovernanceError> {
        self.tokens_of(None)
    }

    fn tokens_of(&self, user: Option<&str>) -> Result<Vec<ApiToken>, GovernanceError> {
        let mut stmt = self.conn.prepare(
            "SELECT substr(id_sha256, 1, 12), user, role, purpose, dsa, COALESCE(label, ''), issued_at, expires_at, revoked_at IS NOT NULL, last_used_at
             FROM sessions WHERE kind = 'api' AND (?1 IS NULL OR user = ?1) ORDER BY issued_at DESC, id_sha256",
        )?;
        let rows = stmt.query_map([user], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, Option<String>>(3)?,
                r.get::<_, Option<String>>(4)?,
                r.get::<_, String>(5)?,
                r.get::<_, i64>(6)?,
                r.get::<_, i64>(7)?,
                r.get::<_, bool>(8)?,
                r.get::<_, Option<i64>>(9)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (handle, user, role, purpose, dsa, label, issued_at, expires_at, revoked, last_used_at) = row?;
            out.push(ApiToken {
                handle,
                user,
                role: role.parse()?,
                purpose: purpose.map(|p| p.parse()).transpose()?,
                dsa,
                label,
                issued_at: issued_at as u64,
                expires_at: expires_at as u64,
                revoked,
                last_used_at: last_used_at.map(|t| t as u64),
            });
        }
        Ok(out)
    }

    /// Revokes `user`'s token with this handle (an administrator passes
    /// the owner's name); later use is refused.
    pub fn revoke_token(&mut self, user: &str, handle: &str, now: u64) -> Result<(), GovernanceError> {
        if handle.len() != 12 || !handle.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(GovernanceError::Refused("a token handle is 12 hex digits".into()));
        }
        let n = self.conn.execute(
            "UPDATE sessions SET revoked_at = ?3 WHERE kind = 'api' AND user = ?1 AND substr(id_sha256, 1, 12) = ?2 AND revoked_at IS NULL",
            params![user, handle.to_ascii_lowercase(), now as i64],
        )?;
        if n == 0 {
            return Err(GovernanceError::Refused(format!("{user} has no live token {handle}")));
        }
        Ok(())
    }
}

/// The token's id, after checking its MAC in constant time.
fn authentic_id(key: &SessionKey, token: &str) -> Result<[u8; 16], GovernanceError> {
    let forged = || GovernanceError::Refused("session token is malformed or was not issued here".into());
    let mut parts = token.trim().split('.');
    let (Some("hv1"), Some(id), Some(mac), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return Err(forged());
    };
    let id: [u8; 16] = unhex(id).and_then(|v| v.try_into().ok()).ok_or_else(forged)?;
    let mac = unhex(mac).ok_or_else(forged)?;
    key.mac(&id).verify_slice(&mac).map_err(|_| forged())?;
    Ok(id)
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok()).collect()
}

fn id_digest(id: &[u8]) -> String {
    haven_store::hex(&Sha256::digest(id))
}

/// Seconds since 1970, now.
pub fn now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PW: &str = "a long enough passphrase";

    fn setup() -> (tempfile::TempDir, Users, Sessions, SessionKey) {
        let dir = tempfile::tempdir().unwrap();
        let mut users = Users::open(dir.path()).unwrap();
        users.add("ana", Role::Analyst, None, PW).unwrap();
        let sessions = Sessions::open(dir.path()).unwrap();
        let key = SessionKey::load_or_create(&dir.path().join("keys")).unwrap();
        (dir, users, sessions, key)
    }

    fn ask(purpose: Option<Purpose>) -> SignIn<'static> {
        SignIn { user: "ana", password: PW, purpose, dsa: Some("DSA-HAVEN-DEMO"), hours: 8, code: None }
    }

    #[test]
    fn a_token_carries_the_sign_in_until_it_expires_or_is_signed_out() {
        let (_dir, users, mut sessions, key) = setup();
        let (s, token) = sessions.sign_in(&users, &key, &ask(Some(Purpose::Commissioning)), 1_000).unwrap();
        assert_eq!(s.expires_at, 1_000 + 8 * 3600);
        let back = sessions.verify(&users, &key, &token, 1_001).unwrap();
        assert_eq!(back, s);
        // Used every 20 minutes it stays open; one second before the end it
        // holds; at the end it is refused.
        for t in (1_001..1_000 + 8 * 3600).step_by(20 * 60) {
            sessions.verify(&users, &key, &token, t).unwrap();
        }
        assert!(sessions.verify(&users, &key, &token, 1_000 + 8 * 3600 - 1).is_ok());
        let late = sessions.verify(&users, &key, &token, 1_000 + 8 * 3600).unwrap_err().to_string();
        assert!(late.contains("expired"), "{late}");
        sessions.sign_out(&key, &token, 2_000).unwrap();
        let replay = sessions.verify(&users, &key, &token, 2_001).unwrap_err().to_string();
        assert!(replay.contains("signed out"), "{replay}");
        assert!(sessions.sign_out(&key, &token, 2_002).is_err(), "signing out twice is refused");
    }

    #[test]
    fn forged_foreign_and_stale_tokens_are_refused() {
        let (dir, mut users, mut sessions, key) = setup();
        let (_, token) = sessions.sign_in(&users, &key, &ask(None), 1_000).unwrap();
        // Flip one hex digit of the id: the MAC no longer matches.
        let mut forged = token.clone().into_bytes();
        forged[5] = if forged[5] == b'0' { b'1' } else { b'0' };
        let forged = String::from_utf8(forged).unwrap();
        for bad in [forged.as_str(), "hv1.zz.zz", "", "hv2.00.00", &format!("{token}.x")] {
            let e = sessions.verify(&users, &key, bad, 1_001).unwrap_err().to_string();
            assert!(e.contains("not issued here"), "{bad}: {e}");
        }
        // A genuine token checked under another deployment's key.
        let other = SessionKey::load_or_create(&dir.path().join("other-keys")).unwrap();
        assert!(sessions.verify(&users, &other, &token, 1_001).unwrap_err().to_string().contains("not issued here"));
        // The database holds only a digest of the id, never the token.
        let stored: String = sessions.conn.query_row("SELECT id_sha256 FROM sessions", [], |r| r.get(0)).unwrap();
        assert!(!token.contains(&stored));
        // A disabled user's live token stops working.
        users.disable("ana").unwrap();
        assert!(sessions.verify(&users, &key, &token, 1_001).unwrap_err().to_string().contains("disabled"));
    }

    #[test]
    fn sign_in_checks_password_length_of_session_and_agreement() {
        let (_dir, users, mut sessions, key) = setup();
        let wrong = SignIn { password: "not the password", ..ask(None) };
        assert!(sessions.sign_in(&users, &key, &wrong, 0).unwrap_err().to_string().contains("sign-in refused"));
        let long = SignIn { hours: MAX_HOURS + 1, ..ask(None) };
        assert!(sessions.sign_in(&users, &key, &long, 0).unwrap_err().to_string().contains("hours"));
        let no_dsa = SignIn { dsa: None, ..ask(Some(Purpose::Commissioning)) };
        assert!(sessions.sign_in(&users, &key, &no_dsa, 0).unwrap_err().to_string().contains("Data Sharing Agreement"));
    }

    #[test]
    fn a_session_left_idle_for_more_than_thirty_minutes_is_refused() {
        let (_dir, users, mut sessions, key) = setup();
        let (_, token) = sessions.sign_in(&users, &key, &ask(None), 1_000).unwrap();
        // 30 minutes after the last use it still holds (and counts as a use).
        sessions.verify(&users, &key, &token, 1_000 + IDLE_SECONDS).unwrap();
        let idle = sessions.verify(&users, &key, &token, 1_000 + 2 * IDLE_SECONDS + 1).unwrap_err().to_string();
        assert!(idle.contains("idle for more than 30 minutes"), "{idle}");
    }

    #[test]
    fn five_failures_lock_the_account_even_against_the_right_password() {
        let (_dir, users, mut sessions, key) = setup();
        let wrong = SignIn { password: "not the password", ..ask(None) };
        for i in 1..crate::lockout::MAX_FAILURES {
            let e = sessions.sign_in(&users, &key, &wrong, 100 + i as u64).unwrap_err();
            assert!(matches!(e, GovernanceError::Refused(_)), "failure {i}: {e}");
        }
        // The fifth locks it, for fifteen minutes from then.
        let e = sessions.sign_in(&users, &key, &wrong, 200).unwrap_err();
        assert!(matches!(e, GovernanceError::Locked(_)) && e.to_string().contains("now locked for 15 minutes"), "{e}");
        let locked = sessions.sign_in(&users, &key, &ask(None), 200 + 15 * 60 - 1).unwrap_err();
        assert!(matches!(locked, GovernanceError::Locked(_)) && locked.to_string().contains("locked after 5 failed"), "{locked}");
        // Then the right password works, and resets the count.
        sessions.sign_in(&users, &key, &ask(None), 200 + 15 * 60).unwrap();
        for i in 1..crate::lockout::MAX_FAILURES {
            assert!(matches!(sessions.sign_in(&users, &key, &wrong, 2_000 + i as u64).unwrap_err(), GovernanceError::Refused(_)));
        }
        // An administrator's unlock clears the failures so far.
        crate::lockout::unlock(_dir.path(), "ana").unwrap();
        for i in 1..crate::lockout::MAX_FAILURES {
            assert!(matches!(sessions.sign_in(&users, &key, &wrong, 3_000 + i as u64).unwrap_err(), GovernanceError::Refused(_)));
        }
    }

    #[test]
    fn an_api_token_keeps_its_makers_terms_expires_and_is_revocable() {
        let (_dir, users, mut sessions, key) = setup();
        let (owner, _) = sessions.sign_in(&users, &key, &ask(Some(Purpose::Commissioning)), 1_000).unwrap();
        let (made, token) = sessions.issue_token(&key, &owner, "weekly extract", 7, 1_000).unwrap();
        assert_eq!((made.role, made.purpose, made.dsa.as_deref()), (Role::Analyst, Some(Purpose::Commissioning), Some("DSA-HAVEN-DEMO")));
        assert_eq!(made.expires_at, 1_000 + 7 * 86_400);
        // No idle expiry: a day unused, it still works.
        let s = sessions.verify(&users, &key, &token, 1_000 + 86_400).unwrap();
        assert_eq!((s.user.as_str(), s.purpose), ("ana", Some(Purpose::Commissioning)));
        assert!(sessions.verify(&users, &key, &token, 1_000 + 7 * 86_400).unwrap_err().to_string().contains("expired"));
        for bad in [0, MAX_TOKEN_DAYS + 1] {
            assert!(sessions.issue_token(&key, &owner, "x", bad, 1_000).is_err(), "{bad} days");
        }
        assert!(sessions.issue_token(&key, &owner, " ", 1, 1_000).is_err(), "a label is needed");
        // Revoked by its handle, only by its owner's name.
        let (t2, token2) = sessions.issue_token(&key, &owner, "second", 1, 2_000).unwrap();
        assert!(sessions.revoke_token("someone-else", &t2.handle, 2_001).is_err());
        sessions.revoke_token("ana", &t2.handle, 2_001).unwrap();
        assert!(sessions.verify(&users, &key, &token2, 2_002).unwrap_err().to_string().contains("revoked"));
        assert!(sessions.revoke_token("ana", &t2.handle, 2_003).is_err(), "revoked twice");
        let listed = sessions.tokens("ana").unwrap();
        assert_eq!(listed.len(), 2);
        assert!(listed.iter().any(|t| t.handle == t2.handle && t.revoked));
        // The handle is no part of the token.
        assert!(!token.contains(&made.handle));
    }

    #[test]
    fn the_key_file_is_private_and_stable() {
        let dir = tempfile::tempdir().unwrap();
        let keys = dir.path().join("k");
        assert!(SessionKey::load(&keys).is_err(), "only sign-in creates a key");
        let a = SessionKey::load_or_create(&keys).unwrap();
        let b = SessionKey::load(&keys).unwrap();
        assert_eq!(a.0, b.0);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(keys.join(KEY_FILE)).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
