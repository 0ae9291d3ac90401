//! Users and their roles (DESIGN.md §1), stored in the metadata database with
//! Argon2id password hashes. A GP user is bound to exactly one practice; no
//! other role may be.

use std::path::Path;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use haven_model::{OdsCode, OdsKind};
use rusqlite::params;
use serde::Serialize;

use crate::error::GovernanceError;

/// A role of DESIGN.md §1: the same roles a DSA grants per purpose.
pub use crate::dsa::Role as UserRole;

/// A user as listed (never with the password hash).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct User {
    pub name: String,
    pub role: UserRole,
    /// The GP practice a `gp` user is bound to.
    pub practice: Option<String>,
    pub disabled: bool,
    pub created_at: String,
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS users (
    name TEXT PRIMARY KEY,
    role TEXT NOT NULL,
    practice TEXT,
    password_hash TEXT NOT NULL,
    disabled INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL
);
";

/// Shortest password accepted (NCSC guidance favours length over rules).
pub const MIN_PASSWORD_LEN: usize = 12;

/// The user directory of one data directory.
pub struct Users {
    conn: crate::pool::CatalogConn,
}

impl Users {
    /// Opens the directory in `<data-dir>/catalog.sqlite`; the data
    /// directory is created, or must already be, owner-only (as the store's).
    pub fn open(data_dir: &Path) -> Result<Users, GovernanceError> {
        haven_store::private_data_dir(data_dir)?;
        let conn = crate::open_catalog(data_dir, SCHEMA)?;
        Ok(Users { conn })
    }

    /// Adds a user. A `gp` needs a valid practice code; other roles must not
    /// have one.
    pub fn add(&mut self, name: &str, role: UserRole, practice: Option<&str>, password: &str) -> Result<User, GovernanceError> {
        check_name(name)?;
        let practice = check_practice(role, practice)?;
        if password.chars().count() < MIN_PASSWORD_LEN {
            return Err(GovernanceError::User(format!("the password must be at least {MIN_PASSWORD_LEN} characters")));
        }
        if self.get(name)?.is_some() {
            return Err(GovernanceError::User(format!("user {name} already exists")));
        }
        let hash = hash_password(password)?;
        let created_at = haven_store::timestamp_now();
        self.conn.execute(
            "INSERT INTO users (name, role, practice, password_hash, disabled, created_at) VALUES (?1, ?2, ?3, ?4, 0, ?5)",
            params![name, role.name(), practice, hash, created_at],
        )?;
        Ok(User { name: name.to_owned(), role, practice, disabled: false, created_at })
    }

    /// One user.
    pub fn get(&self, name: &str) -> Result<Option<User>, GovernanceError> {
        Ok(self.query("WHERE name = ?1", [name])?.pop())
    }

    /// Every user, by name.
    pub fn list(&self) -> Result<Vec<User>, GovernanceError> {
        self.query("ORDER BY name", [])
    }

    fn query(&self, tail: &str, args: impl rusqlite::Params) -> Result<Vec<User>, GovernanceError> {
        let sql = format!("SELECT name, role, practice, disabled, created_at FROM users {tail}");
        let mut stmt = self.conn.prepare(&sql)?;
        let rows = stmt.query_map(args, |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get(2)?, r.get::<_, i64>(3)?, r.get(4)?))
        })?;
        rows.map(|row| {
            let (name, role, practice, disabled, created_at) = row?;
            Ok(User { name, role: role.parse()?, practice, disabled: disabled != 0, created_at })
        })
        .collect()
    }

    /// Disables a user (kept for the audit trail, never deleted).
    pub fn disable(&mut self, name: &str) -> Result<(), GovernanceError> {
        let n = self.conn.execute("UPDATE users SET disabled = 1 WHERE name = ?1", [name])?;
        if n == 0 {
            return Err(GovernanceError::User(format!("no user {name}")));
        }
        Ok(())
    }

    /// Checks a password; a disabled or unknown user never authenticates.
    pub fn authenticate(&self, name: &str, password: &str) -> Result<User, GovernanceError> {
        let refused = || GovernanceError::Refused(format!("sign-in refused for {name}"));
        let user = self.get(name)?.ok_or_else(refused)?;
        if user.disabled {
            return Err(refused());
        }
        let stored: String = self.conn.query_row("SELECT password_hash FROM users WHERE name = ?1", [name], |r| r.get(0))?;
        let parsed = PasswordHash::new(&stored).map_err(|_| refused())?;
        Argon2::default().verify_password(password.as_bytes(), &parsed).map_err(|_| refused())?;
        Ok(user)
    }
}

