//! Turns an indicator into SQL over a zone session and collects the raw
//! (unprotected) counts per breakdown group. Raw counts never leave this
//! crate: [`crate::publish`] is the only consumer, and it passes them
//! through disclosure control.
//!
//! Each [`Base`] is a common table expression that normalises a dataset's
//! columns (`provider`, `sub_icb`, `practice`, `age`, `sex`, `imd_decile`,
//! plus what its indicators need), so a breakdown is one expression for
//! every dataset.

use arrow::array::{Array, Float64Array, Int64Array, StringArray};
use arrow::compute::cast;
use arrow::datatypes::DataType;
use arrow::record_batch::RecordBatch;
use haven_model::rules::emergency_care::ECDS_ADMITTED;
use haven_store::ZoneSession;
use serde::Serialize;

use crate::catalogue::{Base, Indicator};
use crate::error::AnalyticsError;

/// A reporting period: a financial year, e.g. 2024 for 2024-25.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Period {
    pub start_year: i32,
}

impl Period {
    /// Parses `2024-25`.
    pub fn parse(s: &str) -> Result<Period, AnalyticsError> {
        let bad = || AnalyticsError::Unknown(format!("period {s:?}: expected a financial year such as 2024-25"));
        let (a, b) = s.split_once('-').ok_or_else(bad)?;
        let start: i32 = a.parse().map_err(|_| bad())?;
        let end: i32 = b.parse().map_err(|_| bad())?;
        if a.len() != 4 || b.len() != 2 || (start + 1) % 100 != end {
            return Err(bad());
        }
        Ok(Period { start_year: start })
    }

    /// `2024-25`.
    pub fn label(self) -> String {
        format!("{}-{:02}", self.start_year, (self.start_year + 1) % 100)
    }

    fn bounds(self) -> (String, String) {
        (format!("{}-04-01", self.start_year), format!("{}-03-31", self.start_year + 1))
    }
}

/// A way to split an indicator (issue 5 §2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Breakdown {
    Total,
    Provider,
    SubIcb,
    Practice,
    AgeBand,
    Sex,
    ImdQuintile,
    /// Elective, emergency, maternity, other (APC); department type (ECDS).
    AdmissionType,
}

impl Breakdown {
    /// Every breakdown, in the order outputs list them.
    pub const ALL: [Breakdown; 8] = [
        Breakdown::Total,
        Breakdown::Provider,
        Breakdown::SubIcb,
        Breakdown::Practice,
        Breakdown::AgeBand,
        Breakdown::Sex,
        Breakdown::ImdQuintile,
        Breakdown::AdmissionType,
    ];

    /// The name used in file names and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Breakdown::Total => "total",
            Breakdown::Provider => "provider",
            Breakdown::SubIcb => "sub_icb",
            Breakdown::Practice => "practice",
            Breakdown::AgeBand => "age_band",
            Breakdown::Sex => "sex",
            Breakdown::ImdQuintile => "imd_quintile",
            Breakdown::AdmissionType => "admission_type",
        }
    }

    /// By name.
    pub fn parse(s: &str) -> Result<Breakdown, AnalyticsError> {
        Breakdown::ALL
            .into_iter()
            .find(|b| b.name() == s)
            .ok_or_else(|| AnalyticsError::Unknown(format!("unknown breakdown {s:?}")))
    }

    /// The SQL expression that labels a row's group. Age bands are the
    /// five-year bands of the 2013 European Standard Population with 90+
    /// (methods.md §6.3); IMD quintile 1 is the most deprived fifth.
    fn sql(self) -> &'static str {
        match self {
            Breakdown::Total => "'All'",
            Breakdown::Provider => "COALESCE(provider, 'Unknown')",
            Breakdown::SubIcb => "COALESCE(sub_icb, 'Unknown')",
            Breakdown::Practice => "COALESCE(practice, 'Unknown')",
            Breakdown::AgeBand => {
                "CASE WHEN age IS NULL OR age < 0 THEN 'Unknown' WHEN age >= 90 THEN '90+' \
                 ELSE lpad(CAST(CAST(age / 5 AS BIGINT) * 5 AS VARCHAR), 2, '0') || '-' || lpad(CAST(CAST(age / 5 AS BIGINT) * 5 + 4 AS VARCHAR), 2, '0') END"
            }
            Breakdown::Sex => "CASE sex WHEN '1' THEN 'Male' WHEN '2' THEN 'Female' ELSE 'Unknown' END",
            Breakdown::ImdQuintile => {
                "CASE WHEN imd_decile BETWEEN 1 AND 10 THEN CAST(CAST((imd_decile + 1) / 2 AS BIGINT) AS VARCHAR) ELSE 'Unknown' END"
            }
            Breakdown::AdmissionType => "COALESCE(kind, 'Unknown')",
        }
    }
}

