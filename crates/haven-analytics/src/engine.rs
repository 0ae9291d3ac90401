//! Turns an indicator into SQL over a zone session and collects the raw
//! (unprotected) counts per breakdown group. Raw counts never leave this
//! crate: [`crate::publish`] is the only consumer, and it passes them
//! through disclosure control.
//!
//! Each [`Base`] is a common table expression that normalises a dataset's
//! columns (`provider`, `icb`, `sub_icb`, `practice`, `pcn`, `age`, `sex`,
//! `ethnos`, `imd_decile`, plus what its indicators need), so a breakdown
//! is one expression for every dataset and source.

use arrow::array::{Array, Float64Array, Int64Array, StringArray};
use arrow::compute::cast;
use arrow::datatypes::DataType;
use arrow::record_batch::RecordBatch;
use haven_model::date::Date;
use haven_model::rules::avoidable::UcsOptions;
use haven_model::rules::readmission::{ReadmissionOptions, ReadmissionReading};
use haven_model::rules::calendar::bank_holidays_between;
use haven_model::rules::emergency_care::ECDS_ADMITTED;
use haven_model::rules::{TRANSFER_IN_SOURCE, TRANSFER_OUT_DEST};
use haven_store::ZoneSession;
use serde::{Deserialize, Serialize};

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

    /// The bank holidays of England and Wales within the period.
    pub fn holidays(self) -> Vec<Date> {
        let day = |y, m, d| Date::from_ymd(y, m, d).expect("financial years have valid bounds");
        bank_holidays_between(day(self.start_year, 4, 1), day(self.start_year + 1, 3, 31))
    }

    /// The first and last day, as SQL date literals' text.
    pub(crate) fn bounds(self) -> (String, String) {
        (format!("{}-04-01", self.start_year), format!("{}-03-31", self.start_year + 1))
    }
}

/// Whose record-level data an indicator reads: the ICB's own pseudonymised
/// flows or the national extract. They are never combined in one query
/// (DESIGN.md §2); a grant opens one or the other.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    Local,
    National,
}

impl Source {
    /// The SQL schema its datasets are registered under.
    pub fn schema(self) -> &'static str {
        match self {
            Source::Local => "pseudonymised",
            Source::National => "national",
        }
    }

    /// The store zone.
    pub fn zone(self) -> haven_store::Zone {
        match self {
            Source::Local => haven_store::Zone::Pseudonymised,
            Source::National => haven_store::Zone::National,
        }
    }
}

/// A way to split an indicator (issue 5 §2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Breakdown {
    Total,
    /// Calendar month of the activity date (`2024-04`), for SPC charts.
    Month,
    Icb,
    SubIcb,
    Pcn,
    Practice,
    Provider,
    AgeBand,
    Sex,
    Ethnicity,
    ImdQuintile,
    /// Elective, emergency, maternity, other (APC); department type (ECDS).
    AdmissionType,
    /// ICB × age band × sex × admission type, `|`-separated, and for
    /// readmissions × the index spell's diagnosis/procedure group
    /// ([`casemix_sql`]): the strata benchmarking standardises over
    /// ([`crate::standardise`]). Never published, so not in
    /// [`Breakdown::ALL`] and not parsed.
    Stratum,
}

impl Breakdown {
    /// Every breakdown, in the order outputs list them.
    pub const ALL: [Breakdown; 12] = [
        Breakdown::Total,
        Breakdown::Month,
        Breakdown::Icb,
        Breakdown::SubIcb,
        Breakdown::Pcn,
        Breakdown::Practice,
        Breakdown::Provider,
        Breakdown::AgeBand,
        Breakdown::Sex,
        Breakdown::Ethnicity,
        Breakdown::ImdQuintile,
        Breakdown::AdmissionType,
    ];

