//! Per-zone selection and shaping of validated rows: opt-outs, minimisation,
//! then the zone's columns (identifiers dropped, tokens keyed per zone).
//!
//! Record identifiers (columns marked `haven.record_key` in the model's
//! schema: EPIKEY, SUSRECID, ATTENDKEY, invoice ids, ...) are keyed too, with
//! the zone's own key in every keyed zone, so a pseudonymised row cannot be
//! joined to an identifiable zone's row by its record key (issue 14 item 8).
//! Equal values stay equal within a zone (spells, CIPs, the critical-care
//! link and invoice matching still work); nulls and documented sentinels
//! (SUSSPELLID `-1`) are kept as they are.

use std::collections::HashSet;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, BooleanArray, StringArray};
use arrow::compute::filter_record_batch;
use arrow::datatypes::{Schema, SchemaRef};
use arrow::record_batch::RecordBatch;
use haven_model::schema::{is_identifiable, is_record_key_sentinel, record_key_space, Table};
use haven_store::{Zone, ZoneCounts};

use crate::error::IngestError;
use crate::feed::{Feed, Origin, Roles};
use crate::keys::{Keys, ZoneKey};
use crate::policy::{Context, IngestPolicy};
use crate::validate::Validated;

/// How one zone's rows and columns are chosen.
pub struct ZonePlan {
    pub zone: Zone,
    pub schema: SchemaRef,
    columns: Vec<Source>,
    purposes: Vec<String>,
    minimise: bool,
    /// For tables without person or place (critical care): keep rows whose
    /// episode is kept in this zone (the zone's EPIKEYs, keyed with
    /// `link_key` when the zone keys record identifiers).
    link: Option<(usize, Arc<HashSet<String>>)>,
    link_key: Option<ZoneKey>,
}

enum Source {
    Copy(usize),
    PersonToken(ZoneKey),
    SpellToken(ZoneKey, usize, usize),
    /// A record identifier keyed in its identifier space; the field gives
    /// the sentinels kept as they are.
    RecordToken { key: ZoneKey, input: usize, space: String, field: arrow::datatypes::FieldRef },
}

/// Columns the CEfF zone drops: invoice validation matches on NHS number and
/// provider spell number, and needs age and LSOA, not birth date or address.
const CEFF_DROPS: [&str; 3] = ["DOB", "POSTCODE", "MYDOB"];

impl ZonePlan {
    /// Plans `zone` for `feed`. `links` gives, for the link-filtered tables,
    /// the episode keys already in the zone.
    pub fn new(
        feed: Feed,
        zone: Zone,
        keys: &Keys,
        policy: &IngestPolicy,
        links: Option<Arc<HashSet<String>>>,
    ) -> Result<ZonePlan, IngestError> {
        let table = feed.table;
        let full = table.schema();
        let schema: SchemaRef = match zone {
            Zone::Pseudonymised | Zone::National => table.pseudonymised_schema(),
            Zone::Ceff => Arc::new(Schema::new(
                full.fields()
                    .iter()
                    .filter(|f| !CEFF_DROPS.contains(&f.name().as_str()))
                    .cloned()
                    .collect::<Vec<_>>(),
            )),
            _ => full.clone(),
        };
        // Direct care's map carries the pseudonymised zone's token, so a GP's
        // own patients can be re-identified from pseudonymised results.
        let token_key = match zone {
            Zone::Ceff => keys.get(Zone::Ceff),
            Zone::Pseudonymised | Zone::DirectCare => keys.get(Zone::Pseudonymised),
            _ => None,
        };
        let roles = feed.roles();
        if feed.origin == Origin::Local && roles.nhs.is_some() && token_key.is_none() && zone.has_key() {
            return Err(IngestError::Key { zone: zone.name().into(), reason: "not loaded".into() });
        }
        let idx = |n: &str| full.index_of(n).expect("schema column");
        // Record identifiers are keyed with the zone's own key in every zone
        // that has one (staging keeps them clear; the national zone has none).
        let record_key = if zone.has_key() { keys.get(zone) } else { None };
        if zone.has_key() && record_key.is_none() && schema.fields().iter().any(|f| record_key_space(f).is_some()) {
            return Err(IngestError::Key { zone: zone.name().into(), reason: "not loaded".into() });
        }
        let columns = schema
            .fields()
            .iter()
            .map(|f| {
                let name = f.name().as_str();
                match (name, token_key, feed.origin) {
                    ("TOKEN_PERSON_ID", Some(k), Origin::Local) if roles.nhs.is_some() => return Source::PersonToken(k.clone()),
                    _ => {}
                }
                match (record_key_space(f), record_key) {
                    (Some(_), Some(k)) if name == "PROVSPNOPS" && roles.spell.is_some() => Source::SpellToken(
                        k.clone(),
                        idx(roles.provider.unwrap_or("PROCODE3")),
                        idx(roles.spell.expect("checked")),
                    ),
                    (Some(space), Some(k)) => {
                        Source::RecordToken { key: k.clone(), input: idx(name), space: space.to_owned(), field: f.clone() }
                    }
                    _ => Source::Copy(idx(name)),
                }
            })
            .collect();
        debug_assert!(zone.holds_identifiers() || !schema.fields().iter().any(|f| is_identifiable(f)));
        let local_person = feed.origin == Origin::Local;
        let link = match (table, links) {
            (Table::CcPeriod, Some(set)) if zone != Zone::Staging => Some((idx("EPIKEY"), set)),
            _ => None,
        };
        Ok(ZonePlan {
            zone,
            schema,
            columns,
            purposes: policy.optout_purposes.get(&zone).cloned().unwrap_or_default(),
            // Invoices are addressed to the commissioner and validation must
            // see every line, including those it will challenge as another
            // commissioner's responsibility, so they are not minimised.
            minimise: local_person
                && feed.roles().nhs.is_some()
                && !matches!(table, Table::InvoiceLine | Table::InvoiceHeader)
                && matches!(zone, Zone::Ceff | Zone::Pseudonymised | Zone::DirectCare),
            link_key: link.as_ref().and(record_key.cloned()),
            link,
        })
    }

