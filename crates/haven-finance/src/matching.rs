//! Matching a line to the SUS+ activity it bills for: by the record key it
//! quotes (SUSSPELLID, ATTENDKEY, EC_IDENT), else by the provider's spell
//! number, else by patient, provider, date and setting — and saying which.
//! A key that names another patient's record, another provider's or
//! another day's is wrong, not a match.

// hashbrown's default hasher (foldhash): these maps take a lookup or two
// per invoice line, millions in a full ICB's year, and need no defence
// against chosen keys (the keys are the ICB's own data).
use hashbrown::HashMap;

use haven_model::Date;
use serde::Serialize;

use crate::check::Sus;
use crate::model::{Inputs, Line, Setting, Spell};

/// How a line was matched (datasets.md §10.11 MATCH_STATUS, by rule).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum MatchedBy {
    /// The SUS+ record key the line quotes.
    RecordKey,
    /// Provider and hospital provider spell number (APC).
    SpellNumber,
    /// Patient, provider, activity date and setting.
    Demographic,
    /// Nothing matched.
    None,
}

impl MatchedBy {
    pub fn name(self) -> &'static str {
        match self {
            MatchedBy::RecordKey => "EXACT_KEY",
            MatchedBy::SpellNumber => "SPELL_NUMBER",
            MatchedBy::Demographic => "MATCHED_DEMOGRAPHIC",
            MatchedBy::None => "NO_SUS_RECORD",
        }
    }
}

/// Which record a line matched: an index into the inputs' spells or
/// attendances.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SusRef {
    Spell(usize),
    Attendance(usize),
}

type PersonDay<'a> = (&'a str, &'a str, Date);

/// The SUS+ activity, indexed every way a line can reach it.
pub struct Index<'a> {
    inputs: &'a Inputs,
    spell_by_key: HashMap<&'a str, usize>,
    spell_by_number: HashMap<(&'a str, &'a str), usize>,
    spells_by_day: HashMap<PersonDay<'a>, Vec<usize>>,
    /// Person and provider → their spells (activity inside a spell).
    spells_by_person: HashMap<(&'a str, &'a str), Vec<usize>>,
    att_by_key: HashMap<(Setting, &'a str), usize>,
    atts_by_day: HashMap<(Setting, &'a str, &'a str, Date), Vec<usize>>,
}

impl<'a> Index<'a> {
    pub fn new(inputs: &'a Inputs) -> Index<'a> {
        let mut ix = Index {
            inputs,
            spell_by_key: HashMap::new(),
            spell_by_number: HashMap::new(),
            spells_by_day: HashMap::new(),
            spells_by_person: HashMap::new(),
            att_by_key: HashMap::new(),
            atts_by_day: HashMap::new(),
        };
        for (i, s) in inputs.spells.iter().enumerate() {
            if let Some(k) = s.sus_key.as_deref() {
                ix.spell_by_key.entry(k).or_insert(i);
            }
            if let Some(n) = s.provspno.as_deref() {
                ix.spell_by_number.entry((&s.provider, n)).or_insert(i);
            }
            if let Some(p) = s.person.as_deref() {
                if let Some(d) = s.admidate {
                    ix.spells_by_day.entry((p, &s.provider, d)).or_default().push(i);
                }
                ix.spells_by_person.entry((p, &s.provider)).or_default().push(i);
            }
        }
        for (i, a) in inputs.attendances.iter().enumerate() {
            let Some(setting) = a.setting else { continue };
            ix.att_by_key.entry((setting, &a.key)).or_insert(i);
            if let (Some(p), Some(d)) = (a.person.as_deref(), a.date) {
                ix.atts_by_day.entry((setting, p, &a.provider, d)).or_default().push(i);
            }
        }
        ix
    }

    /// The record `r` names.
    pub fn get(&self, r: SusRef) -> Sus<'a> {
        match r {
            SusRef::Spell(i) => Sus::Spell(&self.inputs.spells[i]),
            SusRef::Attendance(i) => Sus::Attendance(&self.inputs.attendances[i]),
        }
    }