    /// The name used in file names and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Breakdown::Total => "total",
            Breakdown::Month => "month",
            Breakdown::Icb => "icb",
            Breakdown::SubIcb => "sub_icb",
            Breakdown::Pcn => "pcn",
            Breakdown::Practice => "practice",
            Breakdown::Provider => "provider",
            Breakdown::AgeBand => "age_band",
            Breakdown::Sex => "sex",
            Breakdown::Ethnicity => "ethnicity",
            Breakdown::ImdQuintile => "imd_quintile",
            Breakdown::AdmissionType => "admission_type",
            Breakdown::Stratum => "stratum",
        }
    }

    /// The name in titles ("sub-ICB location", "IMD quintile").
    pub fn label(self) -> &'static str {
        match self {
            Breakdown::Total => "total",
            Breakdown::Month => "month",
            Breakdown::Icb => "ICB",
            Breakdown::SubIcb => "sub-ICB location",
            Breakdown::Pcn => "PCN",
            Breakdown::Practice => "practice",
            Breakdown::Provider => "provider",
            Breakdown::AgeBand => "age band",
            Breakdown::Sex => "sex",
            Breakdown::Ethnicity => "ethnic group",
            Breakdown::ImdQuintile => "IMD quintile",
            Breakdown::AdmissionType => "admission type",
            Breakdown::Stratum => "standardisation stratum",
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
    /// (methods.md §6.3); IMD quintile 1 is the most deprived fifth;
    /// ethnicity is the five high-level groups of the NHS Data Dictionary
    /// ETHNIC CATEGORY (A–C White, D–G Mixed, H–L Asian, M–P Black, R–S
    /// Other; Z and 99 not stated).
    fn sql(self) -> std::borrow::Cow<'static, str> {
        let parts = [Breakdown::Icb, Breakdown::AgeBand, Breakdown::Sex, Breakdown::AdmissionType];
        std::borrow::Cow::Borrowed(match self {
            Breakdown::Stratum => return parts.map(|p| format!("({})", p.sql())).join(" || '|' || ").into(),
            Breakdown::Total => "'All'",
            Breakdown::Month => "COALESCE(to_char(activity_date, '%Y-%m'), 'Unknown')",
            Breakdown::Icb => "COALESCE(icb, 'Unknown')",
            Breakdown::SubIcb => "COALESCE(sub_icb, 'Unknown')",
            Breakdown::Pcn => "COALESCE(pcn, 'Unknown')",
            Breakdown::Practice => "COALESCE(practice, 'Unknown')",
            Breakdown::Provider => "COALESCE(provider, 'Unknown')",
            Breakdown::AgeBand => {
                "CASE WHEN age IS NULL OR age < 0 OR age > 120 AND age NOT BETWEEN 7001 AND 7007 THEN 'Unknown' \
                 WHEN age BETWEEN 7001 AND 7007 THEN '00-04' WHEN age >= 90 THEN '90+' \
                 ELSE lpad(CAST(CAST(age / 5 AS BIGINT) * 5 AS VARCHAR), 2, '0') || '-' || lpad(CAST(CAST(age / 5 AS BIGINT) * 5 + 4 AS VARCHAR), 2, '0') END"
            }
            Breakdown::Sex => "CASE sex WHEN '1' THEN 'Male' WHEN '2' THEN 'Female' ELSE 'Unknown' END",
            Breakdown::Ethnicity => {
                "CASE WHEN substr(ethnos, 1, 1) IN ('A','B','C') THEN 'White' WHEN substr(ethnos, 1, 1) IN ('D','E','F','G') THEN 'Mixed' \
                 WHEN substr(ethnos, 1, 1) IN ('H','J','K','L') THEN 'Asian' WHEN substr(ethnos, 1, 1) IN ('M','N','P') THEN 'Black' \
                 WHEN substr(ethnos, 1, 1) IN ('R','S') THEN 'Other' ELSE 'Not stated' END"
            }
            Breakdown::ImdQuintile => {
                "CASE WHEN imd_decile BETWEEN 1 AND 10 THEN CAST(CAST((imd_decile + 1) / 2 AS BIGINT) AS VARCHAR) ELSE 'Unknown' END"
            }
            Breakdown::AdmissionType => "COALESCE(kind, 'Unknown')",
        })
    }
}

/// The unprotected result of one indicator for one breakdown.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Raw {
    pub groups: Vec<String>,
    pub num: Vec<u64>,
    pub den: Vec<u64>,
    /// Per group, for median indicators.
    pub value: Vec<Option<f64>>,
}

/// What a query runs over: the source's schema and period, optionally only
/// the population one ICB is responsible for, and whether the reference
/// organisation table is open (it maps practices to PCNs).
#[derive(Clone, Debug)]
pub struct Scope {
    pub source: Source,
    pub period: Period,
    /// Keep only records whose ICB of responsibility is this ODS code.
    pub icb: Option<String>,
    pub with_org: bool,
    /// Age limits of the urgent-care-sensitive conditions (configurable:
    /// the source is inconsistent, methods.md §3.3).
    pub ucs: UcsOptions,
    /// The readmission indicator's open choices (methods.md §2.1).
    pub readmissions: ReadmissionOptions,
    /// Read spells from the derived `apc_spell_derived` dataset (built at ingest,
    /// sorted by person) rather than deriving them from episodes. Sessions
    /// register it only while it matches the episodes, so both give the
    /// same answer; the episode SQL is the reference definition.
    pub derived_spells: bool,
    /// Days counted out of hours all day on top of weekends: by default the
    /// bank holidays of England and Wales in the period, Good Friday and
    /// Christmas Day among them (methods.md §8.4).
    pub holidays: Vec<Date>,
    /// The A&E indicators read HES A&E (`ae_attendance`, to 2019-20)
    /// because the session holds it and no ECDS attendance in the period.
    pub legacy_ae: bool,
}

impl Scope {
    /// The scope of `source` in `session` for `period`.
    pub fn of(session: &ZoneSession, source: Source, period: Period) -> Scope {
        Scope {
            source,
            period,
            icb: None,
            with_org: has_table(session, "reference", "org"),
            ucs: UcsOptions::default(),
            readmissions: ReadmissionOptions::default(),
            derived_spells: has_columns(session, source.schema(), SPELL_DATASET, &DERIVED_COLUMNS),
            holidays: period.holidays(),
            legacy_ae: has_table(session, source.schema(), LEGACY_AE) && !has_ecds_in(session, source.schema(), period),
        }
    }

    /// Derives spells from episodes in the query (the reference definition)
    /// even when the derived dataset is there.
    pub fn from_episodes(mut self) -> Scope {
        self.derived_spells = false;
        self
    }

    /// Restricts to one ICB's responsible population; the code must look
    /// like an ODS code (it is written into SQL).
    pub fn for_icb(mut self, icb: &str) -> Result<Scope, AnalyticsError> {
        if icb.is_empty() || icb.len() > 5 || !icb.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(AnalyticsError::Unknown(format!("ICB {icb:?}: expected an ODS code such as QMJ")));
        }
        self.icb = Some(icb.to_ascii_uppercase());
        Ok(self)
    }

    /// The practice → PCN join, or a null PCN when the lookup is not open.
    fn pcn_join(&self, practice: &str) -> (String, String) {
        if self.with_org {
            (
                "o.\"PCN_CODE\"".into(),
                format!("LEFT JOIN (SELECT \"ORG_CODE\", \"PCN_CODE\" FROM reference.org WHERE \"ORG_TYPE\" = 'GP_PRACTICE') o ON o.\"ORG_CODE\" = {practice}"),
            )
        } else {
            ("CAST(NULL AS VARCHAR)".into(), String::new())
        }
    }
}

