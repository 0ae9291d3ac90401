//! Responsible commissioner ("Who Pays?"), datasets.md §6.2 and §11.7.
//!
//! Order, following NHS England *Who Pays?* (v3, March 2024) as implemented by
//! the Commissioner Assignment Methodology v5.3: NHS England exclusions first
//! (armed-forces practices, health and justice, secondary dental treatment
//! functions); then the sub-ICB location of the registered practice; if there
//! is no practice, the sub-ICB of residence; else the provider's host. HES
//! records the origin as CCG_RESPONSIBILITY_ORIGIN `1`/`2`/`3`/`4`/`9`.

use crate::date::Date;

/// Where the responsible sub-ICB came from (HES CCG_RESPONSIBILITY_ORIGIN).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResponsibilityOrigin {
    Practice = 1,
    Residence = 2,
    Treatment = 3,
    Provider = 4,
    Unknown = 9,
}

impl ResponsibilityOrigin {
    pub fn code(self) -> &'static str {
        match self {
            Self::Practice => "1",
            Self::Residence => "2",
            Self::Treatment => "3",
            Self::Provider => "4",
            Self::Unknown => "9",
        }
    }
}

/// Why NHS England, not an ICB, commissions the activity.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NhseReason {
    /// Practice whose parent is `13Q` (Defence Medical Services).
    ArmedForces,
    /// Prison or other health-and-justice practice.
    HealthAndJustice,
    /// Secondary dental treatment functions (CAM step D).
    SecondaryDental,
}

/// The outcome of the responsible-commissioner rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Responsibility {
    SubIcb { sub_icb: String, icb: String, origin: ResponsibilityOrigin },
    NhsEngland(NhseReason),
    Unknown,
}

impl Responsibility {
    /// The responsible ICB, if an ICB is responsible.
    pub fn icb(&self) -> Option<&str> {
        match self {
            Responsibility::SubIcb { icb, .. } => Some(icb),
            _ => None,
        }
    }
}

/// Organisation lookups the rule needs; implemented over the `org` and
/// `lsoa_lookup` reference tables by whoever holds them.
pub trait OrgLookup {
    /// Sub-ICB location of a practice on a date (practices move).
    fn practice_sub_icb(&self, practice: &str, on: Date) -> Option<&str>;
    /// Parent code of the practice (e.g. `13Q` for armed forces).
    fn practice_parent_is_armed_forces(&self, practice: &str) -> bool;
    fn practice_is_health_and_justice(&self, practice: &str) -> bool;
    /// Sub-ICB location of residence from an LSOA.
    fn lsoa_sub_icb(&self, lsoa: &str) -> Option<&str>;
    /// The sub-ICB hosting a provider's contract.
    fn provider_host_sub_icb(&self, procode3: &str) -> Option<&str>;
    /// The ICB a sub-ICB location belongs to.
    fn sub_icb_icb(&self, sub_icb: &str) -> Option<&str>;
}

/// Secondary dental treatment functions routed to NHS England (CAM step D).
const DENTAL_TFC: [&str; 9] = ["140", "141", "142", "143", "144", "145", "217", "450", "451"];

/// GPPRAC values meaning "no practice" (datasets.md §1.5).
fn no_practice(practice: &str) -> bool {
    matches!(practice.trim(), "" | "V81997" | "V81998" | "V81999" | "&")
}