    /// The spells of a person at a provider.
    pub fn spells_of(&self, person: Option<&str>, provider: &str) -> Vec<&'a Spell> {
        let inputs = self.inputs;
        let ids: &[usize] = person.and_then(|p| self.spells_by_person.get(&(p, provider))).map_or(&[], Vec::as_slice);
        ids.iter().map(|&i| &inputs.spells[i]).collect()
    }

    /// Finds the record `line` bills for, and how.
    pub fn find(&self, line: &Line) -> (MatchedBy, Option<SusRef>) {
        match line.setting {
            Some(Setting::Apc) => self.find_spell(line),
            Some(s @ (Setting::Op | Setting::Ae)) => self.find_attendance(line, s),
            _ => (MatchedBy::None, None),
        }
    }

    fn same_person(line: &Line, person: Option<&str>) -> bool {
        match (line.person.as_deref(), person) {
            (Some(a), Some(b)) => a == b,
            // A withheld NHS number cannot contradict the key.
            (None, _) => true,
            (Some(_), None) => false,
        }
    }

    /// Whether a record's date agrees with the line's (either unknown
    /// cannot disagree).
    fn same_day(line: &Line, day: Option<Date>) -> bool {
        match (line.activity_date, day) {
            (Some(a), Some(b)) => a == b,
            _ => true,
        }
    }

    fn find_spell(&self, line: &Line) -> (MatchedBy, Option<SusRef>) {
        let spells = &self.inputs.spells;
        // A key or spell number is trusted only for the same patient,
        // provider and admission date: one that names another record is a
        // wrong reference, and the line is matched by its own facts.
        let ok = |i: &usize| {
            let s = &spells[*i];
            Self::same_person(line, s.person.as_deref()) && s.provider == line.procode3 && Self::same_day(line, s.admidate)
        };
        if let Some(i) = line.sus_key.as_deref().and_then(|k| self.spell_by_key.get(k)).filter(|i| ok(i)) {
            return (MatchedBy::RecordKey, Some(SusRef::Spell(*i)));
        }
        if let Some(i) = line.provspno.as_deref().and_then(|n| self.spell_by_number.get(&(line.procode3.as_str(), n))).filter(|i| ok(i)) {
            return (MatchedBy::SpellNumber, Some(SusRef::Spell(*i)));
        }
        let (Some(p), Some(d)) = (line.person.as_deref(), line.activity_date) else { return (MatchedBy::None, None) };
        match self.spells_by_day.get(&(p, line.procode3.as_str(), d)) {
            // Where one day holds several spells, the one grouped to the HRG billed.
            Some(ids) => {
                let i = ids.iter().find(|&&i| spells[i].hrg == line.hrg).unwrap_or(&ids[0]);
                (MatchedBy::Demographic, Some(SusRef::Spell(*i)))
            }
            None => (MatchedBy::None, None),
        }
    }

    fn find_attendance(&self, line: &Line, setting: Setting) -> (MatchedBy, Option<SusRef>) {
        let atts = &self.inputs.attendances;
        let ok = |i: &usize| {
            let a = &atts[*i];
            Self::same_person(line, a.person.as_deref()) && a.provider == line.procode3 && Self::same_day(line, a.date)
        };
        if let Some(i) = line.sus_key.as_deref().and_then(|k| self.att_by_key.get(&(setting, k))).filter(|i| ok(i)) {
            return (MatchedBy::RecordKey, Some(SusRef::Attendance(*i)));
        }
        let (Some(p), Some(d)) = (line.person.as_deref(), line.activity_date) else { return (MatchedBy::None, None) };
        match self.atts_by_day.get(&(setting, p, line.procode3.as_str(), d)) {
            Some(ids) => {
                let i = ids.iter().find(|&&i| atts[i].hrg == line.hrg).unwrap_or(&ids[0]);
                (MatchedBy::Demographic, Some(SusRef::Attendance(*i)))
            }
            None => (MatchedBy::None, None),
        }
    }
}