/// The base CTE of each dataset, with the normalised breakdown columns.
/// Days are whole: Date32 casts to days since 1970.
fn base_sql(base: Base, scope: &Scope) -> String {
    let sql = unfiltered_base_sql(base, scope);
    match &scope.icb {
        Some(icb) => format!("SELECT * FROM ({sql}) f WHERE icb = '{icb}'"),
        None => sql,
    }
}

/// HES A&E (legacy CDS type 010, to 2019-20; datasets.md §3.1, §10.4).
pub const LEGACY_AE: &str = "ae_attendance";

/// Whether `schema` holds any ECDS attendance in `period`.
fn has_ecds_in(session: &ZoneSession, schema: &str, period: Period) -> bool {
    if !has_table(session, schema, "ecds_attendance") {
        return false;
    }
    let (from, to) = period.bounds();
    let q = format!("SELECT 1 FROM {schema}.ecds_attendance WHERE \"ARRIVAL_DATE\" BETWEEN DATE '{from}' AND DATE '{to}' LIMIT 1");
    session.sql(&q).map(|b| b.iter().map(RecordBatch::num_rows).sum::<usize>() > 0).unwrap_or(false)
}

/// The A&E base over HES A&E, in the ECDS base's columns (datasets.md
/// §11.5): four hours by DEPDUR, admitted by AEATTENDDISP `01`, department
/// type AEDEPTTYPE (the same codes `01`–`04`), age ARRIVALAGE (`999` not
/// known falls in no band), arrival time `hh:mm` as ECDS's.
fn legacy_ae_sql(scope: &Scope) -> String {
    let (from, to) = scope.period.bounds();
    let (pcn, pcn_join) = scope.pcn_join("a.\"GPPRAC\"");
    format!(
        "SELECT \"PROCODE3\" AS provider, \"ICB_RESPONSIBILITY\" AS icb, \"CCG_RESPONSIBILITY\" AS sub_icb, \
           a.\"GPPRAC\" AS practice, {pcn} AS pcn, \"ARRIVALAGE\" AS age, \"SEX\" AS sex, \"ETHNOS\" AS ethnos, \
           \"IMD_DECILE\" AS imd_decile, \"AEDEPTTYPE\" AS kind, \"DEPDUR\" AS minutes, \"ARRIVALDATE\" AS activity_date, \
           CASE WHEN \"AEATTENDDISP\" = '01' THEN 1 ELSE 0 END AS admitted, \
           CASE WHEN \"ARRIVALTIME\" IS NULL OR \"ARRIVALDATE\" IS NULL THEN NULL \
                WHEN extract(dow FROM \"ARRIVALDATE\") IN (0, 6) {holidays} THEN true \
                WHEN \"ARRIVALTIME\" < '08:00' OR \"ARRIVALTIME\" >= '18:30' THEN true ELSE false END AS out_of_hours \
         FROM {schema}.{LEGACY_AE} a {pcn_join} \
         WHERE \"ARRIVALDATE\" BETWEEN DATE '{from}' AND DATE '{to}'",
        schema = scope.source.schema(),
        holidays = holidays_sql(&scope.holidays).replace("ARRIVAL_DATE", "ARRIVALDATE"),
    )
}

/// The derived spell dataset (see `haven_ingest::spells`).
pub const SPELL_DATASET: &str = "apc_spell_derived";

/// Spells from the derived dataset: one row per spell with the columns the
/// episode SQL below computes, the readmission fields already linked along
/// each person's spells, and the code classifications already made (the
/// urgent-care-sensitive one with the default age limits; other limits are
/// applied to the first episode's codes here).
fn derived_spells_sql(scope: &Scope) -> String {
    let (pcn, pcn_join) = scope.pcn_join("s.practice");
    let ucs = if scope.ucs == UcsOptions::default() { "ucs" } else { "ucs_condition(diag_all, age, admimeth, cause)" };
    format!(
        "SELECT spell, \"TOKEN_PERSON_ID\" AS person, admidate, disdate, admimeth, elecdur, mainspef, admisorc, epistat, epitype, \
         classpat1, diag_all, proc_all, cause, disdest, dismeth, disreadydate, classpat, rtt_days, provider, icb, sub_icb, s.practice AS practice, \
         {pcn} AS pcn, age, sex, ethnos, imd_decile, los, delay_days, kind, next_admidate, acsc, {ucs} AS ucs, ebi, cancer, \
         cips, cip_first, cip_disdate, cip_died, cip_cancer, readmitted_default FROM {schema}.{SPELL_DATASET} s {pcn_join}",
        schema = scope.source.schema()
    )
}

/// The readmission exclusions of methods.md §2.1 on the index CIP spell:
/// death anywhere in it, else its first provider spell's fields (the
/// configurable specialty list is added by [`spell_pairs_sql`]).
const INDEX_SPELL_FILTER: &str = "cip_died = 0 AND NOT (classpat = '2' AND admimeth IN ('11','12','13')) \
     AND (classpat IS NULL OR classpat NOT IN ('3','4')) AND (admimeth IS NULL OR admimeth NOT IN ('31','32'))";

