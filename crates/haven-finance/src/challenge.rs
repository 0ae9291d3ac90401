//! The challenge and dispute log (issue 17 §1): each challenged line becomes
//! a challenge that moves raised → sent to the provider → the provider's
//! response (accepted / disputed) → upheld, withdrawn or resolved; a
//! re-run that now validates a line supersedes its open challenge. Every
//! change is kept as an event, so history is never lost. The log holds
//! invoice numbers, line numbers, reasons and amounts — no patient
//! identifier — in `<data-dir>/ceff/challenges.sqlite`.

use std::path::Path;

use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};

use crate::error::FinanceError;
use crate::validate::Validation;

/// Where a challenge stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Status {
    Raised,
    Sent,
    Accepted,
    Disputed,
    Upheld,
    Withdrawn,
    Resolved,
    /// A later run validated the line (a corrected invoice, say).
    Superseded,
}

const ALL: [Status; 8] = [Status::Raised, Status::Sent, Status::Accepted, Status::Disputed, Status::Upheld, Status::Withdrawn, Status::Resolved, Status::Superseded];

impl Status {
    /// Every status, in the order of the process.
    pub fn all() -> &'static [Status] {
        &ALL
    }

    pub fn name(self) -> &'static str {
        match self {
            Status::Raised => "raised",
            Status::Sent => "sent",
            Status::Accepted => "accepted",
            Status::Disputed => "disputed",
            Status::Upheld => "upheld",
            Status::Withdrawn => "withdrawn",
            Status::Resolved => "resolved",
            Status::Superseded => "superseded",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        ALL.into_iter().find(|x| x.name() == s.trim().to_ascii_lowercase())
    }

    /// Withdrawn, resolved and superseded challenges are closed.
    pub fn is_open(self) -> bool {
        !matches!(self, Status::Withdrawn | Status::Resolved | Status::Superseded)
    }

    /// The moves the process allows: the ICB sends a raised challenge (or
    /// withdraws it); the provider accepts or disputes a sent one; a
    /// dispute is upheld, withdrawn or settled; an accepted or upheld
    /// challenge is resolved when the money is recovered.
    pub fn can_move_to(self, next: Status) -> bool {
        use Status::*;
        matches!(
            (self, next),
            (Raised, Sent | Withdrawn | Superseded)
                | (Sent, Accepted | Disputed | Withdrawn | Superseded)
                | (Accepted, Resolved)
                | (Disputed, Upheld | Withdrawn | Resolved)
                | (Upheld, Resolved)
        )
    }
}

/// One challenge as the log holds it.
#[derive(Clone, Debug, Serialize)]
pub struct Challenge {
    pub id: i64,
    pub invoice_number: String,
    pub line_no: i64,
    pub provider: String,
    /// Space-separated reason codes.
    pub reasons: String,
    /// The amount challenged, pence: the difference for a price challenge,
    /// else the whole line.
    pub amount: i64,
    /// The amount recovered, pence, recorded when the challenge is resolved.
    pub recovered: Option<i64>,
    /// The line's activity month (`YYYY-MM`; empty for challenges raised
    /// before the log kept it).
    pub month: String,
    pub status: Status,
    pub run: String,
    pub updated: String,
}

impl Challenge {
    /// Whether the challenge was agreed: accepted by the provider, upheld
    /// after a dispute, or resolved with money recovered.
    pub fn upheld(&self) -> bool {
        matches!(self.status, Status::Accepted | Status::Upheld) || (self.status == Status::Resolved && self.recovered.is_some_and(|r| r > 0))
    }
}

/// One change of a challenge.
#[derive(Clone, Debug, Serialize)]
pub struct Event {
    pub at: String,
    pub status: Status,
    pub by: String,
    pub note: String,
}

/// What raising a run's challenges did.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Raised {
    pub raised: u64,
    /// Already open for the same line: kept as they are.
    pub kept: u64,
    /// Open challenges of lines this run validated.
    pub superseded: u64,
}

/// The log.
pub struct Log {
    db: Connection,
}

fn db(e: rusqlite::Error) -> FinanceError {
    FinanceError::Log(e.to_string())
}