fn hash_password(password: &str) -> Result<String, GovernanceError> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| GovernanceError::User(format!("no randomness for a salt: {e}")))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| GovernanceError::User(e.to_string()))?;
    // Argon2::default() is Argon2id v19 with the crate's recommended cost.
    Ok(Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| GovernanceError::User(e.to_string()))?
        .to_string())
}

fn check_name(name: &str) -> Result<(), GovernanceError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '@'));
    if ok {
        Ok(())
    } else {
        Err(GovernanceError::User(format!("{name:?} is not a valid user name (letters, digits, . - _ @; at most 64)")))
    }
}

fn check_practice(role: UserRole, practice: Option<&str>) -> Result<Option<String>, GovernanceError> {
    match (role, practice) {
        (UserRole::Gp, None) => Err(GovernanceError::User("a gp user must be bound to a practice (--practice ODS)".into())),
        (UserRole::Gp, Some(p)) => OdsCode::parse(OdsKind::GpPractice, p)
            .map(|c| Some(c.as_str().to_owned()))
            .map_err(|e| GovernanceError::User(format!("practice: {e}"))),
        (_, Some(_)) => Err(GovernanceError::User(format!("only a gp user is bound to a practice, not a {role} user"))),
        (_, None) => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn users_are_added_listed_authenticated_and_disabled() {
        let dir = tempfile::tempdir().unwrap();
        let mut users = Users::open(dir.path()).unwrap();
        users.add("ana", UserRole::Analyst, None, "correct horse battery").unwrap();
        let gp = users.add("dr.lee", UserRole::Gp, Some("a81001"), "staple battery horse").unwrap();
        assert_eq!(gp.practice.as_deref(), Some("A81001"));
        assert_eq!(users.list().unwrap().len(), 2);
        assert_eq!(users.authenticate("ana", "correct horse battery").unwrap().role, UserRole::Analyst);
        assert!(users.authenticate("ana", "wrong password!!").is_err());
        assert!(users.authenticate("nobody", "correct horse battery").is_err());
        users.disable("ana").unwrap();
        assert!(users.authenticate("ana", "correct horse battery").is_err());
        // The hash is Argon2id, never the password.
        let stored: String = users.conn.query_row("SELECT password_hash FROM users WHERE name='dr.lee'", [], |r| r.get(0)).unwrap();
        assert!(stored.starts_with("$argon2id$"), "{stored}");
        assert!(!stored.contains("staple"));
    }

    #[test]
    fn bad_users_are_refused_with_a_clear_message() {
        let dir = tempfile::tempdir().unwrap();
        let mut users = Users::open(dir.path()).unwrap();
        let err = |r: Result<User, GovernanceError>| r.unwrap_err().to_string();
        assert!(err(users.add("dr.x", UserRole::Gp, None, "long enough password")).contains("bound to a practice"));
        assert!(err(users.add("dr.x", UserRole::Gp, Some("QMJ"), "long enough password")).contains("practice"));
        assert!(err(users.add("ana", UserRole::Analyst, Some("A81001"), "long enough password")).contains("only a gp"));
        assert!(err(users.add("ana", UserRole::Analyst, None, "short")).contains("at least 12"));
        assert!(err(users.add("a b", UserRole::Analyst, None, "long enough password")).contains("not a valid user name"));
        users.add("ana", UserRole::Analyst, None, "long enough password").unwrap();
        assert!(err(users.add("ana", UserRole::Viewer, None, "long enough password")).contains("already exists"));
        assert!("wizard".parse::<UserRole>().unwrap_err().to_string().contains("unknown role"));
        assert!(users.disable("nobody").is_err());
    }
}
