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
use crate::model::{Code, Inputs, Key, Line, Setting, Spell};

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

type PersonDay<'a> = (&'a Key, Code, Date);

/// The end of a chain.
const END: u32 = u32::MAX;

/// A key → records multimap without a vector per key (a full ICB's year
/// has millions of keys, most with one record): each key holds its first
/// and last record, and `next` chains each record to the following one of
/// the same key, in the order they were added.
struct Chains<K> {
    ends: HashMap<K, (u32, u32)>,
    next: Vec<u32>,
}

impl<K: std::hash::Hash + Eq> Chains<K> {
    fn new(records: usize) -> Chains<K> {
        Chains { ends: HashMap::with_capacity(records), next: vec![END; records] }
    }

    fn push(&mut self, key: K, record: usize) {
        let r = u32::try_from(record).expect("fewer than 4 billion records");
        match self.ends.entry(key) {
            hashbrown::hash_map::Entry::Occupied(mut e) => {
                let (_, last) = e.get_mut();
                self.next[*last as usize] = r;
                *last = r;
            }
            hashbrown::hash_map::Entry::Vacant(e) => {
                e.insert((r, r));
            }
        }
    }

    /// The records of `key`, in the order they were added.
    fn get(&self, key: &K) -> impl Iterator<Item = usize> + '_ {
        let mut at = self.ends.get(key).map_or(END, |e| e.0);
        std::iter::from_fn(move || {
            let r = (at != END).then_some(at as usize)?;
            at = self.next[r];
            Some(r)
        })
    }

    /// The first record of `key` that is `preferred`, else its first.
    fn first_or(&self, key: &K, preferred: impl Fn(usize) -> bool) -> Option<usize> {
        let first = self.ends.get(key)?.0 as usize;
        Some(self.get(key).find(|&i| preferred(i)).unwrap_or(first))
    }
}