fn unfiltered_base_sql(base: Base, scope: &Scope) -> String {
    let (from, to) = scope.period.bounds();
    if scope.derived_spells {
        let spells = derived_spells_sql(scope);
        match base {
            Base::Spells => return format!("SELECT *, disdate AS activity_date FROM ({spells}) t WHERE disdate BETWEEN DATE '{from}' AND DATE '{to}'"),
            Base::Admissions => return format!("SELECT *, admidate AS activity_date FROM ({spells}) t WHERE admidate BETWEEN DATE '{from}' AND DATE '{to}'"),
            Base::SpellPairs => {}
            Base::Ecds | Base::Outpatients => {}
        }
    }
    let schema = scope.source.schema();
    let shaped = episode_spells_sql(scope, if base == Base::Admissions { Extra::Codes } else { Extra::None });
    match base {
        Base::Spells => format!("SELECT *, disdate AS activity_date FROM ({shaped}) t WHERE disdate BETWEEN DATE '{from}' AND DATE '{to}'"),
        Base::Admissions => format!(
            "SELECT *, admidate AS activity_date, \
               acsc_chronic(diag_all, proc_all, age, sex, admimeth, admisorc, epistat, epitype, classpat1) AS acsc, \
               ucs_condition(diag_all, age, admimeth, cause) AS ucs, \
               ebi_intervention(diag_all, proc_all, age, sex, admimeth) AS ebi \
             FROM ({shaped}) t WHERE admidate BETWEEN DATE '{from}' AND DATE '{to}'"
        ),
        Base::SpellPairs => spell_pairs_sql(scope),
        Base::Ecds if scope.legacy_ae => legacy_ae_sql(scope),
        Base::Ecds => {
            let (pcn, pcn_join) = scope.pcn_join("a.\"PRACTICE_CODE_PATIENT_REGISTRATION\"");
            format!(
                "SELECT \"PROVIDER_CODE\" AS provider, \"ICB_RESPONSIBILITY\" AS icb, \"COMMISSIONER\" AS sub_icb, \
                   a.\"PRACTICE_CODE_PATIENT_REGISTRATION\" AS practice, {pcn} AS pcn, \"AGE_AT_ARRIVAL\" AS age, \
                   \"STATED_GENDER\" AS sex, \"ETHNIC_CATEGORY\" AS ethnos, \"IMD_DECILE\" AS imd_decile, \"DEPARTMENT_TYPE\" AS kind, \
                   \"DEPARTURE_TIME_SINCE_ARRIVAL\" AS minutes, \"ARRIVAL_DATE\" AS activity_date, \
                   CASE WHEN \"DISCHARGE_DESTINATION\" IN ({admitted}) THEN 1 ELSE 0 END AS admitted, \
                   CASE WHEN \"ARRIVAL_TIME\" IS NULL OR \"ARRIVAL_DATE\" IS NULL THEN NULL \
                        WHEN extract(dow FROM \"ARRIVAL_DATE\") IN (0, 6) {holidays} THEN true \
                        WHEN \"ARRIVAL_TIME\" < '08:00' OR \"ARRIVAL_TIME\" >= '18:30' THEN true ELSE false END AS out_of_hours \
                 FROM {schema}.ecds_attendance a {pcn_join} \
                 WHERE \"ARRIVAL_DATE\" BETWEEN DATE '{from}' AND DATE '{to}'",
                admitted = quoted(&ECDS_ADMITTED),
                holidays = holidays_sql(&scope.holidays),
            )
        }
        Base::Outpatients => {
            let (pcn, pcn_join) = scope.pcn_join("a.\"GPPRAC\"");
            format!(
                "SELECT \"PROCODE3\" AS provider, \"ICB_RESPONSIBILITY\" AS icb, \"CCG_RESPONSIBILITY\" AS sub_icb, \
                   a.\"GPPRAC\" AS practice, {pcn} AS pcn, \"APPTAGE\" AS age, \"SEX\" AS sex, \"ETHNOS\" AS ethnos, \
                   \"IMD_DECILE\" AS imd_decile, \"ATENTYPE\" AS kind, \"ATTENDED\" AS attended, \"APPTDATE\" AS activity_date \
                 FROM {schema}.op_attendance a {pcn_join} WHERE \"APPTDATE\" BETWEEN DATE '{from}' AND DATE '{to}'"
            )
        }
    }
}

/// Index CIP spells, each with how many readmissions count against it
/// under `scope.readmissions` (methods.md §2.1; the rule is
/// `haven_model::rules::readmission::readmitted`, which the tests compare
/// with this SQL). The unit is the continuous inpatient spell, so a
/// transfer to another provider is neither a readmission nor a new index
/// discharge. Derived spells carry the CIP fields and the default cancer
/// flag; a different cancer code list is applied to the episodes here.
fn spell_pairs_sql(scope: &Scope) -> String {
    let (from, to) = scope.period.bounds();
    let opts = &scope.readmissions;
    let heads = if scope.derived_spells && opts.default_cancer_codes() {
        format!("SELECT * FROM ({}) t WHERE person IS NOT NULL AND cip_first", derived_spells_sql(scope))
    } else {
        cip_heads_sql(&episode_spells_sql(scope, Extra::CodesAndCancer))
    };
    let index = match &opts.index_specialties {
        Some(codes) if codes.is_empty() => " AND false".to_owned(),
        Some(codes) => format!(" AND mainspef IN ({})", string_list(codes)),
        None => String::new(),
    };
    let filter = format!("cip_disdate BETWEEN DATE '{from}' AND DATE '{to}' AND {INDEX_SPELL_FILTER}{index}");
    if scope.derived_spells && opts.pairs_as_default() {
        // Paired at ingest by the same rule (`haven_ingest::spells`).
        return format!("SELECT h.*, cip_disdate AS activity_date, readmitted_default AS readmitted FROM ({heads}) h WHERE {filter}");
    }
    format!(
        "SELECT h.*, cip_disdate AS activity_date, COALESCE(x.readmissions, 0) AS readmitted \
         FROM ({heads}) h LEFT JOIN ({pairs}) x ON x.index_person = h.person AND x.index_spell = h.spell WHERE {filter}",
        pairs = readmission_pairs_sql(&heads, opts),
    )
}

