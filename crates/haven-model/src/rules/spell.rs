//! Provider spells from episodes, and continuous inpatient spells from
//! provider spells (datasets.md §11.1 and §11.2).
//!
//! Sources: HES TOS definitions of EPIORDER, SPELEND, FAE and FCE; NHS
//! Digital's *Provider Spells Methodology* as implemented in
//! `ukhsa-collaboration/epidm` `R/continuous_inpatient_spells.R`.

use std::collections::HashMap;

use super::codes::{is_regular_attender, is_transfer_in};
use crate::date::Date;

/// The episode fields that spell derivation reads.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Episode {
    pub epikey: String,
    /// Person key (a pseudonym or, in identifiable zones, an NHS number).
    pub person: String,
    pub susspellid: Option<String>,
    pub procode3: String,
    /// Provider spell number (clear or pseudonymised).
    pub provspno: Option<String>,
    /// `3` finished; only finished episodes build spells.
    pub epistat: String,
    pub epiorder: Option<u8>,
    pub epistart: Option<Date>,
    pub epiend: Option<Date>,
    pub admidate: Option<Date>,
    pub disdate: Option<Date>,
    pub admimeth: String,
    pub admisorc: String,
    pub classpat: String,
    pub dismeth: String,
    pub disdest: String,
    pub spelend: bool,
    pub diag_4_01: Option<String>,
}

/// A provider spell: admission to discharge at one provider.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Spell {
    pub spell_key: String,
    pub person: String,
    pub procode3: String,
    pub first_epikey: String,
    pub last_epikey: String,
    pub episode_count: u32,
    pub admidate: Option<Date>,
    /// Null while the patient has not been discharged.
    pub disdate: Option<Date>,
    pub admimeth: String,
    pub admisorc: String,
    pub classpat: String,
    pub dismeth: String,
    pub disdest: String,
    /// DIAG_4_01 of the first episode (the SUS choice is partial, §10.2).
    pub primary_diag: Option<String>,
}

impl Spell {
    /// Gross length of stay, DISDATE − ADMIDATE, once discharged.
    pub fn speldur(&self) -> Option<i32> {
        Some(self.disdate?.days_since(self.admidate?))
    }

    /// The fields continuous-inpatient-spell linkage reads.
    pub fn link_fields(&self) -> SpellLinkFields<'_> {
        SpellLinkFields {
            person: &self.person,
            admidate: self.admidate,
            disdate: self.disdate,
            admimeth: &self.admimeth,
            admisorc: &self.admisorc,
            disdest: &self.disdest,
            classpat: &self.classpat,
        }
    }
}

/// Spell key (§10.2): SUSSPELLID when present and not `-1` (unspellable),
/// else the provider plus provider spell number.
pub fn spell_key(susspellid: Option<&str>, procode3: &str, provspno: Option<&str>) -> Option<String> {
    match susspellid {
        Some(id) if !id.is_empty() && id != "-1" => Some(id.to_string()),
        _ => provspno.filter(|p| !p.is_empty()).map(|p| format!("{procode3}:{p}")),
    }
}

/// Groups finished episodes into provider spells (§11.1).
///
/// Episodes that are unfinished (EPISTAT not `3`) or have no spell key are
/// skipped. Admission fields come from the first episode in EPIORDER then
/// EPISTART order; discharge fields from the episode marked SPELEND `Y` or
/// carrying DISDATE, else the last one. Output is ordered by spell key.
pub fn derive_spells(episodes: &[Episode]) -> Vec<Spell> {
    let mut groups: HashMap<String, Vec<&Episode>> = HashMap::new();
    for e in episodes.iter().filter(|e| e.epistat == "3") {
        if let Some(key) = spell_key(e.susspellid.as_deref(), &e.procode3, e.provspno.as_deref()) {
            groups.entry(key).or_default().push(e);
        }
    }
    let mut spells: Vec<Spell> = groups.into_iter().map(|(key, eps)| build_spell(key, eps)).collect();
    spells.sort_by(|a, b| a.spell_key.cmp(&b.spell_key));
    spells
}

