//! Provider spells from episodes, and continuous inpatient spells from
//! provider spells (datasets.md §11.1 and §11.2).
//!
//! Sources: HES TOS definitions of EPIORDER, SPELEND, FAE and FCE; NHS
//! Digital's *Provider Spells Methodology* as implemented in
//! `ukhsa-collaboration/epidm` `R/continuous_inpatient_spells.R`.

use std::collections::HashMap;

use serde::Serialize;

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

/// Which rule of the spell key order keyed an episode (datasets.md §10.2
/// and §11.1), in the order they are tried.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SpellKeyRule {
    /// SUSSPELLID, when present and not `-1` (unspellable).
    SusSpellId,
    /// The provider (PROCODE3) and its provider spell number (PROVSPNOPS):
    /// spell numbers are unique only within a provider.
    ProviderSpellNumber,
    /// Person, provider and admission date: the fallback for extracts with
    /// no spell identifier (NHS Digital's artificial HES, older HES years).
    /// Two admissions of one person to one provider on one day merge.
    PersonProviderAdmission,
}

impl SpellKeyRule {
    pub const ALL: [SpellKeyRule; 3] = [SpellKeyRule::SusSpellId, SpellKeyRule::ProviderSpellNumber, SpellKeyRule::PersonProviderAdmission];

    /// The name in load summaries and JSON.
    pub fn name(self) -> &'static str {
        match self {
            SpellKeyRule::SusSpellId => "sus_spell_id",
            SpellKeyRule::ProviderSpellNumber => "provider_spell_number",
            SpellKeyRule::PersonProviderAdmission => "person_provider_admission",
        }
    }

    /// What the rule keys on, for people.
    pub fn describe(self) -> &'static str {
        match self {
            SpellKeyRule::SusSpellId => "SUSSPELLID",
            SpellKeyRule::ProviderSpellNumber => "PROCODE3 + PROVSPNOPS",
            SpellKeyRule::PersonProviderAdmission => "person + PROCODE3 + ADMIDATE",
        }
    }
}

/// The fields the spell key reads from one episode.
#[derive(Clone, Copy, Debug, Default)]
pub struct SpellKeyFields<'a> {
    pub susspellid: Option<&'a str>,
    pub procode3: Option<&'a str>,
    pub provspno: Option<&'a str>,
    pub person: Option<&'a str>,
    pub admidate: Option<Date>,
}

/// Writes the episode's spell key into `out` (cleared first) and says which
/// rule made it, or `None` when no rule applies (the episode builds no
/// spell). The key order is datasets.md §10.2 / §11.1: SUSSPELLID when
/// present and not `-1`; else provider and provider spell number; else
/// person, provider and admission date. Each rule's keys carry their own prefix,
/// so keys of different rules never collide; provider codes hold no `:`.
pub fn spell_key_into(f: &SpellKeyFields<'_>, out: &mut String) -> Option<SpellKeyRule> {
    use std::fmt::Write;
    fn given(v: Option<&str>) -> Option<&str> {
        v.filter(|v| !v.is_empty())
    }
    out.clear();
    if let Some(id) = given(f.susspellid).filter(|id| *id != "-1") {
        out.push_str("S:");
        out.push_str(id);
        return Some(SpellKeyRule::SusSpellId);
    }
    // A missing provider is read as blank rather than dropping the
    // episode: its spell number still groups it (SQL's GROUP BY does the same).
    let provider = given(f.procode3).unwrap_or("");
    if let Some(number) = given(f.provspno) {
        let _ = write!(out, "P:{provider}:{number}");
        return Some(SpellKeyRule::ProviderSpellNumber);
    }
    let (person, admidate) = (given(f.person)?, f.admidate?);
    let _ = write!(out, "A:{person}:{provider}:{admidate}");
    Some(SpellKeyRule::PersonProviderAdmission)
}