/// The CIP spells (`index_person`, `index_spell`) that a qualifying
/// readmission is paired with, over the CIP heads `heads`, each with the
/// number of readmissions that count against it (`readmissions`).
///
/// A readmission is a CIP spell admitted as an emergency, not in an
/// excluded main specialty and with no cancer or chemotherapy coded in any
/// of its spells. It pairs with a CIP of the same person that comes before
/// it (by admission date, discharge date, spell) and was discharged 0 to
/// `days - 1` days before its admission:
/// [`ReadmissionReading::LastPreviousDischarge`] only with the one whose
/// discharge is the last before the admission (ties: the later in order),
/// each pair counting; [`ReadmissionReading::AnyAfterIndex`] with every
/// such CIP, which counts once.
fn readmission_pairs_sql(heads: &str, opts: &ReadmissionOptions) -> String {
    let specialty = if opts.excluded_specialties.is_empty() {
        String::new()
    } else {
        format!(" AND (r.mainspef IS NULL OR r.mainspef NOT IN ({}))", string_list(&opts.excluded_specialties))
    };
    let cancer = if opts.cancer_codes.is_empty() { "" } else { " AND COALESCE(r.cip_cancer, 0) = 0" };
    const FAR: &str = "DATE '9999-12-31'";
    let pairs = format!(
        "SELECT p.person AS index_person, p.spell AS index_spell, r.person AS r_person, r.spell AS r_spell, \
           p.cip_disdate AS p_dis, p.admidate AS p_adm, COALESCE(p.disdate, {FAR}) AS p_first_dis \
         FROM (SELECT person, spell, admidate, disdate, admimeth, mainspef, cip_cancer FROM ({heads}) r0) r \
         JOIN (SELECT person, spell, admidate, disdate, cip_disdate FROM ({heads}) p0) p ON p.person = r.person \
         WHERE r.admimeth LIKE '2%'{specialty}{cancer} AND p.spell <> r.spell AND p.cip_disdate IS NOT NULL \
           AND CAST(r.admidate AS INT) - CAST(p.cip_disdate AS INT) BETWEEN 0 AND {last} \
           AND (p.admidate < r.admidate OR (p.admidate = r.admidate AND (COALESCE(p.disdate, {FAR}) < COALESCE(r.disdate, {FAR}) \
                OR (COALESCE(p.disdate, {FAR}) = COALESCE(r.disdate, {FAR}) AND p.spell < r.spell))))",
        last = i32::from(opts.days) - 1,
    );
    match opts.reading {
        ReadmissionReading::AnyAfterIndex => format!("SELECT DISTINCT index_person, index_spell, 1 AS readmissions FROM ({pairs}) q"),
        ReadmissionReading::LastPreviousDischarge => format!(
            "SELECT index_person, index_spell, COUNT(*) AS readmissions FROM ( \
               SELECT index_person, index_spell, ROW_NUMBER() OVER (PARTITION BY r_person, r_spell \
                 ORDER BY p_dis DESC, p_adm DESC, p_first_dis DESC, index_spell DESC) AS rn FROM ({pairs}) q \
             ) l WHERE rn = 1 GROUP BY index_person, index_spell"
        ),
    }
}

/// Whether a spell continues the person's previous spell (the `w` window)
/// into one continuous inpatient spell: `haven_model::rules::continues`
/// as SQL, blanks for nulls as the rule reads them (datasets.md §11.2).
fn cip_link_sql() -> String {
    let prev = |col: &str| format!("COALESCE(LAG({col}) OVER w, '')");
    let here = |col: &str| format!("COALESCE({col}, '')");
    format!(
        "{pc} NOT IN ('3','4') AND {hc} NOT IN ('3','4') \
         AND CAST(admidate AS INT) - CAST(LAG(disdate) OVER w AS INT) BETWEEN 0 AND 2 \
         AND NOT ({pd} = '19' AND {hs} = '51' AND {hm} = '21') \
         AND ({pd} IN ({out}) OR {hs} IN ({inward}) OR {hm} IN ('2B', '81'))",
        pc = prev("classpat"),
        hc = here("classpat"),
        pd = prev("disdest"),
        hs = here("admisorc"),
        hm = here("admimeth"),
        out = quoted(&TRANSFER_OUT_DEST),
        inward = quoted(&TRANSFER_IN_SOURCE),
    )
}

/// The first provider spell of each CIP spell of `spells` (which carry the
/// `cancer` flag), with the CIP's discharge (null while any of its spells
/// is open), whether it ended in death, and whether cancer or chemotherapy
/// is coded in any of its spells' episodes (`cip_cancer`).
fn cip_heads_sql(spells: &str) -> String {
    const ORDER: &str = "PARTITION BY person ORDER BY admidate, disdate, spell";
    format!(
        "SELECT * FROM ( \
           SELECT *, CASE WHEN COUNT(*) OVER c = COUNT(disdate) OVER c THEN MAX(disdate) OVER c END AS cip_disdate, \
             MAX(CASE WHEN dismeth = '4' THEN 1 ELSE 0 END) OVER c AS cip_died, MAX(cancer) OVER c AS cip_cancer \
           FROM ( \
             SELECT *, SUM(1 - linked) OVER (ORDER_BY ROWS UNBOUNDED PRECEDING) AS cip_no \
             FROM (SELECT *, CASE WHEN {link} THEN 1 ELSE 0 END AS linked FROM ({spells}) s \
                   WHERE person IS NOT NULL WINDOW w AS ({ORDER})) l \
           ) k WINDOW c AS (PARTITION BY person, cip_no) \
         ) c WHERE linked = 0",
        link = cip_link_sql(),
    )
    .replace("ORDER_BY", ORDER)
}