fn build_spell(spell_key: String, mut eps: Vec<&Episode>) -> Spell {
    // EPIORDER 98/99 (n/a, not known) sort after real positions.
    eps.sort_by_key(|e| (e.epiorder.unwrap_or(99), e.epistart, e.epiend, e.epikey.clone()));
    let first = eps[0];
    let last = eps
        .iter()
        .rev()
        .find(|e| e.spelend || e.disdate.is_some())
        .copied()
        .unwrap_or(eps[eps.len() - 1]);
    Spell {
        spell_key,
        person: first.person.clone(),
        procode3: first.procode3.clone(),
        first_epikey: first.epikey.clone(),
        last_epikey: last.epikey.clone(),
        episode_count: eps.len() as u32,
        admidate: first.admidate.or(first.epistart),
        disdate: last.disdate,
        admimeth: first.admimeth.clone(),
        admisorc: first.admisorc.clone(),
        classpat: first.classpat.clone(),
        dismeth: last.dismeth.clone(),
        disdest: last.disdest.clone(),
        primary_diag: first.diag_4_01.clone(),
    }
}

/// The spell fields that continuous-inpatient-spell linkage reads.
#[derive(Clone, Copy, Debug)]
pub struct SpellLinkFields<'a> {
    pub person: &'a str,
    pub admidate: Option<Date>,
    pub disdate: Option<Date>,
    pub admimeth: &'a str,
    pub admisorc: &'a str,
    pub disdest: &'a str,
    pub classpat: &'a str,
}

/// DISDEST codes that send the patient to another NHS/independent hospital.
pub const TRANSFER_OUT_DEST: [&str; 6] = ["49", "50", "51", "52", "53", "84"];
/// ADMISORC codes that bring the patient from another hospital.
pub const TRANSFER_IN_SOURCE: [&str; 6] = ["49", "50", "51", "52", "53", "87"];

/// Does spell `b` continue spell `a` (same person, `b` admitted after `a`)?
pub fn continues(a: &SpellLinkFields<'_>, b: &SpellLinkFields<'_>) -> bool {
    if is_regular_attender(a.classpat) || is_regular_attender(b.classpat) {
        return false;
    }
    let (Some(dis), Some(adm)) = (a.disdate, b.admidate) else {
        return false;
    };
    if !(0..=2).contains(&adm.days_since(dis)) {
        return false;
    }
    // Exception: a discharge home followed by a new emergency via A&E that is
    // recorded as from another provider's ward is a new spell.
    if a.disdest == "19" && b.admisorc == "51" && b.admimeth == "21" {
        return false;
    }
    TRANSFER_OUT_DEST.contains(&a.disdest) || TRANSFER_IN_SOURCE.contains(&b.admisorc) || is_transfer_in(b.admimeth)
}