impl Log {
    /// Opens (creating) the log at `path`.
    pub fn open(path: &Path) -> Result<Log, FinanceError> {
        let conn = Connection::open(path).map_err(db)?;
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS challenge (id INTEGER PRIMARY KEY, invoice_id TEXT NOT NULL, invoice_number TEXT NOT NULL, \
               line_no INTEGER NOT NULL, provider TEXT NOT NULL, reasons TEXT NOT NULL, amount INTEGER NOT NULL, status TEXT NOT NULL, \
               run TEXT NOT NULL, updated TEXT NOT NULL);
             CREATE TABLE IF NOT EXISTS challenge_event (challenge INTEGER NOT NULL REFERENCES challenge(id), at TEXT NOT NULL, \
               status TEXT NOT NULL, by TEXT NOT NULL, note TEXT NOT NULL);
             CREATE INDEX IF NOT EXISTS challenge_line ON challenge(invoice_id, line_no);",
        )
        .map_err(db)?;
        // Columns added since the log's first version, added to a log made
        // before them (their values are empty for the older challenges).
        for (column, ty) in [("recovered", "INTEGER"), ("month", "TEXT NOT NULL DEFAULT ''")] {
            let have: bool = conn.query_row("SELECT COUNT(*) > 0 FROM pragma_table_info('challenge') WHERE name = ?1", params![column], |r| r.get(0)).map_err(db)?;
            if !have {
                conn.execute_batch(&format!("ALTER TABLE challenge ADD COLUMN {column} {ty}")).map_err(db)?;
            }
        }
        Ok(Log { db: conn })
    }

    fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Challenge> {
        let status: String = r.get(6)?;
        Ok(Challenge {
            id: r.get(0)?,
            invoice_number: r.get(1)?,
            line_no: r.get(2)?,
            provider: r.get(3)?,
            reasons: r.get(4)?,
            amount: r.get(5)?,
            status: Status::parse(&status).unwrap_or(Status::Raised),
            run: r.get(7)?,
            updated: r.get(8)?,
            recovered: r.get(9)?,
            month: r.get(10)?,
        })
    }

    const COLUMNS: &'static str = "id, invoice_number, line_no, provider, reasons, amount, status, run, updated, recovered, month";

    /// The open challenge of a line, if any.
    fn open_for(c: &Connection, invoice_id: &str, line_no: i64) -> Result<Option<Challenge>, FinanceError> {
        let sql = format!("SELECT {} FROM challenge WHERE invoice_id = ?1 AND line_no = ?2 AND status NOT IN ('withdrawn','resolved','superseded')", Self::COLUMNS);
        c.query_row(&sql, params![invoice_id, line_no], Self::row).optional().map_err(db)
    }

    /// Sets a challenge's status and keeps the change as an event.
    fn record(c: &Connection, id: i64, status: Status, at: &str, by: &str, note: &str) -> Result<(), FinanceError> {
        c.execute("UPDATE challenge SET status = ?1, updated = ?2 WHERE id = ?3", params![status.name(), at, id]).map_err(db)?;
        c.execute("INSERT INTO challenge_event VALUES (?1, ?2, ?3, ?4, ?5)", params![id, at, status.name(), by, note]).map_err(db)?;
        Ok(())
    }

    /// Raises a challenge for each challenged line of `v` that has no open
    /// one, and supersedes the open challenges of lines `v` validated
    /// (only those still with the ICB or the provider: a response already
    /// given is settled by hand). One transaction.
    pub fn raise(&mut self, v: &Validation, run: &str, at: &str, by: &str) -> Result<Raised, FinanceError> {
        let tx = self.db.transaction().map_err(db)?;
        let mut out = Raised::default();
        for l in &v.lines {
            let open = Self::open_for(&tx, &l.invoice_id, l.line_no)?;
            match (l.challenged(), open) {
                (true, Some(_)) => out.kept += 1,
                (true, None) => {
                    let reasons: Vec<&str> = l.reasons().into_iter().map(|r| r.code()).collect();
                    let price_only = l.reasons().iter().all(|r| matches!(r, crate::Reason::PriceDifference | crate::Reason::HrgDifference));
                    let billed = l.billed.unwrap_or(0);
                    let amount = match (price_only, l.expected) {
                        (true, Some(e)) => billed - e,
                        _ => billed,
                    };
                    let month = l.activity_date.map(|d| d.to_string()[..7].to_owned()).unwrap_or_default();
                    tx.execute(
                            "INSERT INTO challenge (invoice_id, invoice_number, line_no, provider, reasons, amount, status, run, updated, month) VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'raised', ?7, ?8, ?9)",
                            params![l.invoice_id.as_str(), l.invoice_number.as_str(), l.line_no, l.provider.as_str(), reasons.join(" "), amount, run, at, month],
                        )
                        .map_err(db)?;
                    let id = tx.last_insert_rowid();
                    tx.execute("INSERT INTO challenge_event VALUES (?1, ?2, 'raised', ?3, ?4)", params![id, at, by, format!("run {run}")]).map_err(db)?;
                    out.raised += 1;
                }
                (false, Some(c)) if matches!(c.status, Status::Raised | Status::Sent) => {
                    Self::record(&tx, c.id, Status::Superseded, at, by, &format!("validated by run {run}"))?;
                    out.superseded += 1;
                }
                (false, _) => {}
            }
        }
        tx.commit().map_err(db)?;
        Ok(out)
    }

    /// Challenges, newest first, optionally of one status.
    pub fn list(&self, status: Option<Status>) -> Result<Vec<Challenge>, FinanceError> {
        let sql = format!("SELECT {} FROM challenge WHERE ?1 IS NULL OR status = ?1 ORDER BY id DESC", Self::COLUMNS);
        let mut st = self.db.prepare(&sql).map_err(db)?;
        let rows = st.query_map(params![status.map(Status::name)], Self::row).map_err(db)?;
        rows.collect::<Result<_, _>>().map_err(db)
    }

    /// One challenge and its history.
    pub fn get(&self, id: i64) -> Result<Option<(Challenge, Vec<Event>)>, FinanceError> {
        let sql = format!("SELECT {} FROM challenge WHERE id = ?1", Self::COLUMNS);
        let Some(c) = self.db.query_row(&sql, params![id], Self::row).optional().map_err(db)? else { return Ok(None) };
        let mut st = self.db.prepare("SELECT at, status, by, note FROM challenge_event WHERE challenge = ?1 ORDER BY rowid").map_err(db)?;
        let events = st
            .query_map(params![id], |r| {
                let s: String = r.get(1)?;
                Ok(Event { at: r.get(0)?, status: Status::parse(&s).unwrap_or(Status::Raised), by: r.get(2)?, note: r.get(3)? })
            })
            .map_err(db)?
            .collect::<Result<_, _>>()
            .map_err(db)?;
        Ok(Some((c, events)))
    }

    /// Moves challenge `id` to `next`, if the process allows it. Resolving
    /// records the amount recovered (pence): by default the whole amount
    /// challenged when the provider accepted or the challenge was upheld;
    /// a dispute settled directly must say how much. One transaction.
    pub fn update(&mut self, id: i64, next: Status, at: &str, by: &str, note: &str, recovered: Option<i64>) -> Result<Challenge, FinanceError> {
        let (c, _) = self.get(id)?.ok_or_else(|| FinanceError::Invalid(format!("no challenge {id}")))?;
        if !c.status.can_move_to(next) {
            return Err(FinanceError::Invalid(format!("challenge {id} is {} and cannot become {}", c.status.name(), next.name())));
        }
        let recovered = recovered_on(&c, next, recovered)?;
        let note = match recovered {
            Some(r) if note.is_empty() => format!("recovered {}", crate::check::money(r)),
            Some(r) => format!("{note} (recovered {})", crate::check::money(r)),
            None => note.to_owned(),
        };
        let tx = self.db.transaction().map_err(db)?;
        Self::record(&tx, id, next, at, by, &note)?;
        if recovered.is_some() {
            tx.execute("UPDATE challenge SET recovered = ?1 WHERE id = ?2", params![recovered, id]).map_err(db)?;
        }
        tx.commit().map_err(db)?;
        Ok(self.get(id)?.expect("just updated").0)
    }

    /// The open challenge for a provider's line, by invoice number.
    pub fn find(&self, invoice_number: &str, line_no: i64) -> Result<Option<Challenge>, FinanceError> {
        let sql = format!("SELECT {} FROM challenge WHERE invoice_number = ?1 AND line_no = ?2 AND status NOT IN ('withdrawn','resolved','superseded')", Self::COLUMNS);
        self.db.query_row(&sql, params![invoice_number, line_no], Self::row).optional().map_err(db)
    }
}