/// Whether cancer or chemotherapy (any prefix of `codes`) is coded in one
/// of an episode's diagnosis positions, as SQL.
fn cancer_sql(codes: &[String]) -> String {
    if codes.is_empty() {
        return "false".to_owned();
    }
    (1..=20)
        .flat_map(|i| codes.iter().map(move |c| format!("\"DIAG_4_{i:02}\" LIKE '{}%'", c.replace('\'', "''"))))
        .collect::<Vec<_>>()
        .join(" OR ")
}

/// What spells derived from episodes carry beyond the common columns: each
/// costs every spell, so only the bases that read it ask for it.
#[derive(Clone, Copy, PartialEq)]
enum Extra {
    None,
    /// The first episode's clinical codes (`diag_all`, `proc_all`): 44
    /// fields built into strings.
    Codes,
    /// The codes (for the case-mix group) and the readmission's
    /// cancer/chemotherapy flag over every diagnosis of every episode
    /// (`cancer`).
    CodesAndCancer,
}

/// ICD-10 chapter number (I–XXII; U codes are XXII, 0 for none) of the
/// three-character upper-case code `p`, as SQL.
pub(crate) fn icd10_chapter_sql(p: &str) -> String {
    // The first code of each chapter after I, and its number.
    const STARTS: [(&str, u8); 20] = [
        ("C00", 2), ("D50", 3), ("E00", 4), ("F00", 5), ("G00", 6), ("H00", 7), ("H60", 8), ("I00", 9), ("J00", 10), ("K00", 11),
        ("L00", 12), ("M00", 13), ("N00", 14), ("O00", 15), ("P00", 16), ("Q00", 17), ("R00", 18), ("S00", 19), ("U00", 22), ("V00", 20),
    ];
    let mut sql = format!("CASE WHEN {p} IS NULL OR {p} = '' THEN 0");
    let mut chapter = 1;
    for (start, next) in STARTS {
        sql.push_str(&format!(" WHEN {p} < '{start}' THEN {chapter}"));
        chapter = next;
    }
    // V01–Y98 external causes (XX) end at Z00, then Z (XXI).
    sql.push_str(&format!(" WHEN {p} < 'Z00' THEN {chapter} ELSE 21 END"));
    sql
}

/// The readmission standardisation's diagnosis/procedure group of an index
/// spell (methods.md §2.1: "ICD-10 chapter ... within medical specialties;
/// OPCS-4 chapter ... within surgical specialties"; the selected
/// sub-chapters are unconfirmed, so chapters only): in a surgical main
/// specialty (100–199) with a procedure, the OPCS-4 chapter of the first
/// episode's main procedure; otherwise the ICD-10 chapter of its primary
/// diagnosis.
pub(crate) fn casemix_sql() -> String {
    let proc = "upper(substr(split_part(COALESCE(proc_all, ''), '|', 1), 1, 1))";
    let diag = "upper(substr(split_part(COALESCE(diag_all, ''), '|', 1), 1, 3))";
    format!(
        "CASE WHEN substr(COALESCE(mainspef, ''), 1, 1) = '1' AND length(mainspef) = 3 AND {proc} BETWEEN 'A' AND 'Z' \
           THEN 'OPCS ' || {proc} ELSE 'ICD ' || CAST({chapter} AS VARCHAR) END",
        chapter = icd10_chapter_sql(diag),
    )
}

/// An episode's provider spell: the `spell_key` function
/// (`haven_model::rules::spell_key`, registered by `crate::udf`).
const SPELL_KEY: &str = "spell_key(\"SUSSPELLID\", \"PROCODE3\", \"PROVSPNOPS\", \"TOKEN_PERSON_ID\", \"ADMIDATE\")";

