//! What analysts and viewers see outside review (issue 16 §3): the newest
//! released indicators output and the newest released benchmark, read back
//! as the tables they were published as, and the views the pages are built
//! from — headline against England and peers, an indicator with every
//! breakdown, inequalities, benchmarking of providers and practices, the
//! drill-down ICB → sub-ICB → PCN → practice and a practice's dashboard.
//!
//! Nothing here touches a zone: every figure is one two reviewers released
//! after disclosure control, and every judgement (significance against the
//! ICB, the SPC signal) is worked by `haven_analytics::insight` from the
//! published counts, so a page can say nothing the released tables do
//! not. A released output never changes, so each is read (every file
//! checked against its manifest) once and kept while it is the newest.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use haven_analytics::benchmark::{Benchmark, Comparison, Flag};
use haven_analytics::insight::{self, Area, Trend};
use haven_analytics::{catalogue, find, Breakdown, Indicator, Row, Table};
use haven_governance::outputs::{Output, Outputs};

use crate::{Actor, App, AppError};

/// The newest released indicators output.
#[derive(Debug)]
pub struct Indicators {
    pub output: Output,
    pub tables: Vec<Table>,
    /// Each practice's PCN and sub-ICB (the output's `areas.csv`).
    pub areas: Vec<Area>,
    /// Slope index of inequality by indicator: (SII, lower 95%, upper 95%)
    /// in percentage points, as the output's `.sii.csv` files publish it.
    pub sii: BTreeMap<String, [f64; 3]>,
    /// Every file the output holds (charts are shown from these).
    pub files: Vec<String>,
    /// Tables already flagged, by (indicator, breakdown): the output never
    /// changes, so neither do its flags.
    compared: Mutex<BTreeMap<(String, Breakdown), Arc<Compared>>>,
}

/// The newest released benchmark.
#[derive(Debug)]
pub struct Benchmarked {
    pub output: Output,
    pub benchmark: Benchmark,
    pub files: Vec<String>,
}

/// Released outputs read once, kept while they are the newest of their
/// kind; and the review page's renderings of held files, by content.
#[derive(Debug, Default)]
pub struct Cache {
    indicators: Mutex<Option<Arc<Indicators>>>,
    benchmark: Mutex<Option<Arc<Benchmarked>>>,
    renderings: Mutex<Renderings>,
    /// The newest released outputs found at an audit head (see
    /// [`App::released_insight`]).
    newest: Mutex<Option<(String, Insight)>>,
    /// Held files already hashed as written, by their stamp (the review
    /// page reads and hashes only what changed).
    pub(crate) verified: haven_governance::outputs::Verified,
}

/// Renderings of held files keyed by (output, name, SHA-256), for the
/// outputs reviewed most recently.
#[derive(Debug, Default)]
struct Renderings {
    /// Output ids, most recently used last.
    order: Vec<String>,
    by: std::collections::HashMap<(String, String, String), haven_governance::outputs::Rendering>,
}

/// How many outputs' renderings are kept.
const RENDERED_OUTPUTS: usize = 4;

impl Cache {
    /// The rendering of output `id`'s file `name` whose bytes hash to
    /// `sha256`: kept from an earlier call, else made by `make`. A file
    /// whose bytes change has another SHA-256, so it is rendered afresh.
    pub(crate) fn rendering(&self, id: &str, name: &str, sha256: &str, make: impl FnOnce() -> haven_governance::outputs::Rendering) -> haven_governance::outputs::Rendering {
        let key = (id.to_owned(), name.to_owned(), sha256.to_owned());
        if let Some(r) = self.renderings.lock().unwrap_or_else(|p| p.into_inner()).by.get(&key) {
            return r.clone();
        }
        let made = make();
        let mut r = self.renderings.lock().unwrap_or_else(|p| p.into_inner());
        if !r.order.iter().any(|o| o == id) {
            r.order.push(id.to_owned());
            while r.order.len() > RENDERED_OUTPUTS {
                let old = r.order.remove(0);
                r.by.retain(|(o, _, _), _| *o != old);
            }
        }
        r.by.insert(key, made.clone());
        made
    }
}

/// A released output found, with its manifest's file names.
type Found = Option<(Output, Vec<String>)>;

/// The newest released indicators output and benchmark, if any.
pub type Insight = (Option<Arc<Indicators>>, Option<Arc<Benchmarked>>);

/// What a released output holds.
#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Indicators,
    Benchmark,
}