/// Applies the Who Pays? order to one activity record.
pub fn responsible_commissioner(
    practice: &str,
    lsoa: Option<&str>,
    procode3: &str,
    tretspef: &str,
    on: Date,
    orgs: &impl OrgLookup,
) -> Responsibility {
    if DENTAL_TFC.contains(&tretspef) {
        return Responsibility::NhsEngland(NhseReason::SecondaryDental);
    }
    let practice = practice.trim();
    if !no_practice(practice) {
        if orgs.practice_parent_is_armed_forces(practice) {
            return Responsibility::NhsEngland(NhseReason::ArmedForces);
        }
        if orgs.practice_is_health_and_justice(practice) {
            return Responsibility::NhsEngland(NhseReason::HealthAndJustice);
        }
    }
    let candidates = [
        (if no_practice(practice) { None } else { orgs.practice_sub_icb(practice, on) }, ResponsibilityOrigin::Practice),
        (lsoa.and_then(|l| orgs.lsoa_sub_icb(l)), ResponsibilityOrigin::Residence),
        (orgs.provider_host_sub_icb(procode3), ResponsibilityOrigin::Provider),
    ];
    for (sub_icb, origin) in candidates {
        if let Some(sub_icb) = sub_icb {
            if let Some(icb) = orgs.sub_icb_icb(sub_icb) {
                return Responsibility::SubIcb { sub_icb: sub_icb.to_string(), icb: icb.to_string(), origin };
            }
        }
    }
    Responsibility::Unknown
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Orgs;
    impl OrgLookup for Orgs {
        fn practice_sub_icb(&self, practice: &str, on: Date) -> Option<&str> {
            match practice {
                // A81001 moved from 93C to 36L on 2024-10-01.
                "A81001" if on < Date::parse("2024-10-01").unwrap() => Some("93C"),
                "A81001" => Some("36L"),
                "B82002" => Some("36L"),
                _ => None,
            }
        }
        fn practice_parent_is_armed_forces(&self, practice: &str) -> bool {
            practice == "M99001"
        }
        fn practice_is_health_and_justice(&self, practice: &str) -> bool {
            practice == "Y99002"
        }
        fn lsoa_sub_icb(&self, lsoa: &str) -> Option<&str> {
            (lsoa == "E01000001").then_some("93C")
        }
        fn provider_host_sub_icb(&self, procode3: &str) -> Option<&str> {
            (procode3 == "RAA").then_some("36L")
        }
        fn sub_icb_icb(&self, sub_icb: &str) -> Option<&str> {
            match sub_icb {
                "93C" => Some("QMJ"),
                "36L" => Some("QWE"),
                _ => None,
            }
        }
    }

    fn who(practice: &str, lsoa: Option<&str>, tfc: &str, on: &str) -> Responsibility {
        responsible_commissioner(practice, lsoa, "RAA", tfc, Date::parse(on).unwrap(), &Orgs)
    }

    #[test]
    fn practice_first_then_residence_then_provider() {
        let r = who("A81001", Some("E01000001"), "300", "2024-05-01");
        assert_eq!(r, Responsibility::SubIcb { sub_icb: "93C".into(), icb: "QMJ".into(), origin: ResponsibilityOrigin::Practice });
        // The practice moved sub-ICB: the date decides.
        assert_eq!(who("A81001", None, "300", "2024-11-01").icb(), Some("QWE"));
        // Not registered (V81997): residence decides.
        let r = who("V81997", Some("E01000001"), "300", "2024-05-01");
        assert!(matches!(r, Responsibility::SubIcb { origin: ResponsibilityOrigin::Residence, .. }));
        // Neither: the provider's host.
        let r = who("&", Some("E09999999"), "300", "2024-05-01");
        assert!(matches!(r, Responsibility::SubIcb { origin: ResponsibilityOrigin::Provider, ref icb, .. } if icb == "QWE"));
    }

    #[test]
    fn nhs_england_exclusions_come_first() {
        assert_eq!(who("A81001", None, "140", "2024-05-01"), Responsibility::NhsEngland(NhseReason::SecondaryDental));
        assert_eq!(who("M99001", None, "300", "2024-05-01"), Responsibility::NhsEngland(NhseReason::ArmedForces));
        assert_eq!(who("Y99002", None, "300", "2024-05-01"), Responsibility::NhsEngland(NhseReason::HealthAndJustice));
    }

    #[test]
    fn unknown_practice_code_falls_through_to_residence() {
        let r = who("Z00000", Some("E01000001"), "300", "2024-05-01");
        assert!(matches!(r, Responsibility::SubIcb { origin: ResponsibilityOrigin::Residence, .. }));
    }
}
