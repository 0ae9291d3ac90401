//! The zones of DESIGN.md §2: segregated areas with their own purpose, keys
//! and readers.

use std::fmt;

/// A segregated area of the data directory.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Zone {
    /// Validated identifiable flows as received; DSCRO staff only.
    Staging,
    /// Identifiable, minimised, for invoice validation by the Controlled
    /// Environment for Finance (national data opt-out does not apply).
    Ceff,
    /// Identifiable token → NHS number map for a GP's re-identification of
    /// their own registered patients.
    DirectCare,
    /// Pseudonymised record-level data for commissioning and risk
    /// stratification: no NHS number, date of birth or postcode.
    Pseudonymised,
    /// The national pseudonymised HES/ECDS extract; never linked at record
    /// level with local data.
    National,
    /// Reference data: organisations, lookups, prices. No patient data.
    Reference,
}

impl Zone {
    /// Every zone.
    pub const ALL: [Zone; 6] = [
        Zone::Staging,
        Zone::Ceff,
        Zone::DirectCare,
        Zone::Pseudonymised,
        Zone::National,
        Zone::Reference,
    ];

    /// Folder and SQL schema name.
    pub fn name(self) -> &'static str {
        match self {
            Zone::Staging => "staging",
            Zone::Ceff => "ceff",
            Zone::DirectCare => "direct_care",
            Zone::Pseudonymised => "pseudonymised",
            Zone::National => "national",
            Zone::Reference => "reference",
        }
    }

    /// The zone with this name.
    pub fn from_name(name: &str) -> Option<Zone> {
        Zone::ALL.into_iter().find(|z| z.name() == name)
    }

    /// Whether the zone may hold NHS numbers, dates of birth or postcodes.
    pub fn holds_identifiers(self) -> bool {
        matches!(self, Zone::Staging | Zone::Ceff | Zone::DirectCare)
    }

    /// Whether the zone has its own pseudonymisation key.
    pub fn has_key(self) -> bool {
        matches!(self, Zone::Ceff | Zone::DirectCare | Zone::Pseudonymised)
    }
}

impl fmt::Display for Zone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_identifier_zones_are_the_three_of_design_md() {
        for z in Zone::ALL {
            assert_eq!(Zone::from_name(z.name()), Some(z));
        }
        let ident: Vec<_> = Zone::ALL.into_iter().filter(|z| z.holds_identifiers()).collect();
        assert_eq!(ident, [Zone::Staging, Zone::Ceff, Zone::DirectCare]);
        assert!(!Zone::National.has_key() && !Zone::Reference.has_key());
        assert_eq!(Zone::from_name("Staging"), None);
    }
}