/// [`spell_key_into`] into a new string.
pub fn spell_key(f: &SpellKeyFields<'_>) -> Option<(String, SpellKeyRule)> {
    let mut out = String::new();
    spell_key_into(f, &mut out).map(|rule| (out, rule))
}

/// The episode's spell key fields.
impl Episode {
    pub fn key_fields(&self) -> SpellKeyFields<'_> {
        SpellKeyFields {
            susspellid: self.susspellid.as_deref(),
            procode3: Some(&self.procode3),
            provspno: self.provspno.as_deref(),
            person: Some(&self.person),
            admidate: self.admidate,
        }
    }
}

/// Groups episodes into provider spells by [`spell_key`] (§11.1), as the
/// engine's SQL and the derived spells do (their tests compare all three):
///
/// - every episode with a key counts, finished or not: the chronic ACSC
///   indicator counts unfinished admission episodes (methods.md §3.1), and
///   a spell whose last episode is unfinished is an open spell (DISDATE
///   null) rather than a missing one;
/// - person and provider are the least over the spell's episodes,
///   admission date the earliest, discharge date the latest;
/// - patient class is the least over the episodes (what linkage reads);
/// - admission fields and the primary diagnosis come from the episode with
///   EPIORDER 01 (empty when the spell has none);
/// - discharge method and destination from an episode that ends on the
///   spell's discharge date (the greatest code when several do).
///
/// `first_epikey`/`last_epikey` are the first and last in EPIORDER then
/// EPISTART order. Output is ordered by spell key.
pub fn derive_spells(episodes: &[Episode]) -> Vec<Spell> {
    let mut groups: HashMap<String, Vec<&Episode>> = HashMap::new();
    let mut key = String::new();
    for e in episodes {
        if spell_key_into(&e.key_fields(), &mut key).is_some() {
            groups.entry(key.clone()).or_default().push(e);
        }
    }
    let mut spells: Vec<Spell> = groups.into_iter().map(|(key, eps)| build_spell(key, eps)).collect();
    spells.sort_by(|a, b| a.spell_key.cmp(&b.spell_key));
    spells
}