fn kind(files: &[String]) -> Option<Kind> {
    if files.iter().any(|f| f == "benchmark.json") {
        Some(Kind::Benchmark)
    } else if files.iter().any(|f| f.ends_with(".total.json")) {
        Some(Kind::Indicators)
    } else {
        None
    }
}

fn parse<T: serde::de::DeserializeOwned>(id: &str, name: &str, bytes: &[u8]) -> Result<T, AppError> {
    serde_json::from_slice(bytes).map_err(|e| AppError::Invalid(format!("output {id}: {name} is not as Haven writes it ({e})")))
}

/// `indicator,sii,sii_lower_95,sii_upper_95,…` (as `haven_analytics::write::charts` writes it).
fn parse_sii(bytes: &[u8]) -> Option<(String, [f64; 3])> {
    let text = std::str::from_utf8(bytes).ok()?;
    let line = text.lines().nth(1)?;
    let f: Vec<&str> = line.split(',').collect();
    let n = |i: usize| f.get(i)?.parse::<f64>().ok();
    Some((f.first()?.to_string(), [n(1)?, n(2)?, n(3)?]))
}

/// `practice,pcn,sub_icb` (as `haven_analytics::write::areas` writes it).
fn parse_areas(bytes: &[u8]) -> Vec<Area> {
    let some = |s: &str| (!s.is_empty()).then(|| s.to_owned());
    csv::Reader::from_reader(bytes)
        .records()
        .filter_map(Result::ok)
        .filter_map(|r| Some(Area { practice: r.get(0).filter(|p| !p.is_empty())?.to_owned(), pcn: r.get(1).and_then(some), sub_icb: r.get(2).and_then(some) }))
        .collect()
}

impl Indicators {
    fn read(outputs: &Outputs, output: Output, files: Vec<String>) -> Result<Indicators, AppError> {
        let id = output.id.clone();
        let mut out = Indicators { output, tables: Vec::new(), areas: Vec::new(), sii: BTreeMap::new(), files, compared: Mutex::default() };
        for (name, bytes) in outputs.held_bytes_where(&id, |n| n.ends_with(".json") || n.ends_with(".sii.csv") || n == "areas.csv")? {
            if name == "areas.csv" {
                out.areas = parse_areas(&bytes);
            } else if name.ends_with(".sii.csv") {
                out.sii.extend(parse_sii(&bytes));
            } else {
                out.tables.push(parse(&id, &name, &bytes)?);
            }
        }
        Ok(out)
    }

    /// The table of `indicator` by `breakdown`, if the output holds it.
    pub fn table(&self, indicator: &str, breakdown: Breakdown) -> Option<&Table> {
        self.tables.iter().find(|t| t.indicator == indicator && t.breakdown == breakdown)
    }

    /// The indicators the output holds, in catalogue order.
    pub fn indicators(&self) -> Vec<Indicator> {
        let held: BTreeSet<&str> = self.tables.iter().map(|t| t.indicator.as_str()).collect();
        catalogue().into_iter().filter(|i| held.contains(i.id)).collect()
    }

    /// The charts of `indicator` the output holds (file names).
    pub fn charts(&self, indicator: &str) -> Vec<&str> {
        let stem = format!("{indicator}.");
        self.files.iter().filter(|f| f.starts_with(&stem) && f.ends_with(".svg")).map(String::as_str).collect()
    }

    /// Each row of `indicator` by `breakdown` with its significance against
    /// the table's total (the ICB), in the indicator's words.
    pub fn compared(&self, ind: &Indicator, breakdown: Breakdown) -> Option<Arc<Compared>> {
        let key = (ind.id.to_owned(), breakdown);
        if let Some(c) = self.compared.lock().unwrap_or_else(|p| p.into_inner()).get(&key) {
            return Some(c.clone());
        }
        let table = self.table(ind.id, breakdown)?.clone();
        let flags = insight::significance(ind, &table).into_iter().map(|s| insight::flag(s, ind.polarity)).collect();
        let c = Arc::new(Compared { table, flags });
        self.compared.lock().unwrap_or_else(|p| p.into_inner()).insert(key, c.clone());
        Some(c)
    }

    /// The monthly series' SPC reading.
    pub fn trend(&self, ind: &Indicator) -> Option<Trend> {
        insight::trend(ind, self.table(ind.id, Breakdown::Month)?)
    }