/// An amount in pounds as a person types it (`1234.5`, `£1,234.50`) in
/// pence, exactly (no floating point): at most two decimal places, not
/// negative.
pub fn parse_pounds(text: &str) -> Result<i64, FinanceError> {
    let bad = || FinanceError::Invalid("an amount must be pounds and pence, such as 1234.50".into());
    let t = text.trim().trim_start_matches('£').replace(',', "");
    let (whole, frac) = t.split_once('.').unwrap_or((&t, ""));
    if whole.is_empty() && frac.is_empty() || frac.len() > 2 || !whole.chars().chain(frac.chars()).all(|c| c.is_ascii_digit()) {
        return Err(bad());
    }
    let pounds: i64 = if whole.is_empty() { 0 } else { whole.parse().map_err(|_| bad())? };
    let pence: i64 = format!("{frac:0<2}").parse().map_err(|_| bad())?;
    pounds.checked_mul(100).and_then(|p| p.checked_add(pence)).ok_or_else(bad)
}

/// The amount recovered when challenge `c` moves to `next`: only on
/// resolving; never negative nor more than the amount challenged; the
/// whole amount by default after the provider accepted or the challenge
/// was upheld, and required when a dispute is settled directly.
fn recovered_on(c: &Challenge, next: Status, given: Option<i64>) -> Result<Option<i64>, FinanceError> {
    if next != Status::Resolved {
        return match given {
            Some(_) => Err(FinanceError::Invalid("an amount recovered is recorded only when a challenge is resolved".into())),
            None => Ok(None),
        };
    }
    let amount = match (given, c.status) {
        (Some(r), _) => r,
        (None, Status::Accepted | Status::Upheld) => c.amount.max(0),
        (None, _) => return Err(FinanceError::Invalid(format!("challenge {} is settled from a dispute: say how much was recovered", c.id))),
    };
    if amount < 0 || amount > c.amount.max(0) {
        return Err(FinanceError::Invalid(format!("challenge {} challenged {}: the amount recovered must be between £0.00 and that", c.id, crate::check::money(c.amount.max(0)))));
    }
    Ok(Some(amount))
}

