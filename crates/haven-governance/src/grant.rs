//! Access grants: the only way to read a zone.
//!
//! An [`AccessGrant`] binds a user, their role, a purpose and a Data Sharing
//! Agreement. It has no public constructor: [`grant`] makes one only after
//! every check passes — the user exists and is enabled, holds the role, the
//! agreement is in force, covers the purpose and allows the role — and the
//! role × purpose table below yields the zones it may read. The store's
//! sessions take a [`haven_store::ReadGrant`], which only this type
//! implements outside the store's own tests (xtask tidy checks), so an
//! ungoverned read does not compile. A GP's grant carries their practice and
//! sees only its registered patients.

use haven_model::Date;
use haven_store::{ReadGrant, Zone};
use serde::Serialize;

use crate::dsa::{Dsa, Purpose, Role};
use crate::error::GovernanceError;
use crate::users::Users;

/// Permission for one user to read some zones for one purpose under one DSA.
#[derive(Debug, Serialize)]
pub struct AccessGrant {
    user: String,
    role: Role,
    purpose: Purpose,
    dsa: String,
    on: String,
    #[serde(skip)]
    date: Date,
    zones: Vec<Zone>,
    practice: Option<String>,
}

impl AccessGrant {
    /// Who holds the grant.
    pub fn user(&self) -> &str {
        &self.user
    }
    /// The role it was issued for.
    pub fn role(&self) -> Role {
        self.role
    }
    /// The purpose it was issued for.
    pub fn purpose(&self) -> Purpose {
        self.purpose
    }
    /// The agreement it was issued under.
    pub fn dsa(&self) -> &str {
        &self.dsa
    }
}

impl ReadGrant for AccessGrant {
    fn zones(&self) -> &[Zone] {
        &self.zones
    }
    fn practice(&self) -> Option<&str> {
        self.practice.as_deref()
    }
    fn date(&self) -> Date {
        self.date
    }
}

/// The zones a role may read for a purpose (DESIGN.md §1 and §2); `None`
/// means the pair gives no record-level access at all.
pub fn zones_for(role: Role, purpose: Purpose) -> Option<Vec<Zone>> {
    use Purpose::*;
    let zones = match (role, purpose) {
        // The DSCRO prepares every flow; it reads what it received.
        (Role::Dscro, _) => vec![Zone::Staging, Zone::Reference],
        (Role::Ceff, InvoiceValidation) => vec![Zone::Ceff, Zone::Reference],
        (Role::Gp, DirectCare) => vec![Zone::DirectCare, Zone::Pseudonymised, Zone::Reference],
        (Role::Analyst, Commissioning | RiskStratification) => vec![Zone::Pseudonymised, Zone::Reference],
        (Role::Analyst, PopulationHealthBenchmarking) => vec![Zone::National, Zone::Reference],
        _ => return None,
    };
    Some(zones)
}

/// Issues a grant after every check passes; each refusal says which rule.
pub fn grant(users: &Users, user: &str, role: Role, purpose: Purpose, dsa: &Dsa, on: Date) -> Result<AccessGrant, GovernanceError> {
    let account = users
        .get(user)?
        .ok_or_else(|| GovernanceError::Refused(format!("no user {user}")))?;
    if account.disabled {
        return Err(GovernanceError::Refused(format!("user {user} is disabled")));
    }
    if account.role != role {
        return Err(GovernanceError::Refused(format!("user {user} holds role {}, not {role}", account.role)));
    }
    dsa.check(on, purpose, role)?;
    let zones = zones_for(role, purpose).ok_or_else(|| {
        GovernanceError::Refused(format!("role {role} has no record-level access for {purpose}; aggregates only"))
    })?;
    let practice = match role {
        Role::Gp => Some(account.practice.ok_or_else(|| {
            GovernanceError::Refused(format!("gp user {user} is not bound to a practice"))
        })?),
        _ => None,
    };
    Ok(AccessGrant {
        user: user.to_owned(),
        role,
        purpose,
        dsa: dsa.id.clone(),
        on: on.to_string(),
        date: on,
        zones,
        practice,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn demo() -> Dsa {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../dsa/DSA-HAVEN-DEMO.toml");
        Dsa::from_toml("DSA-HAVEN-DEMO.toml", &std::fs::read_to_string(path).unwrap()).unwrap()
    }

    fn ncl() -> Dsa {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../dsa/DARS-NIC-615974-Y3R7Q.toml");
        Dsa::from_toml("DARS-NIC-615974-Y3R7Q.toml", &std::fs::read_to_string(path).unwrap()).unwrap()
    }

    fn today() -> Date {
        Date::from_ymd(2026, 11, 22).unwrap()
    }

    #[test]
    fn grants_follow_the_role_purpose_table_and_every_check() {
        let dir = tempfile::tempdir().unwrap();
        let mut users = Users::open(dir.path()).unwrap();
        users.add("ana", Role::Analyst, None, "long enough password").unwrap();
        users.add("dr.lee", Role::Gp, Some("A81001"), "long enough password").unwrap();
        users.add("vic", Role::Viewer, None, "long enough password").unwrap();
        let g = grant(&users, "ana", Role::Analyst, Purpose::Commissioning, &demo(), today()).unwrap();
        assert_eq!(g.zones(), [Zone::Pseudonymised, Zone::Reference]);
        assert!(g.practice().is_none());
        let gp = grant(&users, "dr.lee", Role::Gp, Purpose::DirectCare, &demo(), today()).unwrap();
        assert_eq!(gp.practice(), Some("A81001"));
        assert!(!gp.zones().contains(&Zone::Staging));

        let refused = |r: Result<AccessGrant, GovernanceError>| r.unwrap_err().to_string();
        assert!(refused(grant(&users, "ana", Role::Analyst, Purpose::Commissioning, &ncl(), today())).contains("expired"));
        assert!(refused(grant(&users, "ana", Role::Gp, Purpose::DirectCare, &demo(), today())).contains("holds role analyst"));
        assert!(refused(grant(&users, "vic", Role::Viewer, Purpose::Commissioning, &demo(), today())).contains("aggregates only"));
        assert!(refused(grant(&users, "nobody", Role::Analyst, Purpose::Commissioning, &demo(), today())).contains("no user"));
        assert!(refused(grant(&users, "ana", Role::Analyst, Purpose::DirectCare, &demo(), today())).contains("analyst"));
        users.disable("ana").unwrap();
        assert!(refused(grant(&users, "ana", Role::Analyst, Purpose::Commissioning, &demo(), today())).contains("disabled"));
    }

    #[test]
    fn no_pair_reaches_an_identifiable_zone_it_should_not() {
        for role in Role::ALL {
            for purpose in Purpose::ALL {
                let Some(zones) = zones_for(role, purpose) else { continue };
                // Analysts, viewers, auditors and admins never see identifiers.
                if matches!(role, Role::Analyst | Role::Viewer | Role::Auditor | Role::Admin) {
                    assert!(zones.iter().all(|z| !z.holds_identifiers()), "{role} {purpose}");
                }
                // The national extract is never in the same session as local data.
                if zones.contains(&Zone::National) {
                    assert!(zones.iter().all(|z| matches!(z, Zone::National | Zone::Reference)), "{role} {purpose}");
                }
                // Only the CEfF role reads the CEfF zone.
                assert_eq!(zones.contains(&Zone::Ceff), role == Role::Ceff);
            }
        }
    }
}