    /// The areas one level below `level`'s `code` in the drill-down (the
    /// ICB's sub-ICBs, a sub-ICB's PCNs, a PCN's practices), from the
    /// output's own `areas.csv`; `None` for a level with nothing below.
    pub fn children(&self, level: Breakdown, code: &str) -> Option<(Breakdown, Vec<String>)> {
        let pick = |keep: &dyn Fn(&Area) -> bool, get: &dyn Fn(&Area) -> Option<String>| -> Vec<String> {
            let set: BTreeSet<String> = self.areas.iter().filter(|a| keep(a)).filter_map(get).collect();
            set.into_iter().collect()
        };
        let some = |s: &Option<String>| s.as_deref() == Some(code);
        match level {
            Breakdown::Icb | Breakdown::Total => Some((Breakdown::SubIcb, pick(&|_| true, &|a| a.sub_icb.clone()))),
            Breakdown::SubIcb => Some((Breakdown::Pcn, pick(&|a| some(&a.sub_icb), &|a| a.pcn.clone()))),
            Breakdown::Pcn => Some((Breakdown::Practice, pick(&|a| some(&a.pcn), &|a| Some(a.practice.clone())))),
            _ => None,
        }
    }

    /// Whether any practice table of the output has a row for `code`.
    pub fn table_has_practice(&self, code: &str) -> bool {
        self.tables.iter().any(|t| t.breakdown == Breakdown::Practice && t.rows.iter().any(|r| r.group == code))
    }

    /// Where a practice sits (its PCN and sub-ICB).
    pub fn area(&self, practice: &str) -> Option<&Area> {
        self.areas.iter().find(|a| a.practice == practice)
    }
}

/// One table with each row's flag against the table's total.
#[derive(Clone, Debug)]
pub struct Compared {
    pub table: Table,
    /// One per row of `table`.
    pub flags: Vec<Flag>,
}

impl Compared {
    /// The rows whose group is in `groups` (keeping the order of `groups`).
    pub fn only(&self, groups: &[String]) -> Vec<(&Row, Flag)> {
        groups.iter().filter_map(|g| self.table.rows.iter().position(|r| &r.group == g).map(|i| (&self.table.rows[i], self.flags[i]))).collect()
    }
}

/// One line of the overview: an indicator for the ICB against England and
/// its peers (from the benchmark), and its local monthly trend (from the
/// indicators output).
#[derive(Clone, Debug)]
pub struct Headline {
    pub indicator: Indicator,
    pub comparison: Option<Comparison>,
    /// The local total (the indicators output's `total` table).
    pub local: Option<Row>,
    pub local_unit: String,
    pub trend: Option<Trend>,
}

/// One practice's dashboard line: the practice against its ICB.
#[derive(Clone, Debug)]
pub struct PracticeLine {
    pub indicator: Indicator,
    pub unit: String,
    pub practice: Row,
    pub icb: Row,
    pub flag: Flag,
}

/// The overview's lines, in catalogue order: every indicator either
/// output holds.
pub fn headline(ind: Option<&Indicators>, bm: Option<&Benchmarked>) -> Vec<Headline> {
    catalogue()
        .into_iter()
        .filter_map(|i| {
            let comparison = bm.and_then(|b| b.benchmark.comparisons.iter().find(|c| c.indicator == i.id)).cloned();
            let total = ind.and_then(|x| x.table(i.id, Breakdown::Total));
            if comparison.is_none() && total.is_none() {
                return None;
            }
            let trend = ind.and_then(|x| x.trend(&i));
            Some(Headline { local: total.map(|t| t.total.clone()), local_unit: total.map(|t| t.unit.clone()).unwrap_or_default(), comparison, trend, indicator: i })
        })
        .collect()
}

/// A practice's dashboard: every indicator by practice, the practice's row
/// against the ICB total, flagged.
pub fn practice_lines(ind: &Indicators, practice: &str) -> Vec<PracticeLine> {
    ind.indicators()
        .into_iter()
        .filter_map(|i| {
            let c = ind.compared(&i, Breakdown::Practice)?;
            let k = c.table.rows.iter().position(|r| r.group == practice)?;
            Some(PracticeLine { unit: c.table.unit.clone(), practice: c.table.rows[k].clone(), icb: c.table.total.clone(), flag: c.flags[k], indicator: i })
        })
        .collect()
}

impl App {
    /// The newest released, attested output of each kind with its
    /// manifest's names (one pass over the outputs, one audit log).
    fn newest(&self) -> Result<[Found; 2], AppError> {
        let outputs = Outputs::open(&self.data)?;
        let mut found: [Found; 2] = [None, None];
        for o in self.released()?.into_iter().rev() {
            let files: Vec<String> = outputs.files(&o.id)?.into_iter().map(|f| f.name).collect();
            let slot = match kind(&files) {
                Some(Kind::Indicators) => 0,
                Some(Kind::Benchmark) => 1,
                None => continue,
            };
            if found[slot].is_none() {
                found[slot] = Some((o, files));
            }
            if found.iter().all(Option::is_some) {
                break;
            }
        }
        Ok(found)
    }

