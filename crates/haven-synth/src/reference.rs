//! Reference tables: organisations, LSOAs with IMD deciles, postcodes,
//! population denominators, the APC tariff and market forces factors.

use std::io::Write;

use haven_model::age::ESP2013_BANDS;

use crate::clinical;
use crate::geography::{Geography, ARMED_FORCES_PARENT, ICBS, REGIONS};
use crate::invoice::tariff_row;
use crate::SynthError;

fn put(w: &mut Vec<u8>, fields: &[&str]) {
    w.extend_from_slice(fields.join("|").as_bytes());
    w.push(b'\n');
}

pub fn org(geo: &Geography) -> (Vec<u8>, u64) {
    let mut w = Vec::new();
    put(&mut w, &["ORG_CODE", "ORG_TYPE", "ONS_CODE", "NAME", "PARENT_CODE", "OPEN_DATE", "CLOSE_DATE", "POSTCODE", "PCN_CODE", "LIST_SIZE", "HOST_ICB"]);
    let open = "2022-07-01";
    for (code, ons, name) in REGIONS {
        put(&mut w, &[code, "REGION", ons, name, "", open, "", "", "", "", ""]);
    }
    for icb in &ICBS {
        put(&mut w, &[icb.code, "ICB", icb.ons, icb.name, icb.region, open, "", "", "", "", ""]);
    }
    for s in &geo.sub_icbs {
        put(&mut w, &[&s.code, "SUB_ICB", "", &s.name, ICBS[s.icb].code, open, "", "", "", "", ""]);
    }
    for p in &geo.pcns {
        put(&mut w, &[&p.code, "PCN", "", &format!("Synthetic PCN {}", p.code), &geo.sub_icbs[p.sub_icb].code, open, "", "", "", "", ""]);
    }
    for p in &geo.practices {
        let parent = if p.armed_forces { ARMED_FORCES_PARENT } else { geo.sub_icbs[p.sub_icb].code.as_str() };
        let pcn = if p.armed_forces { "" } else { geo.pcns[p.pcn].code.as_str() };
        put(&mut w, &[&p.code, "GP_PRACTICE", "", &format!("Synthetic Practice {}", p.code), parent, "1990-01-01", "", "", pcn, &p.list_size.to_string(), ""]);
    }
    for t in &geo.trusts {
        let kind = if t.independent { "INDEPENDENT_PROVIDER" } else { "TRUST" };
        put(&mut w, &[&t.code, kind, "", &t.name, ICBS[t.icb].region, "1990-01-01", "", "", "", "", ICBS[t.icb].code]);
        for s in &t.sites {
            put(&mut w, &[s, "SITE", "", &format!("{} site {}", t.name, &s[s.len() - 2..]), &t.code, "1990-01-01", "", "", "", "", ""]);
        }
    }
    let rows = w.iter().filter(|&&b| b == b'\n').count() as u64 - 1;
    (w, rows)
}

pub fn lsoa_lookup(geo: &Geography) -> (Vec<u8>, u64) {
    let mut w = Vec::new();
    put(&mut w, &["LSOA21", "LSOA11", "SUB_ICB", "ICB", "LAD_ONS", "IMD_DECILE", "IMD_RANK"]);
    for l in &geo.lsoas {
        // Synthetic LSOAs did not change between 2011 and 2021.
        put(&mut w, &[&l.code, &l.code, &geo.sub_icbs[l.sub_icb].code, ICBS[l.icb].code, &l.lad, &l.imd_decile.to_string(), &l.imd_rank.to_string()]);
    }
    (w, geo.lsoas.len() as u64)
}

pub fn postcode_lookup(geo: &Geography) -> (Vec<u8>, u64) {
    let mut w = Vec::new();
    put(&mut w, &["POSTCODE", "LSOA21"]);
    for (i, l) in geo.lsoas.iter().enumerate() {
        for k in 0..Geography::POSTCODES_PER_LSOA {
            put(&mut w, &[&geo.postcode(i, k), &l.code]);
        }
    }
    (w, (geo.lsoas.len() * Geography::POSTCODES_PER_LSOA) as u64)
}

/// Population cells: (FYEAR, area type, area index, band, sex) → count.
pub type PopKey = (u8, u8, u32, u8, u8);

pub fn population(geo: &Geography, fyears: &[String], cells: &std::collections::BTreeMap<PopKey, u64>) -> (Vec<u8>, u64) {
    let mut w = Vec::new();
    put(&mut w, &["FYEAR", "AREA_TYPE", "AREA_CODE", "AGE_BAND", "SEX", "POPULATION"]);
    for ((fy, kind, area, band, sex), n) in cells {
        let (kind_name, code) = if *kind == 0 {
            ("LSOA", geo.lsoas[*area as usize].code.as_str())
        } else {
            ("PRACTICE", geo.practices[*area as usize].code.as_str())
        };
        put(&mut w, &[&fyears[*fy as usize], kind_name, code, ESP2013_BANDS[*band as usize], &sex.to_string(), &n.to_string()]);
    }
    (w, cells.len() as u64)
}

pub fn tariff(fyears: &[String]) -> (Vec<u8>, u64) {
    let mut w = Vec::new();
    put(&mut w, &["FYEAR", "HRG", "HRG_NAME", "OP_PROCEDURE_PRICE", "COMBINED_DC_EL_PRICE", "DC_PRICE", "EL_PRICE", "EL_TRIM_POINT_DAYS", "NEL_PRICE", "NEL_TRIM_POINT_DAYS", "LONG_STAY_PER_DAY", "SSEM_PRICE", "SSEM_APPLICABLE"]);
    let mut n = 0;
    for fy in fyears {
        for hrg in clinical::all_hrgs() {
            let t = tariff_row(hrg);
            let opt = |x: Option<i64>| x.map(|v| v.to_string()).unwrap_or_default();
            let opt32 = |x: Option<i32>| x.map(|v| v.to_string()).unwrap_or_default();
            put(&mut w, &[fy, hrg, &format!("Synthetic HRG {hrg}"), "", "", &opt(t.dc_price), &opt(t.el_price), &opt32(t.el_trim_point_days), &opt(t.nel_price), &opt32(t.nel_trim_point_days), &t.long_stay_per_day.to_string(), &opt(t.ssem_price), "true"]);
            n += 1;
        }
    }
    (w, n)
}

pub fn mff(geo: &Geography, fyears: &[String]) -> (Vec<u8>, u64) {
    let mut w = Vec::new();
    put(&mut w, &["FYEAR", "PROCODE3", "MFF_PAYMENT_INDEX"]);
    for fy in fyears {
        for t in &geo.trusts {
            put(&mut w, &[fy, &t.code, &format!("{:.5}", t.mff)]);
        }
    }
    (w, (geo.trusts.len() * fyears.len()) as u64)
}

pub fn write_file(path: &std::path::Path, bytes: &[u8]) -> Result<(), SynthError> {
    let mut f = std::fs::File::create(path).map_err(|e| SynthError::io(path, e))?;
    f.write_all(bytes).map_err(|e| SynthError::io(path, e))
}