/// The SUS+ activity, indexed every way a line can reach it.
pub struct Index<'a> {
    inputs: &'a Inputs,
    spell_by_key: HashMap<&'a Key, usize>,
    spell_by_number: HashMap<(Code, &'a Key), usize>,
    spells_by_day: Chains<PersonDay<'a>>,
    /// Person and provider → their spells (activity inside a spell).
    spells_by_person: Chains<(&'a Key, Code)>,
    att_by_key: HashMap<(Setting, &'a Key), usize>,
    atts_by_day: Chains<(Setting, &'a Key, Code, Date)>,
}

impl<'a> Index<'a> {
    pub fn new(inputs: &'a Inputs) -> Index<'a> {
        // Sized once: rehashing millions of entries as the maps grow costs
        // more than the lookups.
        let (spells, atts) = (inputs.spells.len(), inputs.attendances.len());
        let mut ix = Index {
            inputs,
            spell_by_key: HashMap::with_capacity(spells),
            spell_by_number: HashMap::with_capacity(spells),
            spells_by_day: Chains::new(spells),
            spells_by_person: Chains::new(spells),
            att_by_key: HashMap::with_capacity(atts),
            atts_by_day: Chains::new(atts),
        };
        for (i, s) in inputs.spells.iter().enumerate() {
            if let Some(k) = s.sus_key.as_ref() {
                ix.spell_by_key.entry(k).or_insert(i);
            }
            if let Some(n) = s.provspno.as_ref() {
                ix.spell_by_number.entry((s.provider, n)).or_insert(i);
            }
            if let Some(p) = s.person.as_ref() {
                if let Some(d) = s.admidate {
                    ix.spells_by_day.push((p, s.provider, d), i);
                }
                ix.spells_by_person.push((p, s.provider), i);
            }
        }
        for (i, a) in inputs.attendances.iter().enumerate() {
            let Some(setting) = a.setting else { continue };
            ix.att_by_key.entry((setting, &a.key)).or_insert(i);
            if let (Some(p), Some(d)) = (a.person.as_ref(), a.date) {
                ix.atts_by_day.push((setting, p, a.provider, d), i);
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
    pub fn spells_of(&self, person: Option<&'a Key>, provider: Code) -> impl Iterator<Item = &'a Spell> + '_ {
        let inputs = self.inputs;
        let ids = person.map(|p| self.spells_by_person.get(&(p, provider)));
        ids.into_iter().flatten().map(move |i| &inputs.spells[i])
    }

    /// Finds the record `line` bills for, and how.
    pub fn find(&self, line: &Line) -> (MatchedBy, Option<SusRef>) {
        match line.setting {
            Some(Setting::Apc) => self.find_spell(line),
            Some(s @ (Setting::Op | Setting::Ae)) => self.find_attendance(line, s),
            _ => (MatchedBy::None, None),
        }
    }

    fn same_person(line: &Line, person: Option<&Key>) -> bool {
        match (line.person.as_ref(), person) {
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
            Self::same_person(line, s.person.as_ref()) && s.provider == line.procode3 && Self::same_day(line, s.admidate)
        };
        if let Some(i) = line.sus_key.as_ref().and_then(|k| self.spell_by_key.get(k)).filter(|i| ok(i)) {
            return (MatchedBy::RecordKey, Some(SusRef::Spell(*i)));
        }
        if let Some(i) = line.provspno.as_ref().and_then(|n| self.spell_by_number.get(&(line.procode3, n))).filter(|i| ok(i)) {
            return (MatchedBy::SpellNumber, Some(SusRef::Spell(*i)));
        }
        let (Some(p), Some(d)) = (line.person.as_ref(), line.activity_date) else { return (MatchedBy::None, None) };
        // Where one day holds several spells, the one grouped to the HRG billed.
        match self.spells_by_day.first_or(&(p, line.procode3, d), |i| spells[i].hrg == line.hrg) {
            Some(i) => (MatchedBy::Demographic, Some(SusRef::Spell(i))),
            None => (MatchedBy::None, None),
        }
    }

    fn find_attendance(&self, line: &Line, setting: Setting) -> (MatchedBy, Option<SusRef>) {
        let atts = &self.inputs.attendances;
        let ok = |i: &usize| {
            let a = &atts[*i];
            Self::same_person(line, a.person.as_ref()) && a.provider == line.procode3 && Self::same_day(line, a.date)
        };
        if let Some(i) = line.sus_key.as_ref().and_then(|k| self.att_by_key.get(&(setting, k))).filter(|i| ok(i)) {
            return (MatchedBy::RecordKey, Some(SusRef::Attendance(*i)));
        }
        let (Some(p), Some(d)) = (line.person.as_ref(), line.activity_date) else { return (MatchedBy::None, None) };
        match self.atts_by_day.first_or(&(setting, p, line.procode3, d), |i| atts[i].hrg == line.hrg) {
            Some(i) => (MatchedBy::Demographic, Some(SusRef::Attendance(i))),
            None => (MatchedBy::None, None),
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        /// Whatever the keys: a chain gives back exactly the records of its
        /// key in the order they were added, as a vector per key would, and
        /// `first_or` the first preferred one, else the first.
        #[test]
        fn chains_give_each_keys_records_in_order(keys in proptest::collection::vec(0u8..6, 0..60), preferred in 0usize..60) {
            let mut chains = Chains::new(keys.len());
            let mut naive: std::collections::HashMap<u8, Vec<usize>> = std::collections::HashMap::new();
            for (i, k) in keys.iter().enumerate() {
                chains.push(*k, i);
                naive.entry(*k).or_default().push(i);
            }
            for k in 0u8..6 {
                let want = naive.get(&k).cloned().unwrap_or_default();
                prop_assert_eq!(chains.get(&k).collect::<Vec<_>>(), want.clone());
                let first = want.iter().copied().find(|&i| i % 7 == preferred % 7).or(want.first().copied());
                prop_assert_eq!(chains.first_or(&k, |i| i % 7 == preferred % 7), first);
            }
        }
    }
}