    /// The newest released indicators output and benchmark, each read once
    /// and kept while it is the newest.
    ///
    /// Every submission and approval is audited, and each audit entry
    /// rewrites the chain's head file; so while the head is unchanged the
    /// released outputs are the ones found last time, and the answer found
    /// then (each output attested, each file checked) is reused. A change
    /// made outside Haven without an audit entry is not seen until the next
    /// entry: the pages keep showing what was verified.
    pub fn released_insight(&self) -> Result<Insight, AppError> {
        let head = std::fs::read_to_string(self.data.join(haven_governance::audit::HEAD_FILE)).ok();
        if let Some(h) = &head {
            if let Some((at, found)) = self.cache.newest.lock().unwrap_or_else(|p| p.into_inner()).as_ref() {
                if at == h {
                    return Ok(found.clone());
                }
            }
        }
        let [ind, bm] = self.newest()?;
        let found: Insight = (ind.map(|(o, f)| self.indicators_cached(o, f)).transpose()?, bm.map(|(o, f)| self.benchmark_cached(o, f)).transpose()?);
        if let Some(h) = head {
            *self.cache.newest.lock().unwrap_or_else(|p| p.into_inner()) = Some((h, found.clone()));
        }
        Ok(found)
    }

    /// The newest released indicators output, read once.
    pub fn released_indicators(&self) -> Result<Option<Arc<Indicators>>, AppError> {
        Ok(self.released_insight()?.0)
    }

    /// The newest released benchmark, read once.
    pub fn released_benchmark(&self) -> Result<Option<Arc<Benchmarked>>, AppError> {
        Ok(self.released_insight()?.1)
    }

    fn indicators_cached(&self, output: Output, files: Vec<String>) -> Result<Arc<Indicators>, AppError> {
        let mut cached = self.cache.indicators.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(c) = cached.as_ref().filter(|c| c.output.id == output.id && c.output.sha256 == output.sha256) {
            return Ok(c.clone());
        }
        let read = Arc::new(Indicators::read(&Outputs::open(&self.data)?, output, files)?);
        *cached = Some(read.clone());
        Ok(read)
    }

    fn benchmark_cached(&self, output: Output, files: Vec<String>) -> Result<Arc<Benchmarked>, AppError> {
        let mut cached = self.cache.benchmark.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(c) = cached.as_ref().filter(|c| c.output.id == output.id && c.output.sha256 == output.sha256) {
            return Ok(c.clone());
        }
        let bytes = Outputs::open(&self.data)?.held_bytes(&output.id, "benchmark.json")?;
        let benchmark = parse(&output.id, "benchmark.json", &bytes)?;
        let read = Arc::new(Benchmarked { output, benchmark, files });
        *cached = Some(read.clone());
        Ok(read)
    }

    /// A chart (or any file) of a released, attested output, to show in a
    /// page; not a download (those are [`App::released_file`], audited).
    pub fn released_chart(&self, id: &str, name: &str) -> Result<Vec<u8>, AppError> {
        let o = self.attested(id)?;
        if o.status != haven_governance::outputs::Status::Released || !name.ends_with(".svg") {
            return Err(AppError::Refused(format!("output {id} has no released chart {name}")));
        }
        self.held_file(id, name)
    }

    /// Whether `actor` may see practice `code`'s dashboard: analysts and
    /// viewers any practice; a GP only the practice the account is
    /// registered to (a refusal the face audits).
    pub fn may_see_practice(&self, actor: &Actor, code: &str) -> Result<(), AppError> {
        let Some(s) = actor.session() else { return Err(AppError::Refused("a practice dashboard needs a sign-in".into())) };
        match (s.role, s.practice.as_deref()) {
            (haven_governance::dsa::Role::Gp, Some(own)) if own.eq_ignore_ascii_case(code) => Ok(()),
            (haven_governance::dsa::Role::Gp, _) => Err(AppError::Refused(format!("{} may see only its own practice's dashboard", s.user))),
            _ => Ok(()),
        }
    }
}