/// Spells (no period filter) derived in the query from `scope`'s episodes:
/// the reference definition, with the `extra` columns.
fn episode_spells_sql(scope: &Scope, extra: Extra) -> String {
    let schema = scope.source.schema();
    // COALESCE keeps every position: concat_ws would skip a null and move
    // a secondary code into the primary's place.
    let diags = (1..=20).map(|i| format!("COALESCE(\"DIAG_4_{i:02}\", '')")).collect::<Vec<_>>().join(", ");
    let procs = (1..=24).map(|i| format!("COALESCE(\"OPERTN_4_{i:02}\", '')")).collect::<Vec<_>>().join(", ");
    let (pcn, pcn_join) = scope.pcn_join("e.\"GPPRAC\"");
    let first = |col: &str| format!("MIN(CASE WHEN \"EPIORDER\" = '01' THEN {col} END)");
    let spells = format!(
        "SELECT {SPELL_KEY} AS spell, MIN(\"TOKEN_PERSON_ID\") AS person, \
        MIN(\"ADMIDATE\") AS admidate, MAX(\"DISDATE\") AS disdate, \
        {admimeth} AS admimeth, {elecdur} AS elecdur, {mainspef} AS mainspef, \
        {admisorc} AS admisorc, {epistat} AS epistat, {epitype} AS epitype, {classpat1} AS classpat1, \
        {codes} \
        MAX(CASE WHEN \"EPIEND\" = \"DISDATE\" THEN \"DISDEST\" END) AS disdest, \
        MAX(CASE WHEN \"EPIEND\" = \"DISDATE\" THEN \"DISMETH\" END) AS dismeth, \
        MAX(\"DISREADYDATE\") AS disreadydate, \
        {cancer} \
        MIN(\"CLASSPAT\") AS classpat, \
        MIN(CAST(\"RTTPEREND\" AS INT) - CAST(\"RTTPERSTART\" AS INT)) AS rtt_days, \
        MIN(\"PROCODE3\") AS provider, MIN(\"ICB_RESPONSIBILITY\") AS icb, MIN(\"CCG_RESPONSIBILITY\") AS sub_icb, \
        MIN(e.\"GPPRAC\") AS practice, MIN({pcn}) AS pcn, \
        {age} AS age, MIN(\"SEX\") AS sex, MIN(\"ETHNOS\") AS ethnos, MIN(\"IMD_DECILE\") AS imd_decile \
        FROM {schema}.apc_episode e {pcn_join} WHERE {SPELL_KEY} IS NOT NULL GROUP BY {SPELL_KEY}",
        admimeth = first("\"ADMIMETH\""),
        elecdur = first("\"ELECDUR\""),
        mainspef = first("\"MAINSPEF\""),
        admisorc = first("\"ADMISORC\""),
        epistat = first("\"EPISTAT\""),
        epitype = first("\"EPITYPE\""),
        classpat1 = first("\"CLASSPAT\""),
        codes = if extra != Extra::None {
            format!(
                "{} AS diag_all, {} AS proc_all, {} AS cause,",
                first(&format!("concat_ws('|', {diags})")),
                first(&format!("concat_ws('|', {procs})")),
                first("COALESCE(\"CAUSE_4\", \"CAUSE_3\")")
            )
        } else {
            String::new()
        },
        age = first("\"STARTAGE\""),
        cancer = if extra == Extra::CodesAndCancer {
            format!("MAX(CASE WHEN {} THEN 1 ELSE 0 END) AS cancer,", cancer_sql(&scope.readmissions.cancer_codes))
        } else {
            String::new()
        },
    );
    format!(
        "SELECT *, CAST(disdate AS INT) - CAST(admidate AS INT) AS los, \
         CAST(disdate AS INT) - CAST(disreadydate AS INT) AS delay_days, \
         CASE WHEN admimeth IN ('11','12','13') THEN 'Elective' WHEN admimeth LIKE '2%' THEN 'Emergency' \
              WHEN admimeth IN ('31','32') THEN 'Maternity' ELSE 'Other' END AS kind \
         FROM ({spells}) s"
    )
}

/// Spells (no period filter, codes included) as the scope reads them.
pub(crate) fn spells_sql(scope: &Scope) -> String {
    if scope.derived_spells {
        derived_spells_sql(scope)
    } else {
        episode_spells_sql(scope, Extra::Codes)
    }
}

/// `OR "ARRIVAL_DATE" IN (...)` for the holidays, or nothing.
fn holidays_sql(days: &[Date]) -> String {
    if days.is_empty() {
        return String::new();
    }
    let list = days.iter().map(|d| format!("DATE '{d}'")).collect::<Vec<_>>().join(", ");
    format!("OR \"ARRIVAL_DATE\" IN ({list})")
}

/// User-given codes as an SQL list of string literals, quotes doubled.
fn string_list(codes: &[String]) -> String {
    codes.iter().map(|c| format!("'{}'", c.replace('\'', "''"))).collect::<Vec<_>>().join(", ")
}

fn quoted(codes: &[&str]) -> String {
    codes.iter().map(|c| format!("'{c}'")).collect::<Vec<_>>().join(", ")
}

/// One query for every indicator of one base by every breakdown: the base is
/// derived once, each row's group labels and measure inputs are computed
/// once, and then each row is fanned out to one (breakdown, group) pair per
/// breakdown, so spells are built once per run rather than once per
/// indicator and breakdown.
pub fn sql(base: Base, indicators: &[&Indicator], breakdowns: &[Breakdown], scope: &Scope) -> String {
    let names = breakdowns.iter().map(|b| format!("('{}')", b.name())).collect::<Vec<_>>().join(", ");
    let label = |b: &Breakdown| match (b, base) {
        // Readmissions are standardised by case mix as well (methods.md §2.1).
        (Breakdown::Stratum, Base::SpellPairs) => format!("{} || '|' || ({})", b.sql(), casemix_sql()),
        _ => b.sql().into_owned(),
    };
    let labels = breakdowns.iter().enumerate().map(|(j, b)| format!("{} AS g{j}", label(b))).collect::<Vec<_>>().join(", ");
    let grp = breakdowns.iter().enumerate().map(|(j, b)| format!("WHEN '{}' THEN g{j}", b.name())).collect::<Vec<_>>().join(" ");
    let inputs = indicators
        .iter()
        .enumerate()
        .map(|(i, ind)| {
            let median = ind.median_of.map(|m| format!(", {m} AS v{i}")).unwrap_or_default();
            format!("{num} AS n{i}, {den} AS d{i}{median}", num = ind.num_sql, den = ind.den_sql)
        })
        .collect::<Vec<_>>()
        .join(", ");
    let measures = indicators
        .iter()
        .enumerate()
        .map(|(i, ind)| {
            let value = if ind.median_of.is_some() { format!("median(v{i})") } else { "NULL".to_owned() };
            format!("CAST(SUM(n{i}) AS BIGINT) AS n{i}, CAST(SUM(d{i}) AS BIGINT) AS d{i}, CAST({value} AS DOUBLE) AS v{i}")
        })
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "SELECT k.breakdown AS breakdown, CASE k.breakdown {grp} END AS grp, {measures} \
         FROM (SELECT {labels}, {inputs} FROM ({base}) b) r CROSS JOIN (VALUES {names}) AS k(breakdown) GROUP BY 1, 2 ORDER BY 1, 2",
        base = base_sql(base, scope),
    )
}