    /// Selects and shapes the rows of one validated chunk, adding to `counts`.
    pub fn apply(
        &self,
        v: &Validated,
        roles: &Roles,
        ctx: &Context,
        policy: &IngestPolicy,
        counts: &mut ZoneCounts,
    ) -> Result<RecordBatch, IngestError> {
        let n = v.lines.len();
        let col = |name: Option<&str>| -> Option<StringArray> {
            let c = v.batch.column_by_name(name?)?;
            c.as_any().downcast_ref::<StringArray>().cloned()
        };
        let (practice, lsoa, provider) = (col(roles.practice), col(roles.lsoa), col(roles.provider));
        let link_col = self.link.as_ref().map(|(i, _)| {
            v.batch.column(*i).as_any().downcast_ref::<StringArray>().expect("EPIKEY text").clone()
        });
        let person_level = roles.nhs.is_some();
        let mut keep = Vec::with_capacity(n);
        for row in 0..n {
            counts.read += 1;
            if v.rejected[row] {
                counts.rejected += 1;
                keep.push(false);
                continue;
            }
            let in_area = if let (Some((_, set)), Some(epikeys)) = (&self.link, &link_col) {
                epikeys.is_valid(row)
                    && match &self.link_key {
                        Some(k) => set.contains(&k.record_token("episode", epikeys.value(row))),
                        None => set.contains(epikeys.value(row)),
                    }
            } else if self.minimise && (practice.is_some() || lsoa.is_some() || provider.is_some()) {
                let m = policy.minimisation;
                let hit = |arr: &Option<StringArray>, map: &std::collections::HashMap<String, String>| {
                    arr.as_ref()
                        .filter(|a| a.is_valid(row))
                        .and_then(|a| map.get(a.value(row)))
                        .is_some_and(|icb| *icb == policy.icb)
                };
                (m.registered && hit(&practice, &ctx.practice_icb))
                    || (m.resident && hit(&lsoa, &ctx.lsoa_icb))
                    || (m.hosted_provider && hit(&provider, &ctx.provider_host))
            } else {
                true
            };
            if !in_area {
                counts.out_of_area += 1;
                keep.push(false);
                continue;
            }
            // Opt-outs are counted among the commissioner's own population:
            // the clean list covers only the people the DSCRO submitted, so
            // someone out of area would otherwise be miscounted as opted out.
            if person_level && !self.purposes.is_empty() {
                let clean = v.nhs[row].is_some_and(|nhs| {
                    self.purposes.iter().all(|p| ctx.clean.get(p).is_some_and(|set| set.contains(&nhs)))
                });
                if !clean {
                    counts.opted_out += 1;
                    keep.push(false);
                    continue;
                }
            }
            counts.written += 1;
            keep.push(true);
        }
        // Most national rows are all kept: skip the copy a filter would make.
        let kept = if keep.iter().all(|k| *k) {
            v.batch.clone()
        } else {
            filter_record_batch(&v.batch, &BooleanArray::from(keep.clone()))?
        };
        let nhs: Vec<Option<u64>> = v.nhs.iter().zip(&keep).filter(|(_, k)| **k).map(|(n, _)| *n).collect();
        let columns: Vec<ArrayRef> = self
            .columns
            .iter()
            .map(|s| match s {
                Source::Copy(i) => kept.column(*i).clone(),
                Source::PersonToken(key) => {
                    Arc::new(nhs.iter().map(|n| n.map(|n| key.person_token(n))).collect::<StringArray>()) as ArrayRef
                }
                Source::RecordToken { key, input, space, field } => {
                    let clear = kept.column(*input).as_any().downcast_ref::<StringArray>().expect("record keys are text");
                    Arc::new(
                        (0..kept.num_rows())
                            .map(|i| {
                                clear.is_valid(i).then(|| {
                                    let v = clear.value(i);
                                    if is_record_key_sentinel(field, v) {
                                        v.to_owned()
                                    } else {
                                        key.record_token(space, v)
                                    }
                                })
                            })
                            .collect::<StringArray>(),
                    ) as ArrayRef
                }
                Source::SpellToken(key, prov, spell) => {
                    let prov = kept.column(*prov).as_any().downcast_ref::<StringArray>().expect("provider text");
                    let spell = kept.column(*spell).as_any().downcast_ref::<StringArray>().expect("spell text");
                    Arc::new(
                        (0..kept.num_rows())
                            .map(|i| {
                                spell.is_valid(i).then(|| {
                                    let p = if prov.is_valid(i) { prov.value(i) } else { "" };
                                    key.token(b"spell", format!("{p}|{}", spell.value(i)).as_bytes())
                                })
                            })
                            .collect::<StringArray>(),
                    ) as ArrayRef
                }
            })
            .collect();
        Ok(RecordBatch::try_new(self.schema.clone(), columns)?)
    }
}