/// One provider response row: `invoice_number,line_no,response,reason`
/// with `response` `accept` or `dispute`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Response {
    pub invoice_number: String,
    pub line_no: i64,
    pub accept: bool,
    pub reason: String,
}

/// Reads a provider response file. Rows that cannot be read are returned
/// by line number with the reason, never with their values.
pub fn parse_responses(text: &str) -> (Vec<Response>, Vec<(usize, &'static str)>) {
    let (mut ok, mut bad) = (Vec::new(), Vec::new());
    for (i, row) in text.lines().enumerate().skip(1) {
        let line = i + 1;
        let f: Vec<&str> = row.splitn(4, ',').map(str::trim).collect();
        if f.len() < 3 {
            bad.push((line, "fewer than three fields"));
            continue;
        }
        let Ok(line_no) = f[1].parse::<i64>() else {
            bad.push((line, "line_no is not a whole number"));
            continue;
        };
        let accept = match f[2].to_ascii_lowercase().as_str() {
            "accept" | "accepted" => true,
            "dispute" | "disputed" => false,
            _ => {
                bad.push((line, "response is neither accept nor dispute"));
                continue;
            }
        };
        ok.push(Response { invoice_number: f[0].to_owned(), line_no, accept, reason: f.get(3).copied().unwrap_or("").to_owned() });
    }
    (ok, bad)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_process_allows_only_its_own_moves() {
        use Status::*;
        assert!(Raised.can_move_to(Sent) && Sent.can_move_to(Disputed) && Disputed.can_move_to(Upheld) && Upheld.can_move_to(Resolved));
        assert!(!Raised.can_move_to(Resolved), "nothing is resolved before the provider has it");
        assert!(!Resolved.can_move_to(Raised) && !Superseded.can_move_to(Sent) && !Withdrawn.can_move_to(Sent));
        assert!(!Accepted.can_move_to(Disputed));
        for s in ALL {
            assert_eq!(Status::parse(s.name()), Some(s));
            assert_eq!(s.is_open(), ALL.iter().any(|n| s.can_move_to(*n)), "{s:?}: open exactly when it can still move");
        }
    }

    fn outcome(line_no: i64, billed: i64, expected: i64, reason: crate::Reason) -> crate::LineOutcome {
        crate::LineOutcome {
            invoice_id: "I1".into(),
            invoice_number: "RX1-2024-05".into(),
            line_no,
            provider: "RX1".into(),
            setting: "APC",
            pod: "EL".into(),
            activity_date: haven_model::Date::parse("2024-05-03").ok(),
            person: Some(format!("p{line_no}").as_str().into()),
            practice: "A81001".into(),
            nca: false,
            commissioner: "QMJ".into(),
            matched_by: crate::matching::MatchedBy::RecordKey,
            sus_key: None,
            billed: Some(billed),
            expected: Some(expected),
            findings: vec![crate::check::Finding::new(reason, "")],
        }
    }

    /// A log in a fresh folder of the system's temporary directory.
    fn fresh_log(name: &str) -> Log {
        let dir = std::env::temp_dir().join(format!("haven-challenge-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Log::open(&dir.join("challenges.sqlite")).unwrap()
    }

    #[test]
    fn resolving_records_what_was_recovered_within_what_was_challenged() {
        use crate::Reason::{NoSusRecord, PriceDifference};
        let mut log = fresh_log("recovered");
        // Line 1 billed £100.00 for £75.00 of activity: £25.00 challenged.
        // Line 2 has no SUS+ record: the whole £40.00. Line 3: £10.00.
        let v = crate::Validation { lines: vec![outcome(1, 10_000, 7_500, PriceDifference), outcome(2, 4_000, 4_000, NoSusRecord), outcome(3, 1_000, 1_000, NoSusRecord)], invoices: vec![] };
        log.raise(&v, "IV-1", "2024-06-01T09:00:00Z", "fin").unwrap();
        let id = |n: i64| log.find("RX1-2024-05", n).unwrap().unwrap().id;
        let (a, b, c) = (id(1), id(2), id(3));
        let at = "2024-06-02T09:00:00Z";
        assert_eq!(log.get(a).unwrap().unwrap().0.month, "2024-05");
        // An amount before resolving is refused.
        assert!(log.update(c, Status::Sent, at, "fin", "", Some(100)).is_err());
        for id in [a, b, c] {
            log.update(id, Status::Sent, at, "fin", "", None).unwrap();
        }
        // Accepted, then resolved with no amount: the whole £25.00.
        log.update(a, Status::Accepted, at, "fin", "", None).unwrap();
        let ra = log.update(a, Status::Resolved, at, "fin", "", None).unwrap();
        assert_eq!((ra.amount, ra.recovered), (2_500, Some(2_500)));
        // A dispute settled directly must say how much, and no more than £40.00.
        log.update(b, Status::Disputed, at, "fin", "", None).unwrap();
        assert!(log.update(b, Status::Resolved, at, "fin", "", None).is_err());
        assert!(log.update(b, Status::Resolved, at, "fin", "", Some(4_001)).is_err());
        assert!(log.update(b, Status::Resolved, at, "fin", "", Some(-1)).is_err());
        let rb = log.update(b, Status::Resolved, at, "fin", "settled", Some(1_500)).unwrap();
        assert_eq!(rb.recovered, Some(1_500));
        assert!(rb.upheld(), "resolved with money recovered counts as upheld");
        let (_, events) = log.get(b).unwrap().unwrap();
        assert_eq!(events.last().unwrap().note, "settled (recovered £15.00)");
        log.update(c, Status::Withdrawn, at, "fin", "", None).unwrap();
        assert!(!log.get(c).unwrap().unwrap().0.upheld());
        // The recovery report with a policy that withholds nothing: three
        // challenges, £25 + £40 + £10 = £75.00 challenged; two upheld,
        // £25 + £40 = £65.00; recovered £25 + £15 = £40.00.
        let open = haven_governance::disclosure::magnitude::MagnitudePolicy { threshold: 0, dominance_n: 2, dominance_k: 1.01, p: 0.0 };
        let counts = haven_governance::disclosure::Policy { national: true, ..Default::default() };
        let r = crate::report::recovery(&log.list(None).unwrap(), &counts, &open);
        assert_eq!(r.csv, "provider,month,challenges,value_challenged,upheld,value_upheld,value_recovered\nRX1,2024-05,3,75.00,2,65.00,40.00\n");
        // Under the default rules three challenges are too few to publish.
        let r = crate::report::recovery(&log.list(None).unwrap(), &counts, &Default::default());
        assert_eq!(r.csv.lines().nth(1), Some("RX1,2024-05,3,*,2,*,*"));
    }

    #[test]
    fn pounds_are_read_exactly() {
        assert_eq!(parse_pounds("1234.5").unwrap(), 123_450);
        assert_eq!(parse_pounds("£1,234.50").unwrap(), 123_450);
        assert_eq!(parse_pounds("0.07").unwrap(), 7);
        assert_eq!(parse_pounds("12").unwrap(), 1_200);
        for bad in ["", ".", "1.234", "-5", "12a", "1e3", "99999999999999999999"] {
            assert!(parse_pounds(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn response_files_are_read_and_bad_rows_named_by_line() {
        let (ok, bad) = parse_responses("invoice_number,line_no,response,reason\nRX1-202405-C,3,accept,\nRX1-202405-C,x,accept,\nRX1-202405-C,4,Dispute,coded correctly, see notes\nRX1,5,maybe\n");
        assert_eq!(ok.len(), 2);
        assert_eq!(ok[1], Response { invoice_number: "RX1-202405-C".into(), line_no: 4, accept: false, reason: "coded correctly, see notes".into() });
        assert_eq!(bad, [(3, "line_no is not a whole number"), (5, "response is neither accept nor dispute")]);
    }
}
