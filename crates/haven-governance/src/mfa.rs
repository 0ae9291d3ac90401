//! The second factor: time-based one-time passwords (TOTP, RFC 6238) from an
//! authenticator app, on top of the Argon2id password (issue 16 §2).
//!
//! Codes are the authenticator apps' defaults — HMAC-SHA-1, six digits, 30
//! second steps, the secret 160 random bits (RFC 4226 §4 recommends 160) —
//! and one step either side is accepted for clock drift. A code is accepted
//! once: the step it matched is recorded, and that step and earlier ones are
//! refused afterwards, so a code seen over a shoulder cannot be replayed
//! (RFC 6238 §5.2). The TOTP arithmetic is the `totp-rs` crate's, checked
//! here against RFC 6238 Appendix B.

use std::path::Path;

use qrcode::render::{svg, unicode};
use qrcode::QrCode;
use rusqlite::{params, Connection, OptionalExtension};
use totp_rs::{Algorithm, Secret, TOTP};

use crate::error::GovernanceError;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS user_mfa (
    name TEXT PRIMARY KEY,
    secret TEXT NOT NULL,
    enrolled_at INTEGER NOT NULL,
    last_step INTEGER NOT NULL DEFAULT -1
);
";

/// Seconds per step (RFC 6238 §5.2's recommendation).
const STEP: u64 = 30;
/// Steps accepted either side of now.
const SKEW: u8 = 1;
/// Random bytes in a secret.
const SECRET_BYTES: usize = 20;
/// The issuer the app shows beside the account.
const ISSUER: &str = "Haven";

/// What enrolment hands the user once: the secret to type in, the
/// `otpauth://` URI an app scans, and that URI as a QR code.
pub struct Enrolment {
    pub secret_base32: String,
    pub uri: String,
    /// The QR code as an SVG image (for the web app).
    pub qr_svg: String,
    /// The QR code drawn with block characters (for a terminal).
    pub qr_text: String,
}

/// The second-factor table of one data directory.
pub struct Mfa {
    conn: crate::pool::CatalogConn,
}

fn totp(secret: Vec<u8>, account: &str) -> Result<TOTP, GovernanceError> {
    TOTP::new(Algorithm::SHA1, 6, SKEW, STEP, secret, Some(ISSUER.to_owned()), account.to_owned())
        .map_err(|e| GovernanceError::Refused(format!("a one-time-password secret was refused: {e}")))
}

impl Mfa {
    /// Opens the table in `<data-dir>/catalog.sqlite`.
    pub fn open(data_dir: &Path) -> Result<Mfa, GovernanceError> {
        let conn = crate::open_catalog(data_dir, SCHEMA)?;
        Ok(Mfa { conn })
    }

    /// Enrols `name` with a new secret, replacing any earlier one (the
    /// administrator's MFA reset is a new enrolment).
    pub fn enrol(&mut self, name: &str, now: u64) -> Result<Enrolment, GovernanceError> {
        let mut secret = vec![0u8; SECRET_BYTES];
        getrandom::fill(&mut secret).map_err(|e| GovernanceError::Refused(format!("no randomness for a secret: {e}")))?;
        let t = totp(secret, name)?;
        let secret_base32 = t.get_secret_base32();
        self.conn.execute(
            "INSERT INTO user_mfa (name, secret, enrolled_at, last_step) VALUES (?1, ?2, ?3, -1) \
             ON CONFLICT(name) DO UPDATE SET secret = excluded.secret, enrolled_at = excluded.enrolled_at, last_step = -1",
            params![name, secret_base32, now as i64],
        )?;
        let uri = t.get_url();
        let code = QrCode::new(uri.as_bytes()).map_err(|e| GovernanceError::Refused(format!("no QR code for the enrolment: {e}")))?;
        let qr_svg = code.render::<svg::Color<'_>>().min_dimensions(200, 200).build();
        let qr_text = code.render::<unicode::Dense1x2>().quiet_zone(true).build();
        Ok(Enrolment { secret_base32, uri, qr_svg, qr_text })
    }

    /// Whether `name` has a second factor.
    pub fn is_enrolled(&self, name: &str) -> Result<bool, GovernanceError> {
        Ok(self.conn.query_row("SELECT 1 FROM user_mfa WHERE name = ?1", [name], |_| Ok(())).optional()?.is_some())
    }

    /// Removes `name`'s second factor.
    pub fn remove(&mut self, name: &str) -> Result<(), GovernanceError> {
        self.conn.execute("DELETE FROM user_mfa WHERE name = ?1", [name])?;
        Ok(())
    }

    /// Checks `code` for `name` at `now` (seconds since 1970) and records
    /// the step it matched; a code of a step already used, or no code for
    /// an enrolled user, is refused. The refusal never repeats the code.
    pub fn verify(&mut self, name: &str, code: Option<&str>, now: u64) -> Result<(), GovernanceError> {
        verify_on(&self.conn, name, code, now)
    }

    /// The current code of `name` (for tests and the demo's printed
    /// sign-ins: never for a real account's screen).
    pub fn code_for(&self, name: &str, now: u64) -> Result<Option<String>, GovernanceError> {
        let secret: Option<String> = self.conn.query_row("SELECT secret FROM user_mfa WHERE name = ?1", [name], |r| r.get(0)).optional()?;
        let Some(secret) = secret else { return Ok(None) };
        let bytes = Secret::Encoded(secret).to_bytes().map_err(|_| GovernanceError::Refused("the enrolled secret is unreadable".into()))?;
        Ok(Some(totp(bytes, name)?.generate(now)))
    }
}

