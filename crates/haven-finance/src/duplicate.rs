//! Duplicates: the same SUS+ record billed on two lines, or — for lines that
//! matched nothing — the same patient, provider, date, setting and HRG,
//! within one invoice, across invoices or across months (datasets.md §10.11
//! MATCH_STATUS DUPLICATE_LINE / ALREADY_PAID). The earliest line in billing
//! order (activity period, invoice date, invoice number, line number) is the
//! one paid; each later one is a duplicate of it.

// hashbrown's default hasher (foldhash): these maps take a lookup or two
// per invoice line, millions in a full ICB's year, and need no defence
// against chosen keys (the keys are the ICB's own data).
use hashbrown::HashMap;

use haven_model::Date;

use crate::matching::SusRef;
use crate::model::{Code, Key, Line, Setting};

/// What makes two lines the same activity.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Same<'a> {
    Record(SusRef),
    Activity { setting: Option<Setting>, person: &'a Key, provider: Code, day: Date, hrg: Code },
}

/// For each line (in `lines` order), the index of the earlier line it
/// duplicates. `order` lists the line indices in billing order; `matched`
/// gives each line's SUS+ record.
pub fn find(lines: &[Line], order: &[usize], matched: &[Option<SusRef>]) -> Vec<Option<usize>> {
    let mut first: HashMap<Same<'_>, usize> = HashMap::with_capacity(order.len());
    let mut out = vec![None; lines.len()];
    for &i in order {
        let l = &lines[i];
        let same = match (matched[i], l.person.as_ref(), l.activity_date) {
            (Some(r), _, _) => Same::Record(r),
            (None, Some(person), Some(day)) => Same::Activity { setting: l.setting, person, provider: l.procode3, day, hrg: l.hrg },
            // Neither a record nor a patient to compare by.
            (None, _, _) => continue,
        };
        match first.get(&same) {
            Some(&j) => out[i] = Some(j),
            None => {
                first.insert(same, i);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn line(person: u8, day: u8, hrg: u8) -> Line {
        Line {
            setting: Some(Setting::Op),
            person: Some(format!("p{person}").into()),
            procode3: "RX1".into(),
            activity_date: Some(Date::from_days(20_000 + i32::from(day))),
            hrg: format!("H{hrg}").into(),
            ..Line::default()
        }
    }

    proptest! {
        /// Whatever the lines and their order: exactly one line of each
        /// group of the same activity is paid (the first in billing order),
        /// and every other one points to it.
        #[test]
        fn one_line_of_each_activity_is_paid_and_the_rest_point_to_it(
            specs in proptest::collection::vec((0u8..3, 0u8..3, 0u8..2, proptest::option::of(0usize..4)), 1..40),
            seed in any::<u64>(),
        ) {
            let lines: Vec<Line> = specs.iter().map(|(p, d, h, _)| line(*p, *d, *h)).collect();
            let matched: Vec<Option<SusRef>> = specs.iter().map(|s| s.3.map(SusRef::Attendance)).collect();
            let mut order: Vec<usize> = (0..lines.len()).collect();
            // A deterministic shuffle by the seed.
            order.sort_by_key(|&i| (i as u64).wrapping_mul(seed | 1).rotate_left(17));
            let dups = find(&lines, &order, &matched);
            let position = |i: usize| order.iter().position(|&o| o == i).unwrap();
            let same = |i: usize, j: usize| match (matched[i], matched[j]) {
                (Some(a), Some(b)) => a == b,
                (None, None) => specs[i].0 == specs[j].0 && specs[i].1 == specs[j].1 && specs[i].2 == specs[j].2,
                _ => false,
            };
            for i in 0..lines.len() {
                let earlier_same = (0..lines.len()).filter(|&j| j != i && same(i, j) && position(j) < position(i)).min_by_key(|&j| position(j));
                match dups[i] {
                    Some(j) => {
                        prop_assert!(dups[j].is_none(), "the original of a duplicate is paid");
                        prop_assert_eq!(Some(j), earlier_same);
                    }
                    None => prop_assert!(earlier_same.is_none(), "line {} repeats an earlier one but was paid", i),
                }
            }
        }
    }
}
