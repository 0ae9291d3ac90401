//! The GP record per person: coded events turned into eFI deficits and
//! long-term conditions through the operator's code maps, and medicine issues reduced to each
//! substance's last issue in the window.

use hashbrown::HashMap;
use haven_store::{Zone, ZoneSession};

use super::source::{d, each, s, sql_date, Cols, Interner, PersonIndex};
use super::{CodeMaps, DeficitSet, Issue, RiskOptions};
use crate::gp_conditions::GpConditionSet;
use crate::error::Result;
use crate::window::months_before;

/// What the GP codes of one person, or one code, map to.
#[derive(Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Coded {
    pub deficits: DeficitSet,
    pub conditions: GpConditionSet,
}

impl Coded {
    fn of(code: &str, maps: &CodeMaps<'_>) -> Coded {
        Coded {
            deficits: maps.efi.map(|m| m.deficits_of([code]).into_iter().collect()).unwrap_or_default(),
            conditions: maps.conditions.map(|m| m.conditions_of([code])).unwrap_or_default(),
        }
    }

    fn union(self, other: Coded) -> Coded {
        Coded { deficits: self.deficits.union(other.deficits), conditions: self.conditions.union(other.conditions) }
    }

    fn is_empty(self) -> bool {
        self.deficits.is_empty() && self.conditions.is_empty()
    }
}

/// Each person's eFI deficits and long-term conditions from GP codes
/// recorded on or before I (both "ever recorded": riskscores.md §4 for the
/// eFI, [`crate::gp_conditions`] for the conditions), in one pass over
/// `gp_event`. Each distinct code is looked up in the maps once.
pub(crate) fn coded(zs: &ZoneSession, options: &RiskOptions, index: &mut PersonIndex<'_>, maps: &CodeMaps<'_>, people: usize) -> Result<Vec<Coded>> {
    let mut out = vec![Coded::default(); people];
    let mut by_code: HashMap<Box<str>, Coded> = HashMap::new();
    let filter = format!("\"EVENT_DATE\" <= {}", sql_date(options.index_date));
    each(zs, Zone::Pseudonymised, "gp_event", &["TOKEN_PERSON_ID", "CODE"], &filter, |b| {
        let c = Cols { b, dataset: "gp_event" };
        let (person, code) = (c.text("TOKEN_PERSON_ID")?, c.text("CODE")?);
        for i in 0..b.num_rows() {
            let (Some(p), Some(code)) = (s(&person, i), s(&code, i)) else { continue };
            let found = match by_code.get(code) {
                Some(found) => *found,
                None => *by_code.entry(code.into()).or_insert_with(|| Coded::of(code, maps)),
            };
            if found.is_empty() {
                continue;
            }
            if let Some(row) = index.get(p) {
                out[row as usize] = out[row as usize].union(found);
            }
        }
        Ok(())
    })?;
    Ok(out)
}

/// The BNF chemical substance of a code: its first nine characters
/// ([`crate::polypharmacy`] counts medicines at that level and decides
/// which codes are valid).
fn substance(bnf: &str) -> &str {
    bnf.get(..9).unwrap_or(bnf)
}

/// The substances issued in the `medicine_months` calendar months ending
/// on I (sorted), and per person each substance's last issue in them.
pub(crate) fn medicines(zs: &ZoneSession, options: &RiskOptions, index: &mut PersonIndex<'_>, people: usize) -> Result<(Vec<String>, Vec<Vec<Issue>>)> {
    let on = options.index_date;
    let filter = format!("\"ISSUE_DATE\" > {} AND \"ISSUE_DATE\" <= {}", sql_date(months_before(on, options.medicine_months)), sql_date(on));
    let mut names = Interner::default();
    let mut last: HashMap<(u32, u32), haven_model::Date> = HashMap::new();
    each(zs, Zone::Pseudonymised, "gp_medication", &["TOKEN_PERSON_ID", "BNF_CODE", "ISSUE_DATE"], &filter, |b| {
        let c = Cols { b, dataset: "gp_medication" };
        let (person, bnf, issued) = (c.text("TOKEN_PERSON_ID")?, c.text("BNF_CODE")?, c.dates("ISSUE_DATE")?);
        for i in 0..b.num_rows() {
            let (Some(p), Some(code), Some(day)) = (s(&person, i), s(&bnf, i), d(&issued, i)) else { continue };
            let Some(row) = index.get(p) else { continue };
            let e = last.entry((row, names.id(substance(code)))).or_insert(day);
            *e = (*e).max(day);
        }
        Ok(())
    })?;
    let (table, remap) = names.finish();
    let mut out: Vec<Vec<Issue>> = vec![Vec::new(); people];
    for ((row, id), day) in last {
        out[row as usize].push(Issue { medicine: remap[id as usize], last_issued: day });
    }
    out.iter_mut().for_each(|v| v.sort_unstable_by_key(|i| i.medicine));
    Ok((table, out))
}