/// [`Mfa::verify`] on an open catalog connection.
fn verify_on(conn: &Connection, name: &str, code: Option<&str>, now: u64) -> Result<(), GovernanceError> {
    let refused = |why: &str| GovernanceError::Refused(format!("sign-in refused for {name}: {why}"));
    let row: Option<(String, i64)> =
        conn.query_row("SELECT secret, last_step FROM user_mfa WHERE name = ?1", [name], |r| Ok((r.get(0)?, r.get(1)?))).optional()?;
    let Some((secret, last_step)) = row else { return Err(refused("no second factor is enrolled")) };
    let code = code.map(str::trim).filter(|c| !c.is_empty()).ok_or_else(|| refused("a one-time code is needed"))?;
    let bytes = Secret::Encoded(secret).to_bytes().map_err(|_| refused("the enrolled secret is unreadable"))?;
    let t = totp(bytes, name)?;
    let now_step = (now / STEP) as i64;
    let matched = (now_step - i64::from(SKEW)..=now_step + i64::from(SKEW))
        .filter(|s| *s >= 0)
        .find(|s| t.generate(*s as u64 * STEP) == code)
        .ok_or_else(|| refused("the one-time code is wrong or out of date"))?;
    if matched <= last_step {
        return Err(refused("that one-time code was already used"));
    }
    conn.execute("UPDATE user_mfa SET last_step = ?2 WHERE name = ?1", params![name, matched])?;
    Ok(())
}

/// The second-factor check of a sign-in: an enrolled user's code must be
/// right; a user without a second factor passes (the server requires one
/// for remote access; on the host the operator's shell is the boundary).
pub(crate) fn check_sign_in(conn: &Connection, name: &str, code: Option<&str>, now: u64) -> Result<(), GovernanceError> {
    conn.execute_batch(SCHEMA)?;
    let enrolled = conn.query_row("SELECT 1 FROM user_mfa WHERE name = ?1", [name], |_| Ok(())).optional()?.is_some();
    if enrolled {
        verify_on(conn, name, code, now)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 Appendix B: the reference secrets (ASCII "1234567890"
    /// repeated to 20, 32 and 64 bytes), eight digits, 30 s steps.
    #[test]
    fn the_rfc_6238_test_vectors() {
        let seed = |n: usize| b"1234567890".iter().cycle().take(n).copied().collect::<Vec<u8>>();
        let vectors: [(u64, &str, &str, &str); 6] = [
            (59, "94287082", "46119246", "90693936"),
            (1_111_111_109, "07081804", "68084774", "25091201"),
            (1_111_111_111, "14050471", "67062674", "99943326"),
            (1_234_567_890, "89005924", "91819424", "93441116"),
            (2_000_000_000, "69279037", "90698825", "38618901"),
            (20_000_000_000, "65353130", "77737706", "47863826"),
        ];
        for (time, sha1, sha256, sha512) in vectors {
            for (alg, n, want) in [(Algorithm::SHA1, 20, sha1), (Algorithm::SHA256, 32, sha256), (Algorithm::SHA512, 64, sha512)] {
                let t = TOTP::new_unchecked(alg, 8, 0, 30, seed(n), None, "rfc".into());
                assert_eq!(t.generate(time), want, "{alg:?} at {time}");
            }
        }
    }

    fn mfa() -> (tempfile::TempDir, Mfa) {
        let dir = tempfile::tempdir().unwrap();
        let m = Mfa::open(dir.path()).unwrap();
        (dir, m)
    }

    #[test]
    fn enrolment_gives_a_secret_uri_and_qr_code() {
        let (_d, mut m) = mfa();
        let e = m.enrol("ana", 1_000).unwrap();
        assert_eq!(e.secret_base32.len(), 32, "160 bits in base32");
        assert!(e.uri.starts_with("otpauth://totp/Haven:ana?") && e.uri.contains(&e.secret_base32), "{}", e.uri);
        assert!(e.qr_svg.starts_with("<?xml") && e.qr_svg.contains("<svg"));
        assert!(e.qr_text.lines().count() > 10);
        assert!(m.is_enrolled("ana").unwrap() && !m.is_enrolled("bob").unwrap());
    }

    #[test]
    fn a_code_is_accepted_once_within_a_step_of_now_and_never_quoted() {
        let (_d, mut m) = mfa();
        m.enrol("ana", 0).unwrap();
        let now = 1_700_000_000;
        let code = m.code_for("ana", now).unwrap().unwrap();
        assert!(m.verify("ana", None, now).unwrap_err().to_string().contains("code is needed"));
        m.verify("ana", Some(&code), now).unwrap();
        let again = m.verify("ana", Some(&code), now).unwrap_err().to_string();
        assert!(again.contains("already used") && !again.contains(&code), "{again}");
        // The next step's code is fine; one from two steps back is not.
        let next = m.code_for("ana", now + 30).unwrap().unwrap();
        m.verify("ana", Some(&next), now + 30).unwrap();
        let stale = m.code_for("ana", now - 60).unwrap().unwrap();
        let e = m.verify("ana", Some(&stale), now + 30).unwrap_err().to_string();
        assert!(e.contains("wrong or out of date") && !e.contains(&stale), "{e}");
        // A reset (new enrolment) invalidates the old secret (a random
        // match of six digits is one in a million).
        let old = m.code_for("ana", now + 90).unwrap().unwrap();
        m.enrol("ana", now).unwrap();
        assert!(m.verify("ana", Some(&old), now + 90).is_err());
        m.remove("ana").unwrap();
        assert!(m.verify("ana", Some("123456"), now).unwrap_err().to_string().contains("no second factor"));
    }
}
