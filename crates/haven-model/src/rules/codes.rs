//! Admission-method groups, care-home flags and other code groupings
//! (datasets.md §11.3–§11.5, from the HES TOS and EPIDM's groupings).

/// Elective admission: ADMIMETH `11`, `12`, `13` (waiting list, booked, planned).
pub fn is_elective(admimeth: &str) -> bool {
    matches!(admimeth, "11" | "12" | "13")
}

/// Emergency admission: ADMIMETH starting with `2` (`21`–`25`, `28`, `2A`–`2D`).
pub fn is_emergency(admimeth: &str) -> bool {
    admimeth.len() == 2 && admimeth.starts_with('2')
}

/// Maternity admission: ADMIMETH `31`, `32`.
pub fn is_maternity(admimeth: &str) -> bool {
    matches!(admimeth, "31" | "32")
}

/// Transfer in from another provider: ADMIMETH `2B` or `81`.
pub fn is_transfer_in(admimeth: &str) -> bool {
    matches!(admimeth, "2B" | "81")
}

/// Birth: ADMIMETH `82`, `83`.
pub fn is_birth(admimeth: &str) -> bool {
    matches!(admimeth, "82" | "83")
}

/// Non-elective in tariff terms: everything that is not elective (§6.3).
pub fn is_non_elective(admimeth: &str) -> bool {
    !is_elective(admimeth)
}

/// Day case: CLASSPAT `2` with an elective method of admission.
pub fn is_day_case(classpat: &str, admimeth: &str) -> bool {
    classpat == "2" && is_elective(admimeth)
}

/// Regular day or night attender (CLASSPAT `3`/`4`); excluded from FCE counts
/// and never linked into continuous inpatient spells.
pub fn is_regular_attender(classpat: &str) -> bool {
    matches!(classpat, "3" | "4")
}

/// Care-home codes on either generation of the DD lists: 54, 65, 85, 86 (HES)
/// and 55, 56 (newer DD); 66 (foster care) is excluded (§11.4).
const CARE_HOME: [&str; 6] = ["54", "55", "56", "65", "85", "86"];

/// Admitted from a care home (ADMISORC).
pub fn from_care_home(admisorc: &str) -> bool {
    CARE_HOME.contains(&admisorc)
}

/// Discharged to a care home (DISDEST).
pub fn to_care_home(disdest: &str) -> bool {
    CARE_HOME.contains(&disdest)
}

/// Died in hospital: DISMETH `4` (DISDEST `79` is set alongside).
pub fn died_in_hospital(dismeth: &str) -> bool {
    dismeth == "4"
}

/// Discharge method of a finished spell (DISMETH 1–5), used for FDE and SPELDUR.
pub fn is_discharged(dismeth: &str) -> bool {
    matches!(dismeth, "1" | "2" | "3" | "4" | "5")
}

/// Broad ethnic group of an ETHNOS code (datasets.md §1.5 table, 2001
/// classes; old numeric codes of 1995-96 to 2000-01 mapped to the same groups).
pub fn ethnic_group(ethnos: &str) -> &'static str {
    match ethnos {
        "A" | "B" | "C" | "0" => "White",
        "D" | "E" | "F" | "G" => "Mixed",
        "H" | "J" | "K" | "L" | "4" | "5" | "6" => "Asian or Asian British",
        "M" | "N" | "P" | "1" | "2" | "3" => "Black or Black British",
        "R" | "S" | "7" | "8" => "Other ethnic group",
        _ => "Not stated or unknown",
    }
}

/// OP attendance (`ATTENDED` 5 or 6) and did-not-attend (3 or 7), from
/// `shared/reference/codelists/hes_op_attended.csv` (NHS Data Dictionary).
pub fn op_attended(attended: &str) -> bool {
    matches!(attended, "5" | "6")
}

/// OP did not attend: ATTENDED `3` (no warning) or `7` (arrived late, not seen).
pub fn op_dna(attended: &str) -> bool {
    matches!(attended, "3" | "7")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admission_groups_partition_the_codes() {
        for code in ["11", "12", "13"] {
            assert!(is_elective(code) && !is_emergency(code) && !is_non_elective(code));
        }
        for code in ["21", "22", "23", "24", "25", "28", "2A", "2B", "2C", "2D"] {
            assert!(is_emergency(code) && is_non_elective(code), "{code}");
        }
        assert!(is_transfer_in("2B") && is_transfer_in("81") && !is_transfer_in("21"));
        assert!(is_maternity("31") && !is_emergency("31"));
        assert!(is_birth("82") && is_non_elective("82"));
        assert!(!is_emergency("2"), "a one-character code is not an emergency method");
        assert!(is_day_case("2", "12") && !is_day_case("2", "21") && !is_day_case("1", "12"));
    }

    #[test]
    fn care_home_flags_cover_both_code_generations_but_not_foster_care() {
        for code in ["54", "55", "56", "65", "85", "86"] {
            assert!(from_care_home(code) && to_care_home(code));
        }
        assert!(!to_care_home("66") && !to_care_home("19") && !from_care_home("51"));
    }

    #[test]
    fn ethnic_groups_and_op_status() {
        assert_eq!(ethnic_group("A"), "White");
        assert_eq!(ethnic_group("R"), "Other ethnic group");
        assert_eq!(ethnic_group("99"), "Not stated or unknown");
        assert_eq!(ethnic_group("4"), "Asian or Asian British");
        assert!(op_attended("6") && op_dna("7") && !op_dna("2") && !op_attended("4"));
    }
}
