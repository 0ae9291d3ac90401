//! How [`crate::read`] reaches a zone session: each table streamed batch by
//! batch with only the columns it needs (as `haven-finance`'s reader does,
//! so a full ICB's years of activity are never held as Arrow batches), each
//! column cast to the type the reader wants, people found by pseudonym in a
//! hash table over the sorted population, and strings numbered so that the
//! result does not depend on the order batches arrive in.

use std::collections::HashMap;
use std::hash::BuildHasher;

use arrow::array::{Array, ArrayRef, Date32Array, Int32Array, StringArray};
use arrow::compute::cast;
use arrow::datatypes::DataType;
use arrow::record_batch::RecordBatch;
use hashbrown::{DefaultHashBuilder, HashTable};
use haven_model::Date;
use haven_store::{Zone, ZoneSession};

use crate::error::{Result, RiskError};

/// One batch's columns by name, cast to the types the reader reads.
pub(crate) struct Cols<'a> {
    pub b: &'a RecordBatch,
    pub dataset: &'a str,
}

impl Cols<'_> {
    fn column(&self, name: &str, ty: &DataType) -> Result<ArrayRef> {
        let shape = || RiskError::Shape { dataset: self.dataset.into(), column: name.into() };
        let c = self.b.column_by_name(name).ok_or_else(shape)?;
        cast(c, ty).map_err(|_| shape())
    }

    pub fn text(&self, name: &str) -> Result<StringArray> {
        Ok(self.column(name, &DataType::Utf8)?.as_any().downcast_ref::<StringArray>().expect("cast to Utf8").clone())
    }

    pub fn dates(&self, name: &str) -> Result<Date32Array> {
        Ok(self.column(name, &DataType::Date32)?.as_any().downcast_ref::<Date32Array>().expect("cast to Date32").clone())
    }

    pub fn ints(&self, name: &str) -> Result<Int32Array> {
        Ok(self.column(name, &DataType::Int32)?.as_any().downcast_ref::<Int32Array>().expect("cast to Int32").clone())
    }
}

/// A non-blank string value, trimmed.
pub(crate) fn s(a: &StringArray, i: usize) -> Option<&str> {
    a.is_valid(i).then(|| a.value(i).trim()).filter(|v| !v.is_empty())
}

pub(crate) fn d(a: &Date32Array, i: usize) -> Option<Date> {
    a.is_valid(i).then(|| Date::from_days(a.value(i)))
}

pub(crate) fn n(a: &Int32Array, i: usize) -> Option<i32> {
    a.is_valid(i).then(|| a.value(i))
}

/// A date as a SQL literal DataFusion compares with `Date32` columns.
pub(crate) fn sql_date(day: Date) -> String {
    format!("CAST('{day}' AS DATE)")
}

/// Whether the session opened `zone.dataset` (the grant admitted it and it
/// is loaded).
pub(crate) fn is_open(zs: &ZoneSession, zone: Zone, dataset: &str) -> bool {
    !zs.columns(zone, dataset).is_empty()
}

/// Hands each batch of the `wanted` columns of `zone.dataset`, rows
/// restricted by `filter` (an SQL condition, or empty), to `f` as the query
/// makes it. A wanted column the table lacks is left out of the query, so
/// a required one fails in [`Cols`] naming the dataset and column; a
/// dataset not open fails with [`RiskError::Missing`].
pub(crate) fn each(zs: &ZoneSession, zone: Zone, dataset: &str, wanted: &[&str], filter: &str, mut f: impl FnMut(&RecordBatch) -> Result<()>) -> Result<()> {
    let present = zs.columns(zone, dataset);
    if present.is_empty() {
        return Err(RiskError::Missing(format!("{}.{dataset}", zone.name())));
    }
    let cols: Vec<String> = wanted.iter().filter(|w| present.iter().any(|p| p == *w)).map(|w| format!("\"{w}\"")).collect();
    if cols.is_empty() {
        return Err(RiskError::Shape { dataset: dataset.into(), column: wanted.first().copied().unwrap_or_default().into() });
    }
    let filter = if filter.is_empty() { String::new() } else { format!(" WHERE {filter}") };
    let query = format!("SELECT {} FROM {}.{dataset}{filter}", cols.join(", "), zone.name());
    zs.sql_each(&query, |b| f(&b))
}

/// Finds a person's row by pseudonym: a hash table of row numbers over the
/// sorted pseudonyms, so no pseudonym is stored twice. GP extracts list a
/// person's rows together, so the previous answer is tried first.
pub(crate) struct PersonIndex<'a> {
    keys: &'a [Box<str>],
    table: HashTable<u32>,
    hasher: DefaultHashBuilder,
    last: Option<u32>,
}

impl<'a> PersonIndex<'a> {
    pub fn new(keys: &'a [Box<str>]) -> Self {
        let hasher = DefaultHashBuilder::default();
        let mut table = HashTable::with_capacity(keys.len());
        for (i, k) in keys.iter().enumerate() {
            table.insert_unique(hasher.hash_one(&**k), i as u32, |&j| hasher.hash_one(&*keys[j as usize]));
        }
        PersonIndex { keys, table, hasher, last: None }
    }

    /// The row of `key`, if the person is in the population.
    pub fn get(&mut self, key: &str) -> Option<u32> {
        if let Some(i) = self.last.filter(|&i| &*self.keys[i as usize] == key) {
            return Some(i);
        }
        let keys = self.keys;
        let found = self.table.find(self.hasher.hash_one(key), |&j| &*keys[j as usize] == key).copied();
        if found.is_some() {
            self.last = found;
        }
        found
    }
}

/// Distinct strings numbered in first-seen order; [`Interner::finish`]
/// renumbers them in sorted order, so ids do not depend on batch order.
#[derive(Default)]
pub(crate) struct Interner {
    ids: HashMap<Box<str>, u32>,
    names: Vec<Box<str>>,
}

impl Interner {
    pub fn id(&mut self, text: &str) -> u32 {
        if let Some(&id) = self.ids.get(text) {
            return id;
        }
        let id = self.names.len() as u32;
        self.names.push(text.into());
        self.ids.insert(text.into(), id);
        id
    }

    /// The id of `text`, if seen.
    pub fn find(&self, text: &str) -> Option<u32> {
        self.ids.get(text).copied()
    }

    pub fn name(&self, id: u32) -> &str {
        &self.names[id as usize]
    }

    /// The names sorted, and for each first-seen id its sorted id.
    pub fn finish(self) -> (Vec<String>, Vec<u32>) {
        let mut order: Vec<u32> = (0..self.names.len() as u32).collect();
        order.sort_by(|&a, &b| self.names[a as usize].cmp(&self.names[b as usize]));
        let mut remap = vec![0; order.len()];
        for (new, &old) in order.iter().enumerate() {
            remap[old as usize] = new as u32;
        }
        (order.iter().map(|&i| self.names[i as usize].to_string()).collect(), remap)
    }
}

/// 64-bit FNV-1a then the splitmix64 finaliser (as `model::split`): a
/// fixed hash of a spell key, so two spells of one person are told apart
/// without keeping the key's text (a collision between two spells of the
/// same person has probability about 2⁻⁶⁴).
pub(crate) fn key_hash(text: &str) -> u64 {
    let h = text.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3));
    let mut z = h;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}