/// Continuous inpatient spells (§11.2).
///
/// Returns, for each input spell, the index (into `spells`) of the first spell
/// of its CIP spell. Input order does not matter.
///
/// Each spell is compared with the person's previous spell in (ADMIDATE,
/// DISDATE) order, nulls last: the consecutive-pair criteria of
/// `ukhsa-collaboration/epidm` `R/continuous_inpatient_spells.R`, and what a
/// `LAG` window computes, so the engine's SQL gives the same CIP spells.
pub fn continuous_inpatient_spells(spells: &[SpellLinkFields<'_>]) -> Vec<usize> {
    let last = |d: Option<Date>| (d.is_none(), d);
    let mut order: Vec<usize> = (0..spells.len()).collect();
    order.sort_by(|&i, &j| {
        let (a, b) = (&spells[i], &spells[j]);
        (a.person, last(a.admidate), last(a.disdate)).cmp(&(b.person, last(b.admidate), last(b.disdate)))
    });
    let mut head = vec![0; spells.len()];
    let mut prev: Option<usize> = None;
    for &i in &order {
        head[i] = match prev {
            Some(p) if spells[p].person == spells[i].person && continues(&spells[p], &spells[i]) => head[p],
            _ => i,
        };
        prev = Some(i);
    }
    head
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Option<Date> {
        Some(Date::parse(s).unwrap())
    }

    /// One episode in a compact form: key, spell id, order, start, end, spell end flag.
    fn ep(key: &str, spell: &str, order: u8, start: &str, end: &str, last: bool) -> Episode {
        Episode {
            epikey: key.into(),
            person: "P1".into(),
            susspellid: Some(spell.into()),
            procode3: "RAA".into(),
            epistat: "3".into(),
            epiorder: Some(order),
            epistart: d(start),
            epiend: d(end),
            admidate: d("2024-05-01"),
            disdate: if last { d(end) } else { None },
            admimeth: "21".into(),
            admisorc: "19".into(),
            classpat: "1".into(),
            dismeth: if last { "1".into() } else { "8".into() },
            disdest: if last { "19".into() } else { "98".into() },
            spelend: last,
            diag_4_01: Some(format!("D{order}")),
            ..Default::default()
        }
    }

    #[test]
    fn three_episodes_make_one_spell_with_first_and_last_fields() {
        // Given out of order; the spell runs 1 May to 9 May (8 days).
        let eps = vec![
            ep("E3", "S1", 3, "2024-05-06", "2024-05-09", true),
            ep("E1", "S1", 1, "2024-05-01", "2024-05-03", false),
            ep("E2", "S1", 2, "2024-05-03", "2024-05-06", false),
            ep("F1", "S2", 1, "2024-06-01", "2024-06-01", true),
        ];
        let spells = derive_spells(&eps);
        assert_eq!(spells.len(), 2);
        let s = &spells[0];
        assert_eq!((s.first_epikey.as_str(), s.last_epikey.as_str(), s.episode_count), ("E1", "E3", 3));
        assert_eq!(s.primary_diag.as_deref(), Some("D1"));
        assert_eq!(s.disdest, "19");
        assert_eq!(s.speldur(), Some(8));
    }

    #[test]
    fn unfinished_episodes_and_unspellable_rows_are_left_out() {
        let mut unfinished = ep("E9", "S9", 1, "2024-05-01", "2024-05-02", true);
        unfinished.epistat = "1".into();
        let mut unspellable = ep("E8", "-1", 1, "2024-05-01", "2024-05-02", true);
        unspellable.provspno = None;
        let mut by_provider = ep("E7", "-1", 1, "2024-05-01", "2024-05-02", true);
        by_provider.provspno = Some("X12".into());
        let spells = derive_spells(&[unfinished, unspellable, by_provider]);
        assert_eq!(spells.len(), 1);
        assert_eq!(spells[0].spell_key, "RAA:X12");
    }

    fn link<'a>(person: &'a str, adm: &str, dis: &str, meth: &'a str, src: &'a str, dest: &'a str) -> SpellLinkFields<'a> {
        SpellLinkFields { person, admidate: d(adm), disdate: d(dis), admimeth: meth, admisorc: src, disdest: dest, classpat: "1" }
    }

    #[test]
    fn transfers_chain_into_one_continuous_spell() {
        let spells = [
            link("P1", "2024-01-01", "2024-01-05", "21", "19", "51"), // 0: sent to another hospital
            link("P1", "2024-01-05", "2024-01-20", "2B", "51", "19"), // 1: transfer in, same day
            link("P1", "2024-01-21", "2024-01-22", "21", "19", "19"), // 2: new emergency next day, home → home
            link("P2", "2024-01-06", "2024-01-07", "81", "51", "19"), // 3: another person
            link("P1", "2024-03-01", "2024-03-02", "81", "51", "19"), // 4: transfer method but 39 days later
        ];
        assert_eq!(continuous_inpatient_spells(&spells), vec![0, 0, 2, 3, 4]);
    }

    #[test]
    fn a_chain_of_three_providers_is_one_continuous_spell() {
        let spells = [
            link("P1", "2024-02-12", "2024-02-14", "2B", "51", "19"), // 2: second transfer, 2 days after 1 ended
            link("P1", "2024-02-01", "2024-02-05", "21", "19", "51"), // 0
            link("P1", "2024-02-05", "2024-02-10", "2B", "51", "51"), // 1
            link("P1", "2024-02-17", "2024-02-18", "81", "19", "19"), // 3: 3 days after 2 ended: a new spell
        ];
        assert_eq!(continuous_inpatient_spells(&spells), vec![1, 1, 1, 3]);
    }

    #[test]
    fn the_a_and_e_exception_and_regular_attenders_do_not_link() {
        let mut spells = vec![
            link("P1", "2024-01-01", "2024-01-02", "21", "19", "19"),
            link("P1", "2024-01-03", "2024-01-04", "21", "51", "19"), // excluded by the 19/51/21 rule
        ];
        assert_eq!(continuous_inpatient_spells(&spells), vec![0, 1]);
        spells[1].admimeth = "2B";
        assert_eq!(continuous_inpatient_spells(&spells), vec![0, 0]);
        spells[0].classpat = "3";
        assert_eq!(continuous_inpatient_spells(&spells), vec![0, 1]);
    }
}