fn build_spell(spell_key: String, mut eps: Vec<&Episode>) -> Spell {
    // EPIORDER 98/99 (n/a, not known) sort after real positions.
    eps.sort_by_key(|e| (e.epiorder.unwrap_or(99), e.epistart, e.epiend, e.epikey.clone()));
    let admitting = eps.iter().filter(|e| e.epiorder == Some(1)).min_by_key(|e| (e.epistart, e.epikey.clone()));
    let disdate = eps.iter().filter_map(|e| e.disdate).max();
    let at_discharge = |f: fn(&Episode) -> &String| {
        eps.iter().filter(|e| disdate.is_some() && e.epiend == disdate).map(|e| f(e)).max().cloned().unwrap_or_default()
    };
    let first_field = |f: fn(&Episode) -> &String| admitting.map(|e| f(e).clone()).unwrap_or_default();
    Spell {
        person: eps.iter().map(|e| &e.person).min().cloned().unwrap_or_default(),
        procode3: eps.iter().map(|e| &e.procode3).min().cloned().unwrap_or_default(),
        first_epikey: eps[0].epikey.clone(),
        last_epikey: eps[eps.len() - 1].epikey.clone(),
        episode_count: eps.len() as u32,
        admidate: eps.iter().filter_map(|e| e.admidate).min(),
        disdate,
        admimeth: first_field(|e| &e.admimeth),
        admisorc: first_field(|e| &e.admisorc),
        classpat: eps.iter().map(|e| &e.classpat).filter(|c| !c.is_empty()).min().cloned().unwrap_or_default(),
        dismeth: at_discharge(|e| &e.dismeth),
        disdest: at_discharge(|e| &e.disdest),
        primary_diag: admitting.and_then(|e| e.diag_4_01.clone()),
        spell_key,
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
    fn the_spell_key_order_is_sus_id_then_provider_number_then_person_provider_admission() {
        let mut f = SpellKeyFields {
            susspellid: Some("777"),
            procode3: Some("RAA"),
            provspno: Some("X12"),
            person: Some("P1"),
            admidate: d("2024-05-01"),
        };
        assert_eq!(spell_key(&f), Some(("S:777".to_owned(), SpellKeyRule::SusSpellId)));
        // -1 is "unspellable" (datasets.md §10.1), and blank is absent.
        for unspellable in [Some("-1"), Some(""), None] {
            f.susspellid = unspellable;
            assert_eq!(spell_key(&f), Some(("P:RAA:X12".to_owned(), SpellKeyRule::ProviderSpellNumber)));
        }
        f.provspno = None;
        assert_eq!(spell_key(&f), Some(("A:P1:RAA:2024-05-01".to_owned(), SpellKeyRule::PersonProviderAdmission)));
        // Without a person or an admission date, no rule applies; a missing
        // provider is blank.
        assert_eq!(spell_key(&SpellKeyFields { person: None, ..f }), None);
        assert_eq!(spell_key(&SpellKeyFields { admidate: None, ..f }), None);
        assert_eq!(spell_key(&SpellKeyFields { procode3: None, ..f }).unwrap().0, "A:P1::2024-05-01");
        // A SUSSPELLID needs nothing else.
        assert_eq!(spell_key(&SpellKeyFields { susspellid: Some("9"), ..SpellKeyFields::default() }).map(|k| k.1), Some(SpellKeyRule::SusSpellId));
    }

    #[test]
    fn two_providers_sharing_a_spell_number_make_two_spells() {
        let mut a = ep("E1", "-1", 1, "2024-05-01", "2024-05-02", true);
        a.provspno = Some("1001".into());
        let mut b = a.clone();
        b.epikey = "E2".into();
        b.procode3 = "RBB".into();
        b.person = "P2".into();
        let spells = derive_spells(&[a.clone(), b]);
        assert_eq!(spells.iter().map(|s| (s.spell_key.as_str(), s.person.as_str())).collect::<Vec<_>>(), [("P:RAA:1001", "P1"), ("P:RBB:1001", "P2")]);
        // The same number at the same provider is one spell.
        let mut c = a.clone();
        c.epikey = "E3".into();
        c.epiorder = Some(2);
        assert_eq!(derive_spells(&[a, c])[0].episode_count, 2);
    }

    #[test]
    fn extracts_without_spell_ids_group_by_person_provider_and_admission_date() {
        // Artificial HES shape: no SUSSPELLID, no PROVSPNOPS. Two episodes of
        // one admission, and the same person's admission to another provider
        // on the same day: two spells.
        let mut e1 = ep("E1", "", 1, "2024-05-01", "2024-05-03", false);
        let mut e2 = ep("E2", "", 2, "2024-05-03", "2024-05-06", true);
        let mut other = ep("F1", "", 1, "2024-05-01", "2024-05-01", true);
        other.procode3 = "RBB".into();
        for e in [&mut e1, &mut e2, &mut other] {
            e.susspellid = None;
        }
        let spells = derive_spells(&[e1, e2, other]);
        assert_eq!(spells.len(), 2);
        assert_eq!((spells[0].spell_key.as_str(), spells[0].episode_count, spells[0].speldur()), ("A:P1:RAA:2024-05-01", 2, Some(5)));
        assert_eq!(spells[1].spell_key, "A:P1:RBB:2024-05-01");
    }

    #[test]
    fn unfinished_episodes_count_and_leave_the_spell_open() {
        // An admission whose only episode is unfinished (EPISTAT 1, no
        // DISDATE) is an open spell: counted as an admission, no discharge.
        let mut unfinished = ep("E9", "S9", 1, "2024-05-01", "2024-05-02", false);
        unfinished.epistat = "1".into();
        let spells = derive_spells(&[unfinished]);
        assert_eq!(spells.len(), 1);
        assert_eq!((spells[0].disdate, spells[0].dismeth.as_str(), spells[0].admimeth.as_str()), (None, "", "21"));
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