/// The unprotected result of one indicator for one breakdown.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Raw {
    pub groups: Vec<String>,
    pub num: Vec<u64>,
    pub den: Vec<u64>,
    /// Per group, for median indicators.
    pub value: Vec<Option<f64>>,
}

/// The base CTE of each dataset. Days are whole: Date32 casts to days
/// since 1970.
fn base_sql(base: Base, period: Period) -> String {
    let (from, to) = period.bounds();
    let spells = "SELECT \"PROVSPNOPS\" AS spell, MIN(\"TOKEN_PERSON_ID\") AS person, \
        MIN(\"ADMIDATE\") AS admidate, MAX(\"DISDATE\") AS disdate, \
        MIN(CASE WHEN \"EPIORDER\" = '01' THEN \"ADMIMETH\" END) AS admimeth, \
        MIN(CASE WHEN \"EPIORDER\" = '01' THEN \"ELECDUR\" END) AS elecdur, \
        MIN(CASE WHEN \"EPIORDER\" = '01' THEN \"MAINSPEF\" END) AS mainspef, \
        MAX(CASE WHEN \"EPIEND\" = \"DISDATE\" THEN \"DISDEST\" END) AS disdest, \
        MAX(CASE WHEN \"EPIEND\" = \"DISDATE\" THEN \"DISMETH\" END) AS dismeth, \
        MAX(\"DISREADYDATE\") AS disreadydate, \
        MIN(\"CLASSPAT\") AS classpat, \
        MIN(CAST(\"RTTPEREND\" AS INT) - CAST(\"RTTPERSTART\" AS INT)) AS rtt_days, \
        MIN(\"PROCODE3\") AS provider, MIN(\"CCG_RESPONSIBILITY\") AS sub_icb, MIN(\"GPPRAC\") AS practice, \
        MIN(CASE WHEN \"EPIORDER\" = '01' THEN \"STARTAGE\" END) AS age, MIN(\"SEX\") AS sex, MIN(\"IMD_DECILE\") AS imd_decile \
        FROM pseudonymised.apc_episode WHERE \"PROVSPNOPS\" IS NOT NULL GROUP BY \"PROVSPNOPS\"";
    let shaped = format!(
        "SELECT *, CAST(disdate AS INT) - CAST(admidate AS INT) AS los, \
         CAST(disdate AS INT) - CAST(disreadydate AS INT) AS delay_days, \
         CASE WHEN admimeth IN ('11','12','13') THEN 'Elective' WHEN admimeth LIKE '2%' THEN 'Emergency' \
              WHEN admimeth IN ('31','32') THEN 'Maternity' ELSE 'Other' END AS kind \
         FROM ({spells}) s"
    );
    match base {
        Base::Spells => format!("SELECT * FROM ({shaped}) t WHERE disdate BETWEEN DATE '{from}' AND DATE '{to}'"),
        Base::SpellPairs => format!(
            "SELECT * FROM (SELECT *, \
               LEAD(admidate) OVER w AS next_admidate, LEAD(admimeth) OVER w AS next_admimeth, \
               LEAD(mainspef) OVER w AS next_mainspef, \
               CAST(LEAD(admidate) OVER w AS INT) - CAST(disdate AS INT) AS gap_days \
             FROM ({shaped}) t WHERE person IS NOT NULL \
             WINDOW w AS (PARTITION BY person ORDER BY admidate, disdate, spell)) p \
             WHERE disdate BETWEEN DATE '{from}' AND DATE '{to}' \
               AND (dismeth IS NULL OR dismeth <> '4') AND NOT (classpat = '2' AND admimeth IN ('11','12','13')) \
               AND (classpat IS NULL OR classpat NOT IN ('3','4')) AND (admimeth IS NULL OR admimeth NOT IN ('31','32'))"
        ),
        Base::Ecds => format!(
            "SELECT \"PROVIDER_CODE\" AS provider, \"COMMISSIONER\" AS sub_icb, \
               \"PRACTICE_CODE_PATIENT_REGISTRATION\" AS practice, \"AGE_AT_ARRIVAL\" AS age, \
               \"STATED_GENDER\" AS sex, \"IMD_DECILE\" AS imd_decile, \"DEPARTMENT_TYPE\" AS kind, \
               \"DEPARTURE_TIME_SINCE_ARRIVAL\" AS minutes, \
               CASE WHEN \"DISCHARGE_DESTINATION\" IN ({admitted}) THEN 1 ELSE 0 END AS admitted, \
               CASE WHEN \"ARRIVAL_TIME\" IS NULL OR \"ARRIVAL_DATE\" IS NULL THEN NULL \
                    WHEN extract(dow FROM \"ARRIVAL_DATE\") IN (0, 6) THEN true \
                    WHEN \"ARRIVAL_TIME\" < '08:00' OR \"ARRIVAL_TIME\" >= '18:30' THEN true ELSE false END AS out_of_hours \
             FROM pseudonymised.ecds_attendance \
             WHERE \"ARRIVAL_DATE\" BETWEEN DATE '{from}' AND DATE '{to}'",
            admitted = quoted(&ECDS_ADMITTED)
        ),
        Base::Outpatients => format!(
            "SELECT \"PROCODE3\" AS provider, \"CCG_RESPONSIBILITY\" AS sub_icb, \"GPPRAC\" AS practice, \
               \"APPTAGE\" AS age, \"SEX\" AS sex, \"IMD_DECILE\" AS imd_decile, \"ATENTYPE\" AS kind, \
               \"ATTENDED\" AS attended \
             FROM pseudonymised.op_attendance WHERE \"APPTDATE\" BETWEEN DATE '{from}' AND DATE '{to}'"
        ),
    }
}