/// Columns of the derived spells the engine reads that an older Haven's
/// derivation lacked: without them the episodes answer instead (and the
/// next load or `refresh` derives the spells again).
const DERIVED_COLUMNS: [&str; 5] = ["cips", "cip_first", "cip_cancer", "cause", "readmitted_default"];

/// Whether `schema.table` is open with every one of `columns`.
fn has_columns(session: &ZoneSession, schema: &str, table: &str, columns: &[&str]) -> bool {
    let list = quoted(columns);
    let q = format!(
        "SELECT 1 FROM information_schema.columns WHERE table_schema = '{schema}' AND table_name = '{table}' AND column_name IN ({list})"
    );
    session.sql(&q).map(|b| b.iter().map(RecordBatch::num_rows).sum::<usize>() == columns.len()).unwrap_or(false)
}

fn has_table(session: &ZoneSession, schema: &str, table: &str) -> bool {
    let q = format!("SELECT 1 FROM information_schema.tables WHERE table_schema = '{schema}' AND table_name = '{table}'");
    session.sql(&q).map(|b| b.iter().map(RecordBatch::num_rows).sum::<usize>() > 0).unwrap_or(false)
}

/// Whether the session holds the dataset an indicator reads (for A&E,
/// ECDS or HES A&E).
pub fn available(session: &ZoneSession, source: Source, indicator: &Indicator) -> bool {
    holds(session, source, indicator.base.dataset()) || (indicator.base == Base::Ecds && holds(session, source, LEGACY_AE))
}

/// The dataset a query for `indicator` reads under `scope`: the derived
/// spells for APC indicators when the scope uses them, else the base's own.
pub fn reads(scope: &Scope, indicator: &Indicator) -> &'static str {
    match indicator.base {
        Base::SpellPairs if !scope.readmissions.default_cancer_codes() => Base::SpellPairs.dataset(),
        Base::Spells | Base::Admissions | Base::SpellPairs if scope.derived_spells => SPELL_DATASET,
        Base::Ecds if scope.legacy_ae => LEGACY_AE,
        base => base.dataset(),
    }
}

/// Whether the session holds `dataset` of `source`.
pub fn holds(session: &ZoneSession, source: Source, dataset: &str) -> bool {
    has_table(session, source.schema(), dataset)
}

/// Runs `indicators` (all of `base`) by each of `breakdowns`: per breakdown,
/// one [`Raw`] per indicator in the order given.
pub(crate) fn run(
    session: &ZoneSession,
    base: Base,
    indicators: &[&Indicator],
    breakdowns: &[Breakdown],
    scope: &Scope,
) -> Result<Vec<(Breakdown, Vec<Raw>)>, AnalyticsError> {
    let label = indicators.iter().map(|i| i.id).collect::<Vec<_>>().join(",");
    let batches = session
        .sql(&sql(base, indicators, breakdowns, scope))
        .map_err(|source| AnalyticsError::Query { indicator: label.clone(), source })?;
    let shape = |reason: &str| AnalyticsError::Shape { indicator: label.clone(), reason: reason.to_owned() };
    let mut out: Vec<(Breakdown, Vec<Raw>)> = breakdowns.iter().map(|&b| (b, vec![Raw::default(); indicators.len()])).collect();
    // DataFusion may hand back string views or dictionary-encoded text;
    // casting normalises whatever the plan chose.
    let col = |b: &RecordBatch, i: usize, ty: &DataType| cast(b.column(i), ty).map_err(|e| shape(&e.to_string()));
    for b in &batches {
        let bd = col(b, 0, &DataType::Utf8)?;
        let grp = col(b, 1, &DataType::Utf8)?;
        let bd = bd.as_any().downcast_ref::<StringArray>().ok_or_else(|| shape("breakdown is not text"))?;
        let grp = grp.as_any().downcast_ref::<StringArray>().ok_or_else(|| shape("group is not text"))?;
        for (k, _) in indicators.iter().enumerate() {
            let (num, den, val) = (col(b, 2 + 3 * k, &DataType::Int64)?, col(b, 3 + 3 * k, &DataType::Int64)?, col(b, 4 + 3 * k, &DataType::Float64)?);
            let num = num.as_any().downcast_ref::<Int64Array>().ok_or_else(|| shape("numerator is not an integer"))?;
            let den = den.as_any().downcast_ref::<Int64Array>().ok_or_else(|| shape("denominator is not an integer"))?;
            let val = val.as_any().downcast_ref::<Float64Array>().ok_or_else(|| shape("value is not a number"))?;
            for i in 0..b.num_rows() {
                let slot = out.iter_mut().find(|(x, _)| x.name() == bd.value(i)).ok_or_else(|| shape("unknown breakdown"))?;
                let raw = &mut slot.1[k];
                raw.groups.push(if grp.is_null(i) { "Unknown".to_owned() } else { grp.value(i).to_owned() });
                raw.num.push(if num.is_null(i) { 0 } else { num.value(i).max(0) as u64 });
                raw.den.push(if den.is_null(i) { 0 } else { den.value(i).max(0) as u64 });
                raw.value.push((!val.is_null(i)).then(|| val.value(i)));
            }
        }
    }
    Ok(out)
}