/// The indicator `id` in the catalogue.
pub fn indicator(id: &str) -> Result<Indicator, AppError> {
    find(id).ok_or_else(|| AppError::NotFound(format!("no indicator {id}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use haven_governance::disclosure::Cell;

    fn row(group: &str, x: u64, n: u64) -> Row {
        Row { group: group.into(), numerator: Some(Cell::Value(x)), denominator: Some(Cell::Value(n)), value: Some(100.0 * x as f64 / n as f64), lower: None, upper: None }
    }

    fn indicators() -> Indicators {
        let id = "apc.emergency_readmission_30d";
        let t = |breakdown, rows| Table { indicator: id.into(), title: "Readmissions".into(), unit: "%".into(), breakdown, period: "2024-25".into(), rows, total: row("All", 300, 3000) };
        let area = |p: &str, pcn: &str, sub: &str| Area { practice: p.into(), pcn: Some(pcn.into()), sub_icb: Some(sub.into()) };
        Indicators {
            output: Output { id: "OUT-1".into(), title: String::new(), author: String::new(), dsa: String::new(), purpose: String::new(), created_at: String::new(), status: haven_governance::outputs::Status::Released, sha256: String::new(), reviews: vec![] },
            tables: vec![t(Breakdown::Total, vec![row("All", 300, 3000)]), t(Breakdown::Practice, vec![row("P1", 150, 1000), row("P2", 100, 1000), row("P3", 50, 1000)])],
            areas: vec![area("P1", "U1", "S1"), area("P2", "U1", "S1"), area("P3", "U2", "S2")],
            sii: BTreeMap::new(),
            files: vec![format!("{id}.practice.funnel.svg"), format!("{id}.practice.csv")],
            compared: Mutex::default(),
        }
    }

    #[test]
    fn the_drill_down_follows_the_outputs_areas() {
        let x = indicators();
        assert_eq!(x.children(Breakdown::Icb, ""), Some((Breakdown::SubIcb, vec!["S1".into(), "S2".into()])));
        assert_eq!(x.children(Breakdown::SubIcb, "S1"), Some((Breakdown::Pcn, vec!["U1".into()])));
        assert_eq!(x.children(Breakdown::Pcn, "U1"), Some((Breakdown::Practice, vec!["P1".into(), "P2".into()])));
        assert_eq!(x.children(Breakdown::Pcn, "U9"), Some((Breakdown::Practice, vec![])));
        assert_eq!(x.children(Breakdown::Practice, "P1"), None);
        assert_eq!(x.charts("apc.emergency_readmission_30d"), vec!["apc.emergency_readmission_30d.practice.funnel.svg"]);
    }

    #[test]
    fn a_practice_dashboard_flags_each_practice_against_its_icb() {
        let x = indicators();
        // ICB 300/3,000 = 10%. At n = 1,000 the 99.8% funnel is
        // 7.07%–12.93% (methods.md §6.6): P1 15% is above it (readmissions: worse), P2 10% is
        // within, P3 5% is below it (better).
        let flags: Vec<Flag> = ["P1", "P2", "P3"].iter().map(|p| practice_lines(&x, p)[0].flag).collect();
        assert_eq!(flags, vec![Flag::Worse, Flag::Similar, Flag::Better]);
        let p1 = &practice_lines(&x, "P1")[0];
        assert_eq!((p1.practice.value, p1.icb.value), (Some(15.0), Some(10.0)));
        assert!(practice_lines(&x, "P9").is_empty());
        // The overview has the local total and no benchmark.
        let h = headline(Some(&x), None);
        assert_eq!(h.len(), 1);
        assert_eq!(h[0].local.as_ref().unwrap().value, Some(10.0));
        assert!(h[0].comparison.is_none());
    }

    #[test]
    fn areas_are_read_as_written() {
        let csv = "practice,pcn,sub_icb\nA81001,U1,S1\nA81002,,S1\n";
        let a = parse_areas(csv.as_bytes());
        assert_eq!(a, vec![Area { practice: "A81001".into(), pcn: Some("U1".into()), sub_icb: Some("S1".into()) }, Area { practice: "A81002".into(), pcn: None, sub_icb: Some("S1".into()) }]);
    }

    #[test]
    fn sii_files_are_read_as_written() {
        let csv = "indicator,sii,sii_lower_95,sii_upper_95,rii,rii_lower_95,rii_upper_95\napc.x,-2.500,-3.100,-1.900,0.8000,0.7000,0.9000\n";
        assert_eq!(parse_sii(csv.as_bytes()), Some(("apc.x".into(), [-2.5, -3.1, -1.9])));
        assert_eq!(parse_sii(b"indicator\n"), None);
    }
}