fn quoted(codes: &[&str]) -> String {
    codes.iter().map(|c| format!("'{c}'")).collect::<Vec<_>>().join(", ")
}

/// The full query of one indicator and breakdown.
pub fn sql(indicator: &Indicator, breakdown: Breakdown, period: Period) -> String {
    let value = indicator.value_sql.unwrap_or("CAST(NULL AS DOUBLE)");
    format!(
        "SELECT {grp} AS grp, CAST(SUM({num}) AS BIGINT) AS num, CAST(SUM({den}) AS BIGINT) AS den, \
         CAST({value} AS DOUBLE) AS val FROM ({base}) b GROUP BY 1 ORDER BY 1",
        grp = breakdown.sql(),
        num = indicator.num_sql,
        den = indicator.den_sql,
        base = base_sql(indicator.base, period),
    )
}

/// Whether the session holds the dataset an indicator reads.
pub fn available(session: &ZoneSession, indicator: &Indicator) -> bool {
    let q = format!(
        "SELECT 1 FROM information_schema.tables WHERE table_schema = 'pseudonymised' AND table_name = '{}'",
        indicator.base.dataset()
    );
    session.sql(&q).map(|b| b.iter().map(RecordBatch::num_rows).sum::<usize>() > 0).unwrap_or(false)
}

/// Runs one indicator for one breakdown.
pub(crate) fn run(session: &ZoneSession, indicator: &Indicator, breakdown: Breakdown, period: Period) -> Result<Raw, AnalyticsError> {
    let batches = session
        .sql(&sql(indicator, breakdown, period))
        .map_err(|source| AnalyticsError::Query { indicator: indicator.id.to_owned(), source })?;
    let mut raw = Raw { groups: Vec::new(), num: Vec::new(), den: Vec::new(), value: Vec::new() };
    let shape = |reason: &str| AnalyticsError::Shape { indicator: indicator.id.to_owned(), reason: reason.to_owned() };
    // DataFusion may hand back string views or dictionary-encoded text;
    // casting normalises whatever the plan chose.
    let as_type = |b: &RecordBatch, i: usize, ty: &DataType| cast(b.column(i), ty).map_err(|e| shape(&e.to_string()));
    for b in &batches {
        let (grp, num, den, val) =
            (as_type(b, 0, &DataType::Utf8)?, as_type(b, 1, &DataType::Int64)?, as_type(b, 2, &DataType::Int64)?, as_type(b, 3, &DataType::Float64)?);
        let grp = grp.as_any().downcast_ref::<StringArray>().ok_or_else(|| shape("group is not text"))?;
        let num = num.as_any().downcast_ref::<Int64Array>().ok_or_else(|| shape("numerator is not an integer"))?;
        let den = den.as_any().downcast_ref::<Int64Array>().ok_or_else(|| shape("denominator is not an integer"))?;
        let val = val.as_any().downcast_ref::<Float64Array>().ok_or_else(|| shape("value is not a number"))?;
        for i in 0..b.num_rows() {
            raw.groups.push(if grp.is_null(i) { "Unknown".to_owned() } else { grp.value(i).to_owned() });
            raw.num.push(if num.is_null(i) { 0 } else { num.value(i).max(0) as u64 });
            raw.den.push(if den.is_null(i) { 0 } else { den.value(i).max(0) as u64 });
            raw.value.push((!val.is_null(i)).then(|| val.value(i)));
        }
    }
    Ok(raw)
}
