//! Arrow schemas for every canonical table of `shared/reference/datasets.md` §10.
//!
//! Every crate that reads or writes a canonical table (the generator, the
//! parsers, the store, the indicators) takes its columns from here, so a column
//! is named, typed and classed as identifiable in exactly one place.
//!
//! Conventions (datasets.md §10.0):
//!
//! * **Names** are the HES/SUS field names in upper case exactly as HES spells
//!   them; non-HES sources use the DARS/SUS name upper-cased, and columns the
//!   platform adds are marked *(platform)* in the comments below.
//! * **Types**: `code(n)`, `str(n)` and `enum` are [`DataType::Utf8`] — never
//!   numbers, because leading zeros are significant (`ADMIMETH` `2A`,
//!   `TRETSPEF` `100`, SNOMED ids of 18 digits); `int` is [`DataType::Int32`]
//!   (population counts are [`DataType::Int64`]); `date` is
//!   [`DataType::Date32`]; `datetime` is a microsecond [`DataType::Timestamp`]
//!   without time zone; `bool` is [`DataType::Boolean`]; `money` is
//!   [`DataType::Int64`] holding **pence**, so invoice arithmetic is exact;
//!   `dec(p,s)` is [`DataType::Float64`] (MFF indices, GP measurements,
//!   quantities — never money).
//! * **`time`** is [`DataType::Utf8`] holding `HH:MM` or `HH:MM:SS`. Sources
//!   disagree on the form (HES A&E `hhmm` with `3000`/`4000` sentinels, HES
//!   critical care `HH:MM:SS`, ECDS `HH:MM[:SS]`); parsers normalise to one of
//!   the two text forms and map sentinels to null. No indicator does
//!   arithmetic on a clock time: the elapsed minutes are supplied as their
//!   own `int` columns (`DEPDUR`, `DEPARTURE_TIME_SINCE_ARRIVAL`, …).
//! * **Repeating groups** are fixed columns as in HES (`DIAG_4_01..20`,
//!   `OPERTN_4_01..24`, `DIAGNOSIS_CODE_1..12`, `S_COD_CODE_1..15`).
//! * **Nullability**: every column is nullable except the primary-key columns
//!   (null-and-invalid sentinels become nulls, and most fields are optional
//!   in the sources).
//!
//! Every field carries [`CANONICAL_TYPE`] metadata with its datasets.md type
//! (`code(2)`, `money`, `dec(7,5)`, …). Fields that identify a patient carry
//! [`IDENTIFIABLE`]` = "true"`: the NHS number, full date of birth, month/year
//! of birth, postcode, local patient id and clear provider spell number. The
//! DSCRO receives identifiable flows, so the full schemas include them (right
//! after `TOKEN_PERSON_ID`); [`Table::pseudonymised_schema`] is what the
//! pseudonymised zones store (datasets.md §10.0 "Zones", DESIGN.md).
//! Record identifiers (EPIKEY, SUSRECID, ATTENDKEY, invoice ids, ...) carry
//! [`RECORD_KEY`] with their identifier space: the DSCRO stage keys them
//! per zone, so no record links across zones without a key.

use std::collections::HashMap;
use std::fmt;
use std::ops::RangeInclusive;
use std::sync::{Arc, OnceLock};

use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};

/// Field metadata key marking a column that identifies a patient (NHS number,
/// date of birth, postcode, local patient id, clear provider spell number).
pub const IDENTIFIABLE: &str = "haven.identifiable";

/// Field metadata key marking a record identifier (EPIKEY, SUSRECID,
/// ATTENDKEY, invoice ids, ...) with its identifier space, e.g. `episode`.
/// Such a value links a row to the same record in every zone, so the DSCRO
/// stage keys it per zone like the person token (issue 14 item 8). Columns
/// holding the same identifier share a space (an A&E attendance's EPIKEY
/// and the episode's), so they still join inside one zone.
pub const RECORD_KEY: &str = "haven.record_key";

/// Field metadata key listing, comma-separated, the documented sentinel
/// values of a record identifier that are kept as they are (SUSSPELLID `-1`
/// = unspellable, datasets.md §10.1), so rules that test for them still work.
pub const RECORD_KEY_KEEP: &str = "haven.record_key.keep";

/// Field metadata key holding the datasets.md type, e.g. "code(2)", "money", "date".
pub const CANONICAL_TYPE: &str = "haven.type";

/// Whether a field is marked [`IDENTIFIABLE`].
pub fn is_identifiable(field: &Field) -> bool {
    field.metadata().get(IDENTIFIABLE).map(String::as_str) == Some("true")
}

/// The identifier space of a record-identifier column ([`RECORD_KEY`]).
pub fn record_key_space(field: &Field) -> Option<&str> {
    field.metadata().get(RECORD_KEY).map(String::as_str)
}

/// Whether `value` is a documented sentinel of a record-identifier column,
/// kept as it is ([`RECORD_KEY_KEEP`]).
pub fn is_record_key_sentinel(field: &Field, value: &str) -> bool {
    field.metadata().get(RECORD_KEY_KEEP).is_some_and(|keep| keep.split(',').any(|k| k == value))
}

/// Every canonical table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Table {
    /// HES APC / SUS+ APC, one row per consultant episode (§10.1).
    ApcEpisode,
    /// Derived provider spell (§10.2).
    ApcSpell,
    /// HES OP / SUS+ OPA, one row per appointment (§10.3).
    OpAttendance,
    /// HES A&E, legacy to 2019-20 (§10.4).
    AeAttendance,
    /// ECDS (§10.5).
    EcdsAttendance,
    /// HES critical care, one row per CC period (§10.6).
    CcPeriod,
    /// Civil registration deaths (§10.7).
    Death,
    /// GP extract: one row per patient (§10.8).
    GpPatient,
    /// GP extract: one row per registration period (§10.8).
    GpRegistration,
    /// GP extract: coded journal, one row per coded entry (§10.8).
    GpEvent,
    /// GP extract: one row per medication issue (§10.8).
    GpMedication,
    /// Derived QOF-style register periods (§10.8; never supplied).
    GpRegister,
    /// MHSDS published-measure shape (§10.9).
    MhsdsSummary,
    /// Provider invoice (§10.11).
    InvoiceHeader,
    /// Patient-level backing-data line of an invoice (§10.11).
    InvoiceLine,
    /// Aggregate contract monitoring (ACM): a provider's monthly totals by
    /// commissioner and point of delivery, whose sum an invoice must equal
    /// (§6.1).
    AcmTotal,
    /// Organisations, time-versioned (§10.10).
    Org,
    /// LSOA 2021 ↔ 2011, commissioner and deprivation lookup (§10.10).
    LsoaLookup,
    /// Postcode → LSOA 2021 (platform reference table).
    PostcodeLookup,
    /// Resident / registered population by age band and sex (platform reference table).
    Population,
    /// NHS Payment Scheme APC prices by HRG (§10.10).
    TariffApc,
    /// Market forces factor by provider (§10.10).
    Mff,
    /// National data opt-out clean lists per purpose (§10.10, §7).
    OptoutCleanList,
}

const TABLE_COUNT: usize = 23;

impl Table {
    /// Every table, in declaration order (`Table::ALL[t as usize] == t`).
    pub const ALL: [Table; TABLE_COUNT] = [
        Table::ApcEpisode,
        Table::ApcSpell,
        Table::OpAttendance,
        Table::AeAttendance,
        Table::EcdsAttendance,
        Table::CcPeriod,
        Table::Death,
        Table::GpPatient,
        Table::GpRegistration,
        Table::GpEvent,
        Table::GpMedication,
        Table::GpRegister,
        Table::MhsdsSummary,
        Table::InvoiceHeader,
        Table::InvoiceLine,
        Table::AcmTotal,
        Table::Org,
        Table::LsoaLookup,
        Table::PostcodeLookup,
        Table::Population,
        Table::TariffApc,
        Table::Mff,
        Table::OptoutCleanList,
    ];

    /// The dataset name as written in datasets.md (snake case).
    pub fn name(self) -> &'static str {
        match self {
            Table::ApcEpisode => "apc_episode",
            Table::ApcSpell => "apc_spell",
            Table::OpAttendance => "op_attendance",
            Table::AeAttendance => "ae_attendance",
            Table::EcdsAttendance => "ecds_attendance",
            Table::CcPeriod => "cc_period",
            Table::Death => "death",
            Table::GpPatient => "gp_patient",
            Table::GpRegistration => "gp_registration",
            Table::GpEvent => "gp_event",
            Table::GpMedication => "gp_medication",
            Table::GpRegister => "gp_register",
            Table::MhsdsSummary => "mhsds_summary",
            Table::InvoiceHeader => "invoice_header",
            Table::InvoiceLine => "invoice_line",
            Table::AcmTotal => "acm_total",
            Table::Org => "org",
            Table::LsoaLookup => "lsoa_lookup",
            Table::PostcodeLookup => "postcode_lookup",
            Table::Population => "population",
            Table::TariffApc => "tariff_apc",
            Table::Mff => "mff",
            Table::OptoutCleanList => "optout_clean_list",
        }
    }

    /// The table with this dataset name, if any (exact, case-sensitive).
    pub fn from_name(name: &str) -> Option<Table> {
        Table::ALL.into_iter().find(|t| t.name() == name)
    }

    /// The full canonical schema, identifiable columns included.
    pub fn schema(self) -> SchemaRef {
        Arc::clone(self.full())
    }

    /// The schema stored in pseudonymised zones: [`Table::schema`] without the
    /// columns marked [`IDENTIFIABLE`], in the same order.
    pub fn pseudonymised_schema(self) -> SchemaRef {
        static CACHE: [OnceLock<SchemaRef>; TABLE_COUNT] = [const { OnceLock::new() }; TABLE_COUNT];
        let schema = CACHE[self as usize].get_or_init(|| {
            let full = self.full();
            let kept: Vec<Arc<Field>> = full
                .fields()
                .iter()
                .filter(|f| !is_identifiable(f))
                .cloned()
                .collect();
            Arc::new(Schema::new_with_metadata(kept, full.metadata().clone()))
        });
        Arc::clone(schema)
    }

    /// Names of the columns marked [`IDENTIFIABLE`], in schema order.
    pub fn identifiable_columns(self) -> Vec<&'static str> {
        self.full()
            .fields()
            .iter()
            .filter(|f| is_identifiable(f))
            .map(|f| f.name().as_str())
            .collect()
    }

    /// Primary-key columns (never null). A key column is never a person
    /// identifier, clear or pseudonymous, so keys survive pseudonymisation;
    /// tables whose only natural key is the person (deaths, the GP extract,
    /// opt-out lists) therefore have none.
    pub fn primary_key(self) -> &'static [&'static str] {
        match self {
            Table::ApcEpisode => &["EPIKEY"],
            Table::ApcSpell => &["SPELL_KEY"],
            Table::OpAttendance => &["ATTENDKEY"],
            Table::AeAttendance => &["AEKEY"],
            Table::EcdsAttendance => &["EC_IDENT"],
            // One episode has up to nine CC periods, numbered by CCPERNUM.
            Table::CcPeriod => &["SUSRECID", "CCPERNUM"],
            Table::Death
            | Table::GpPatient
            | Table::GpRegistration
            | Table::GpEvent
            | Table::GpMedication
            | Table::GpRegister
            | Table::OptoutCleanList => &[],
            Table::MhsdsSummary => &[
                "REPORTING_PERIOD_START",
                "STATUS",
                "BREAKDOWN",
                "PRIMARY_LEVEL",
                "SECONDARY_LEVEL",
                "MEASURE_ID",
            ],
            Table::InvoiceHeader => &["INVOICE_ID"],
            Table::InvoiceLine => &["INVOICE_ID", "LINE_NO"],
            Table::AcmTotal => &["PROVIDER_CODE", "COMMISSIONER_CODE", "COMMISSIONING_SERIAL_NO", "ACTIVITY_MONTH", "NATIONAL_POD"],
            // One row per version of an organisation; OPEN_DATE starts the version.
            Table::Org => &["ORG_CODE", "OPEN_DATE"],
            // 2011 → 2021 LSOAs split and merge, so a row is a (2021, 2011) pair.
            Table::LsoaLookup => &["LSOA21", "LSOA11"],
            Table::PostcodeLookup => &["POSTCODE"],
            Table::Population => &["FYEAR", "AREA_TYPE", "AREA_CODE", "AGE_BAND", "SEX"],
            Table::TariffApc => &["FYEAR", "HRG"],
            Table::Mff => &["FYEAR", "PROCODE3"],
        }
    }

    /// The date that places a row in time: HES assigns an episode to the
    /// year its episode ends (HES Data Dictionary, EPIEND), and the other
    /// activity tables to their appointment, arrival or issue date. Retention
    /// and reporting periods use it. `None` for tables that describe a state
    /// rather than an event (registrations, registers, patients) and for
    /// reference data, which age out by other rules.
    pub fn activity_date(self) -> Option<&'static str> {
        Some(match self {
            Table::ApcEpisode => "EPIEND",
            Table::ApcSpell => "DISDATE",
            Table::OpAttendance => "APPTDATE",
            Table::AeAttendance => "ARRIVALDATE",
            Table::EcdsAttendance => "ARRIVAL_DATE",
            Table::CcPeriod => "CCSTARTDATE",
            Table::Death => "REG_DATE_OF_DEATH",
            Table::GpEvent => "EVENT_DATE",
            Table::GpMedication => "ISSUE_DATE",
            Table::MhsdsSummary => "REPORTING_PERIOD_START",
            Table::InvoiceHeader => "INVOICE_DATE",
            Table::InvoiceLine => "ACTIVITY_DATE",
            Table::AcmTotal => "ACTIVITY_MONTH",
            _ => return None,
        })
    }

    /// Reference data (lookups and prices) rather than activity or person data.
    pub fn is_reference(self) -> bool {
        matches!(
            self,
            Table::Org
                | Table::LsoaLookup
                | Table::PostcodeLookup
                | Table::Population
                | Table::TariffApc
                | Table::Mff
        )
    }

    fn full(self) -> &'static SchemaRef {
        static CACHE: [OnceLock<SchemaRef>; TABLE_COUNT] = [const { OnceLock::new() }; TABLE_COUNT];
        CACHE[self as usize].get_or_init(|| {
            let key = self.primary_key();
            let fields: Vec<Field> = columns(self)
                .into_iter()
                .map(|f| {
                    let in_key = key.contains(&f.name().as_str());
                    f.with_nullable(!in_key)
                })
                .collect();
            Arc::new(Schema::new(fields))
        })
    }
}

impl fmt::Display for Table {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

fn columns(table: Table) -> Vec<Field> {
    match table {
        Table::ApcEpisode => apc_episode(),
        Table::ApcSpell => apc_spell(),
        Table::OpAttendance => op_attendance(),
        Table::AeAttendance => ae_attendance(),
        Table::EcdsAttendance => ecds_attendance(),
        Table::CcPeriod => cc_period(),
        Table::Death => death(),
        Table::GpPatient => gp_patient(),
        Table::GpRegistration => gp_registration(),
        Table::GpEvent => gp_event(),
        Table::GpMedication => gp_medication(),
        Table::GpRegister => gp_register(),
        Table::MhsdsSummary => mhsds_summary(),
        Table::InvoiceHeader => invoice_header(),
        Table::InvoiceLine => invoice_line(),
        Table::AcmTotal => acm_total(),
        Table::Org => org(),
        Table::LsoaLookup => lsoa_lookup(),
        Table::PostcodeLookup => postcode_lookup(),
        Table::Population => population(),
        Table::TariffApc => tariff_apc(),
        Table::Mff => mff(),
        Table::OptoutCleanList => optout_clean_list(),
    }
}

// ---------------------------------------------------------------------------
// Field helpers: one per datasets.md type. Nullability is set afterwards from
// the primary key.

fn typed(name: impl Into<String>, data_type: DataType, canonical: impl Into<String>) -> Field {
    let metadata = HashMap::from([(CANONICAL_TYPE.to_owned(), canonical.into())]);
    Field::new(name, data_type, true).with_metadata(metadata)
}

/// `code(n)`: a code of at most `n` characters, leading zeros significant.
fn code(name: impl Into<String>, n: u32) -> Field {
    typed(name, DataType::Utf8, format!("code({n})"))
}

/// `str(n)`: free text of at most `n` characters.
fn text(name: impl Into<String>, n: u32) -> Field {
    typed(name, DataType::Utf8, format!("str({n})"))
}

/// `str` with no length given in datasets.md.
fn text_any(name: impl Into<String>) -> Field {
    typed(name, DataType::Utf8, "str")
}

/// `enum`: one of a closed list of upper-case words given in the row.
fn enumeration(name: impl Into<String>) -> Field {
    typed(name, DataType::Utf8, "enum")
}

/// `int`.
fn int(name: impl Into<String>) -> Field {
    typed(name, DataType::Int32, "int")
}

/// `int` that counts people, where 32 bits are not a safe bound once summed.
fn count(name: impl Into<String>) -> Field {
    typed(name, DataType::Int64, "int")
}

/// `date`.
fn date(name: impl Into<String>) -> Field {
    typed(name, DataType::Date32, "date")
}

/// `time`: text `HH:MM` or `HH:MM:SS` (see the module doc).
fn time(name: impl Into<String>) -> Field {
    typed(name, DataType::Utf8, "time")
}

/// `datetime`: microseconds, no time zone.
fn datetime(name: impl Into<String>) -> Field {
    typed(
        name,
        DataType::Timestamp(TimeUnit::Microsecond, None),
        "datetime",
    )
}

/// `bool`.
fn flag(name: impl Into<String>) -> Field {
    typed(name, DataType::Boolean, "bool")
}

/// `money`: signed pence.
fn money(name: impl Into<String>) -> Field {
    typed(name, DataType::Int64, "money")
}

/// `dec(p,s)`.
fn dec(name: impl Into<String>, precision: u32, scale: u32) -> Field {
    typed(name, DataType::Float64, format!("dec({precision},{scale})"))
}

/// Marks a field as identifying a patient.
fn ident(field: Field) -> Field {
    let mut metadata = field.metadata().clone();
    metadata.insert(IDENTIFIABLE.to_owned(), "true".to_owned());
    field.with_metadata(metadata)
}

/// Marks a field as a record identifier in identifier space `space`.
fn record(field: Field, space: &str) -> Field {
    let mut metadata = field.metadata().clone();
    metadata.insert(RECORD_KEY.to_owned(), space.to_owned());
    field.with_metadata(metadata)
}

/// A record identifier whose `sentinels` are kept as they are.
fn record_keeping(field: Field, space: &str, sentinels: &str) -> Field {
    let field = record(field, space);
    let mut metadata = field.metadata().clone();
    metadata.insert(RECORD_KEY_KEEP.to_owned(), sentinels.to_owned());
    field.with_metadata(metadata)
}

/// A repeating group as fixed columns: `prefix` followed by each number of
/// `range`, zero-padded to `width` digits (`DIAG_4_01`; width 1 gives
/// `DIAGNOSIS_CODE_1`).
fn repeat(
    prefix: &str,
    range: RangeInclusive<u32>,
    width: usize,
    make: impl Fn(String) -> Field,
) -> Vec<Field> {
    range
        .map(|i| make(format!("{prefix}{i:0width$}")))
        .collect()
}

/// `TOKEN_PERSON_ID` followed by the identifiable trio every patient-level
/// activity table carries: NHS number (named `nhs_number` in this table), full
/// date of birth and postcode of usual address. The token is the keyed
/// pseudonym (32 characters, as HES) filled in for the pseudonymised zones.
fn person(nhs_number: &str) -> Vec<Field> {
    vec![
        text("TOKEN_PERSON_ID", 32),
        ident(code(nhs_number, 10)),
        ident(date("DOB")),
        ident(text("POSTCODE", 8)),
    ]
}

// ---------------------------------------------------------------------------
// Activity tables.

/// §10.1, plus the platform's identifiable columns and RTT fields.
fn apc_episode() -> Vec<Field> {
    [
        vec![record(code("EPIKEY", 20), "episode"), code("FYEAR", 4)],
        person("NEWNHSNO"),
        vec![
            ident(code("MYDOB", 6)),
            // Platform: the provider's spell number in clear (HES releases only
            // the pseudonym PROVSPNOPS); needed to match invoice lines (§6.1).
            ident(text("PROVSPNO", 12)),
            code("NEWNHSNO_CHECK", 1),
            record(code("SUSRECID", 14), "sus_record"),
            record_keeping(code("SUSSPELLID", 19), "sus_key", "-1"),
            record(text("PROVSPNOPS", 32), "spell"),
            code("EPIORDER", 2),
            code("EPISTAT", 1),
            code("EPITYPE", 1),
            code("SPELBGIN", 1),
            code("SPELEND", 1),
            int("FAE"),
            int("FCE"),
            int("FDE"),
            date("ADMIDATE"),
            date("EPISTART"),
            date("EPIEND"),
            date("DISDATE"),
            date("ELECDATE"),
            date("DISREADYDATE"),
            int("ELECDUR"),
            int("EPIDUR"),
            int("SPELDUR"),
            code("ADMIMETH", 2),
            code("ADMISORC", 2),
            code("DISDEST", 2),
            code("DISMETH", 1),
            code("CLASSPAT", 1),
            code("INTMANIG", 1),
            code("ADMINCAT", 2),
            code("MAINSPEF", 3),
            code("TRETSPEF", 3),
        ],
        repeat("DIAG_4_", 1..=20, 2, |n| code(n, 4)),
        vec![text("DIAG_4_CONCAT", 120)],
        repeat("OPERTN_4_", 1..=24, 2, |n| code(n, 4)),
        vec![
            text("OPERTN_4_CONCAT", 130),
            code("CAUSE_4", 4),
            // HES's three-character copy of the same external cause (read
            // when CAUSE_4 is absent; methods.md §3.3 falls).
            code("CAUSE_3", 3),
            int("STARTAGE"),
            code("SEX", 1),
            code("ETHNOS", 2),
            code("GPPRAC", 6),
            code("PROCODE3", 5),
            code("PROCODE5", 5),
            code("SITETRET", 5),
            code("PURCODE", 5),
            code("CCG_RESPONSIBILITY", 5),
            code("CCG_RESPONSIBILITY_ORIGIN", 1),
            // Platform: ICB of responsibility via the sub-ICB lookup.
            code("ICB_RESPONSIBILITY", 3),
            code("RESLADST_ONS", 9),
            code("LSOA11", 9),
            // Platform: 2021 LSOA and its IMD decile (1 = most deprived).
            code("LSOA21", 9),
            int("IMD_DECILE"),
            code("SUSHRG", 5),
            code("SUSCOREHRG", 5),
            code("SUSHRGVERS", 3),
            // Platform: HES OP's RTT fields (§2) carried on APC too, so
            // elective waits can be measured on admissions.
            date("RTTPERSTART"),
            date("RTTPEREND"),
            code("RTTPERSTAT", 2),
            int("WAITDAYS"),
        ],
    ]
    .concat()
}

/// §10.2: derived spell; pseudonymous only (the clear spell number stays on
/// the episode).
fn apc_spell() -> Vec<Field> {
    vec![
        record(text("SPELL_KEY", 40), "spell_key"),
        record_keeping(code("SUSSPELLID", 19), "sus_key", "-1"),
        text("TOKEN_PERSON_ID", 32),
        code("PROCODE3", 5),
        code("SITETRET", 5),
        record(code("FIRST_EPIKEY", 20), "episode"),
        record(code("LAST_EPIKEY", 20), "episode"),
        int("EPISODE_COUNT"),
        date("ADMIDATE"),
        date("DISDATE"),
        code("ADMIMETH", 2),
        code("ADMISORC", 2),
        code("CLASSPAT", 1),
        code("DISMETH", 1),
        code("DISDEST", 2),
        code("SPELL_PRIMARY_DIAG", 4),
        code("SPELL_DOMINANT_PROC", 4),
        code("SPELL_CORE_HRG", 5),
        code("SPELL_TRETSPEF", 3),
        int("SPELDUR"),
        int("LOS_NET"),
        // DC EL NEL NELST NELNE RADAY RANIGHT (+ …XBD for excess days).
        enumeration("POD"),
        flag("IS_ELECTIVE"),
        flag("IS_EMERGENCY"),
        flag("IS_MATERNITY"),
        flag("IS_TRANSFER_IN"),
        flag("FROM_CARE_HOME"),
        flag("TO_CARE_HOME"),
        flag("DIED_IN_HOSPITAL"),
        record(text("CIPS_KEY", 40), "spell_key"),
        int("TRIM_POINT_DAYS"),
        int("EXCESS_BED_DAYS"),
        money("BASE_TARIFF"),
        money("EBD_PAYMENT"),
        flag("SSEM_APPLIED"),
        dec("MFF", 7, 5),
        money("TARIFF_TOTAL"),
        money("GRAND_TOTAL_MFF"),
        code("SUB_ICB_RESPONSIBILITY", 5),
        code("ICB_RESPONSIBILITY", 3),
    ]
}

/// §10.3, with "as APC" rows repeated from §10.1.
fn op_attendance() -> Vec<Field> {
    [
        vec![record(code("ATTENDKEY", 20), "sus_key"), code("FYEAR", 4)],
        person("NEWNHSNO"),
        vec![
            date("APPTDATE"),
            int("APPTAGE"),
            code("SEX", 1),
            code("ETHNOS", 2),
            code("ATTENDED", 1),
            int("ATTENDANCE"),
            code("FIRSTATT", 1),
            code("ATENTYPE", 2),
            code("OUTCOME", 1),
            code("REFSOURC", 2),
            code("PRIORITY", 1),
            date("REQDATE"),
            date("RTTPERSTART"),
            date("RTTPEREND"),
            code("RTTPERSTAT", 2),
            // HES OP (§2): RTTPEREND − RTTPERSTART, as on apc_episode.
            int("WAITDAYS"),
            code("CONSULTATION_MEDIUM_USED", 2),
            code("STAFFTYP", 2),
            code("TRETSPEF", 3),
            code("MAINSPEF", 3),
            code("PROCODE3", 5),
            code("SITETRET", 5),
            code("GPPRAC", 6),
            code("CCG_RESPONSIBILITY", 5),
            // Platform columns, as on apc_episode.
            code("ICB_RESPONSIBILITY", 3),
            code("LSOA11", 9),
            code("LSOA21", 9),
            int("IMD_DECILE"),
        ],
        repeat("DIAG_4_", 1..=12, 2, |n| code(n, 4)),
        repeat("OPERTN_4_", 1..=24, 2, |n| code(n, 4)),
        vec![
            code("SUSHRG", 5),
            code("ADMINCAT", 2),
            money("TARIFF_TOTAL"),
            money("GRAND_TOTAL_MFF"),
        ],
    ]
    .concat()
}

/// §10.4.
fn ae_attendance() -> Vec<Field> {
    [
        vec![record(code("AEKEY", 20), "ae_attendance"), code("FYEAR", 4)],
        person("NEWNHSNO"),
        vec![
            date("ARRIVALDATE"),
            time("ARRIVALTIME"),
            int("ARRIVALAGE"),
            code("SEX", 1),
            code("ETHNOS", 2),
            code("AEARRIVALMODE", 1),
            code("AEATTENDCAT", 1),
            code("AEDEPTTYPE", 2),
            code("AEREFSOURCE", 2),
            code("AEPATGROUP", 2),
            time("INITTIME"),
            time("TRETTIME"),
            time("CONCLTIME"),
            time("DEPTIME"),
            int("INITDUR"),
            int("TRETDUR"),
            int("CONCLDUR"),
            int("DEPDUR"),
            code("AEATTENDDISP", 2),
        ],
        repeat("DIAG_", 1..=12, 2, |n| code(n, 6)),
        vec![
            code("DIAGSCHEME", 2),
            code("PROCODE3", 5),
            code("SITETRET", 5),
            code("GPPRAC", 6),
            code("CCG_RESPONSIBILITY", 5),
            // Platform: ICB of responsibility via the sub-ICB lookup.
            code("ICB_RESPONSIBILITY", 3),
            code("LSOA11", 9),
            // Platform: 2021 LSOA and IMD decile, as on apc_episode.
            code("LSOA21", 9),
            int("IMD_DECILE"),
            record(code("EPIKEY", 20), "episode"),
            // Platform: DEPDUR ≤ 240 (§3.3).
            flag("FOUR_HOUR_MET"),
            // Platform: AEATTENDDISP = 01.
            flag("ADMITTED"),
        ],
    ]
    .concat()
}

/// §10.5.
fn ecds_attendance() -> Vec<Field> {
    [
        vec![
            record(text("EC_IDENT", 20), "sus_key"),
            // Platform: financial year of ARRIVAL_DATE, so every activity
            // table can be partitioned and filtered the same way.
            code("FYEAR", 4),
        ],
        person("NEWNHSNO"),
        vec![
            code("PROVIDER_CODE", 5),
            code("SITE", 5),
            code("DEPARTMENT_TYPE", 2),
            code("ATTENDANCE_CATEGORY", 1),
            date("ARRIVAL_DATE"),
            time("ARRIVAL_TIME"),
            code("ARRIVAL_MODE", 18),
            code("ATTENDANCE_SOURCE", 18),
            code("CHIEF_COMPLAINT", 18),
            code("ACUITY", 18),
            date("ASSESSMENT_DATE"),
            time("ASSESSMENT_TIME"),
            date("SEEN_DATE"),
            time("SEEN_TIME"),
            date("DECIDED_TO_ADMIT_DATE"),
            time("DECIDED_TO_ADMIT_TIME"),
            date("CONCLUSION_DATE"),
            time("CONCLUSION_TIME"),
            date("DEPARTURE_DATE"),
            time("DEPARTURE_TIME"),
            int("INITIAL_ASSESSMENT_TIME_SINCE_ARRIVAL"),
            int("SEEN_FOR_TREATMENT_TIME_SINCE_ARRIVAL"),
            int("DECIDED_TO_ADMIT_TIME_SINCE_ARRIVAL"),
            int("CONCLUSION_TIME_SINCE_ARRIVAL"),
            int("DEPARTURE_TIME_SINCE_ARRIVAL"),
        ],
        repeat("DIAGNOSIS_CODE_", 1..=12, 1, |n| code(n, 18)),
        vec![
            code("DISCHARGE_DESTINATION", 18),
            code("DISCHARGE_STATUS", 18),
            code("DISCHARGE_FOLLOW_UP", 18),
            int("AGE_AT_ARRIVAL"),
            code("STATED_GENDER", 1),
            code("ETHNIC_CATEGORY", 2),
            code("PRACTICE_CODE_PATIENT_REGISTRATION", 6),
            code("COMMISSIONER", 5),
            // Platform: ICB of responsibility via the sub-ICB lookup.
            code("ICB_RESPONSIBILITY", 3),
            code("LSOA_2011", 9),
            // Platform: 2021 LSOA and IMD decile, as on apc_episode.
            code("LSOA21", 9),
            int("IMD_DECILE"),
            code("HEALTH_RESOURCE_GROUP", 5),
            money("TARIFF"),
            money("FINAL_PRICE"),
            dec("MARKET_FORCES_FACTOR", 7, 5),
            record(code("EPIKEY", 20), "episode"),
            // Platform flags (§11.5).
            flag("FOUR_HOUR_MET"),
            flag("ADMITTED"),
            flag("AMBULANCE_ARRIVAL"),
        ],
    ]
    .concat()
}

/// §10.6: no person fields; the period reaches its patient through the
/// APC episode (SUSRECID / EPIKEY).
fn cc_period() -> Vec<Field> {
    vec![
        record(code("SUSRECID", 14), "sus_record"),
        // Platform: the APC episode SUSRECID resolves to.
        record(code("EPIKEY", 20), "episode"),
        code("CCPERNUM", 2),
        code("CCPERTYPE", 2),
        date("CCSTARTDATE"),
        time("CCSTARTTIME"),
        date("CCDISDATE"),
        time("CCDISTIME"),
        date("CCDISRDYDATE"),
        code("CCUNITFUN", 2),
        code("UNITBEDCONFIG", 2),
        code("CCADMITYPE", 2),
        code("CCADMISORC", 2),
        code("CCSORCLOC", 2),
        code("CCDISSTAT", 2),
        code("CCDISDEST", 2),
        code("CCDISLOC", 2),
        int("CCLEV2DAYS"),
        int("CCLEV3DAYS"),
        int("ARESSUPDAYS"),
        int("BRESSUPDAYS"),
        int("ACARDSUPDAYS"),
        int("BCARDSUPDAYS"),
        int("RENSUPDAYS"),
        int("NEUROSUPDAYS"),
        int("GISUPDAYS"),
        int("DERMSUPDAYS"),
        int("LIVERSUPDAYS"),
        int("ORGSUPMAX"),
        code("CC_HRG", 5),
    ]
}

/// §10.7, with the identifiable trio under the civil-registration name for
/// the NHS number.
fn death() -> Vec<Field> {
    [
        person("DEC_NHS_NUMBER"),
        vec![
            date("REG_DATE_OF_DEATH"),
            date("REG_DATE"),
            code("DEC_SEX", 1),
            int("DEC_AGEC"),
            code("S_UNDERLYING_COD_ICD10", 5),
        ],
        repeat("S_COD_CODE_", 1..=15, 1, |n| code(n, 5)),
        vec![
            text("POD_CODE", 9),
            code("POD_NHS_ESTABLISHMENT", 1),
            code("POD_ESTABLISHMENT_TYPE", 2),
            // Platform: HOSPITAL CARE_HOME HOME HOSPICE OTHER (§4.2 mapping).
            enumeration("PLACE_OF_DEATH_GROUP"),
            code("GP_PRACTICE_CODE", 6),
            code("LSOA_OF_RESIDENCE_CODE", 9),
            code("CCG_OF_RESIDENCE_CODE", 5),
        ],
    ]
    .concat()
}

// ---------------------------------------------------------------------------
// GP extract (§10.8). The GDPPR name NHS_NUMBER is kept; demographics (date of
// birth, postcode) are on gp_patient only, the other tables carry the NHS
// number to link by.

fn gp_patient() -> Vec<Field> {
    [
        person("NHS_NUMBER"),
        vec![
            int("YEAR_OF_BIRTH"),
            code("SEX", 1),
            code("ETHNIC", 18),
            code("LSOA21", 9),
            date("DATE_OF_DEATH"),
        ],
    ]
    .concat()
}

fn gp_registration() -> Vec<Field> {
    vec![
        text("TOKEN_PERSON_ID", 32),
        ident(code("NHS_NUMBER", 10)),
        code("PRACTICE", 6),
        date("REG_START"),
        date("REG_END"),
    ]
}

fn gp_event() -> Vec<Field> {
    vec![
        text("TOKEN_PERSON_ID", 32),
        ident(code("NHS_NUMBER", 10)),
        code("PRACTICE", 6),
        code("CODE", 18),
        date("EVENT_DATE"),
        date("RECORD_DATE"),
        dec("VALUE1", 12, 4),
        dec("VALUE2", 12, 4),
        code("EPISODE", 2),
    ]
}

fn gp_medication() -> Vec<Field> {
    vec![
        text("TOKEN_PERSON_ID", 32),
        ident(code("NHS_NUMBER", 10)),
        code("PRACTICE", 6),
        code("DMD_ID", 18),
        code("BNF_CODE", 15),
        date("ISSUE_DATE"),
        dec("QUANTITY", 10, 3),
        text("QUANTITY_UNIT", 20),
        text("DOSE", 200),
        // Platform: ACUTE REPEAT REPEAT_DISPENSING UNKNOWN.
        enumeration("ISSUE_TYPE"),
    ]
}

/// Platform, derived from gp_event after pseudonymisation; never supplied.
fn gp_register() -> Vec<Field> {
    vec![
        text("TOKEN_PERSON_ID", 32),
        code("REGISTER_ID", 10),
        date("ON_REGISTER_FROM"),
        date("ON_REGISTER_TO"),
        text("RULESET", 10),
        date("ACHIEVEMENT_DATE"),
    ]
}

/// §10.9: aggregate, no person-level rows.
fn mhsds_summary() -> Vec<Field> {
    vec![
        date("REPORTING_PERIOD_START"),
        date("REPORTING_PERIOD_END"),
        text("STATUS", 20),
        text("BREAKDOWN", 100),
        text_any("PRIMARY_LEVEL"),
        text_any("PRIMARY_LEVEL_DESCRIPTION"),
        text_any("SECONDARY_LEVEL"),
        text_any("SECONDARY_LEVEL_DESCRIPTION"),
        text("MEASURE_ID", 10),
        // Text as published: small counts are suppressed (e.g. `*`).
        text("MEASURE_VALUE", 20),
    ]
}

// ---------------------------------------------------------------------------
// Invoice validation (§10.11; CEfF zone).

fn invoice_header() -> Vec<Field> {
    vec![
        // Platform: internal UUID.
        record(text("INVOICE_ID", 36), "invoice"),
        // The provider's own number for a financial document, not a record
        // of a patient: kept clear in the CEfF, where challenges quote it
        // back to the provider (issue 17).
        text("INVOICE_NUMBER", 30),
        code("PROVIDER_CODE", 5),
        code("COMMISSIONER_CODE", 5),
        // CONTRACTED NCA.
        enumeration("CONTRACT_TYPE"),
        text("COMMISSIONING_SERIAL_NO", 6),
        date("INVOICE_DATE"),
        date("ACTIVITY_PERIOD_START"),
        date("ACTIVITY_PERIOD_END"),
        code("FYEAR", 4),
        money("TOTAL_NET"),
        money("VAT"),
        text("BACKING_DATA_REF", 100),
        datetime("RECEIVED_AT"),
    ]
}

/// ACM (datasets.md §6.1: "aggregate; its total must equal the invoice
/// value"; NHS Data Dictionary "Aggregate Contract Monitoring"): one row per
/// provider, commissioner, contract, month and national point of delivery.
/// No patient in it.
fn acm_total() -> Vec<Field> {
    vec![
        code("PROVIDER_CODE", 5),
        code("COMMISSIONER_CODE", 5),
        text("COMMISSIONING_SERIAL_NO", 6),
        // The first day of the activity month.
        date("ACTIVITY_MONTH"),
        text("NATIONAL_POD", 12),
        int("ACTIVITY"),
        money("PRICE_ACTUAL"),
    ]
}

fn invoice_line() -> Vec<Field> {
    [
        vec![record(text("INVOICE_ID", 36), "invoice"), int("LINE_NO")],
        person("NEWNHSNO"),
        vec![
            ident(text("LOCAL_PATIENT_ID", 20)),
            ident(text("PROVSPNO", 12)),
            // APC OP AE ECDS CC DRUG DEVICE OTHER.
            enumeration("ACTIVITY_TYPE"),
            text("POD", 12),
            code("WITHHELD_IDENTITY_REASON", 2),
            code("GPPRAC", 6),
            // Platform: 2021 LSOA of the postcode billed, filled at load
            // from the postcode lookup, so Who Pays? can take residence for
            // a patient with no practice once the CEfF drops the postcode.
            code("LSOA21", 9),
            code("SEX", 1),
            code("PROCODE3", 5),
            code("SITETRET", 5),
            record(text("PROVIDER_REFERENCE_NO", 17), "provider_reference"),
            record(text("COMMISSIONER_REFERENCE_NO", 17), "commissioner_reference"),
            record(text("PRIOR_APPROVAL_REF", 30), "prior_approval"),
            text("SERVICE_AGREEMENT_LINE_NO", 10),
            // SUSSPELLID, ATTENDKEY or EC_IDENT (datasets.md §10.11): one
            // space with them, so invoice lines still match their activity
            // inside the CEfF zone.
            record(text("SUS_RECORD_KEY", 20), "sus_key"),
            date("ACTIVITY_DATE"),
            date("DISCHARGE_DATE"),
            code("ADMIMETH", 2),
            code("CLASSPAT", 1),
            code("FIRSTATT", 1),
            code("TRETSPEF", 3),
            code("HRG", 5),
            int("LOS_DAYS"),
            int("TRIM_POINT_DAYS"),
            int("EXCESS_BED_DAYS"),
            money("UNIT_PRICE"),
            money("EBD_AMOUNT"),
            flag("SSEM_APPLIED"),
            dec("MFF", 7, 5),
            money("OTHER_ADJUSTMENTS"),
            dec("QUANTITY", 10, 3),
            money("LINE_AMOUNT"),
            // Platform, from matching and re-pricing (§11.7, §11.8):
            // EXACT_KEY MATCHED_DEMOGRAPHIC NO_SUS_RECORD DUPLICATE_LINE ALREADY_PAID.
            enumeration("MATCH_STATUS"),
            record(text("MATCHED_SUS_KEY", 40), "sus_key"),
            code("RESPONSIBLE_COMMISSIONER", 5),
            money("EXPECTED_AMOUNT"),
            // PAY CHALLENGE REJECT QUERY.
            enumeration("VALIDATION_OUTCOME"),
            // NOT_RESPONSIBLE_COMMISSIONER NHSE_COMMISSIONED NO_PRIOR_APPROVAL
            // NO_SUS_RECORD DUPLICATE PRICE_DIFFERENCE HRG_DIFFERENCE
            // LOS_DIFFERENCE PRIVATE_OR_OVERSEAS OUT_OF_PERIOD INVALID_NHS_NUMBER.
            enumeration("VALIDATION_REASON"),
        ],
    ]
    .concat()
}

// ---------------------------------------------------------------------------
// Reference tables (§10.10 and platform additions). No person data: an
// organisation's or a lookup row's postcode identifies a place, not a patient.

fn org() -> Vec<Field> {
    vec![
        code("ORG_CODE", 9),
        // GP_PRACTICE SUB_ICB ICB TRUST SITE REGION INDEPENDENT_PROVIDER PCN.
        enumeration("ORG_TYPE"),
        code("ONS_CODE", 9),
        text("NAME", 200),
        code("PARENT_CODE", 9),
        date("OPEN_DATE"),
        date("CLOSE_DATE"),
        text("POSTCODE", 8),
        // Platform (practices): the practice's primary care network.
        code("PCN_CODE", 6),
        // Platform (practices): nominal registered list size.
        int("LIST_SIZE"),
        // Platform (trusts): the ICB that hosts the trust's contract.
        code("HOST_ICB", 3),
    ]
}

fn lsoa_lookup() -> Vec<Field> {
    vec![
        code("LSOA21", 9),
        code("LSOA11", 9),
        code("SUB_ICB", 5),
        code("ICB", 3),
        code("LAD_ONS", 9),
        int("IMD_DECILE"),
        // Platform: IMD rank (1 = most deprived), for finer deprivation cuts.
        int("IMD_RANK"),
    ]
}

/// Platform: postcode → 2021 LSOA, used to place identifiable records before
/// the postcode is dropped.
fn postcode_lookup() -> Vec<Field> {
    vec![text("POSTCODE", 8), code("LSOA21", 9)]
}

/// Platform: population denominators by financial year, area, ESP2013 age
/// band and sex.
fn population() -> Vec<Field> {
    vec![
        code("FYEAR", 4),
        // LSOA PRACTICE SUB_ICB ICB.
        enumeration("AREA_TYPE"),
        code("AREA_CODE", 9),
        // European Standard Population 2013 bands `0-4`, `5-9`, …, `85-89`, `90+`.
        enumeration("AGE_BAND"),
        code("SEX", 1),
        count("POPULATION"),
    ]
}

fn tariff_apc() -> Vec<Field> {
    vec![
        code("FYEAR", 4),
        code("HRG", 5),
        text("HRG_NAME", 200),
        money("OP_PROCEDURE_PRICE"),
        money("COMBINED_DC_EL_PRICE"),
        money("DC_PRICE"),
        money("EL_PRICE"),
        int("EL_TRIM_POINT_DAYS"),
        money("NEL_PRICE"),
        int("NEL_TRIM_POINT_DAYS"),
        money("LONG_STAY_PER_DAY"),
        money("SSEM_PRICE"),
        flag("SSEM_APPLICABLE"),
    ]
}

fn mff() -> Vec<Field> {
    vec![
        code("FYEAR", 4),
        code("PROCODE3", 5),
        dec("MFF_PAYMENT_INDEX", 7, 5),
    ]
}

/// §10.10 / §7: who may flow for a purpose. Held by the processor only; opt-out
/// status itself is never stored.
fn optout_clean_list() -> Vec<Field> {
    vec![
        // COMMISSIONING RISK_STRATIFICATION (never invoice validation).
        enumeration("PURPOSE"),
        ident(code("NEWNHSNO", 10)),
        date("CLEANED_ON"),
        text("SOURCE_FILE", 100),
    ]
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use proptest::prelude::*;

    use super::*;

    /// Issue 14 item 8: the record identifiers the DSCRO stage keys per
    /// zone are marked once, here; none is also a patient identifier, and
    /// only SUSSPELLID keeps a sentinel.
    #[test]
    fn issue_14_record_identifiers_are_marked_with_their_space() {
        let marked: BTreeSet<String> = Table::ALL
            .iter()
            .flat_map(|t| {
                t.schema()
                    .fields()
                    .iter()
                    .filter_map(|f| record_key_space(f).map(|s| format!("{t}.{}:{s}", f.name())))
                    .collect::<Vec<_>>()
            })
            .collect();
        for expected in [
            "apc_episode.EPIKEY:episode",
            "apc_episode.SUSRECID:sus_record",
            "apc_episode.SUSSPELLID:sus_key",
            "apc_episode.PROVSPNOPS:spell",
            "op_attendance.ATTENDKEY:sus_key",
            "ae_attendance.AEKEY:ae_attendance",
            "ae_attendance.EPIKEY:episode",
            "ecds_attendance.EC_IDENT:sus_key",
            "ecds_attendance.EPIKEY:episode",
            "cc_period.SUSRECID:sus_record",
            "cc_period.EPIKEY:episode",
            "invoice_header.INVOICE_ID:invoice",
            "invoice_line.INVOICE_ID:invoice",
            "invoice_line.SUS_RECORD_KEY:sus_key",
            "invoice_line.PROVIDER_REFERENCE_NO:provider_reference",
        ] {
            assert!(marked.contains(expected), "{expected} not marked: {marked:?}");
        }
        for t in Table::ALL {
            for f in t.schema().fields() {
                assert!(!(is_identifiable(f) && record_key_space(f).is_some()), "{t}.{}", f.name());
                assert_eq!(is_record_key_sentinel(f, "-1"), f.name() == "SUSSPELLID", "{t}.{}", f.name());
            }
        }
        let spell = Table::ApcEpisode.schema();
        let spell = spell.field_with_name("SUSSPELLID").unwrap();
        assert!(!is_record_key_sentinel(spell, "1234567890"));
    }

    /// Tables with one row per patient or per patient event; each must carry
    /// `TOKEN_PERSON_ID`. The rest are reference data, aggregates
    /// (mhsds_summary), invoice-level (invoice_header), linked through an
    /// episode (cc_period) or processor-only NHS-number lists
    /// (optout_clean_list).
    const PERSON_LEVEL: [Table; 12] = [
        Table::ApcEpisode,
        Table::ApcSpell,
        Table::OpAttendance,
        Table::AeAttendance,
        Table::EcdsAttendance,
        Table::Death,
        Table::GpPatient,
        Table::GpRegistration,
        Table::GpEvent,
        Table::GpMedication,
        Table::GpRegister,
        Table::InvoiceLine,
    ];

    fn names(schema: &Schema) -> Vec<&str> {
        schema.fields().iter().map(|f| f.name().as_str()).collect()
    }

    fn canonical_type(field: &Field) -> &str {
        field
            .metadata()
            .get(CANONICAL_TYPE)
            .map(String::as_str)
            .unwrap_or_else(|| panic!("{} has no {CANONICAL_TYPE}", field.name()))
    }

    fn set(items: &[&str]) -> BTreeSet<String> {
        items.iter().map(|s| (*s).to_owned()).collect()
    }

    /// Asserts that `expect` appears in `table` as consecutive columns.
    fn check_run(table: Table, expect: &[String]) {
        let schema = table.schema();
        let all = names(&schema);
        let start = all
            .iter()
            .position(|n| *n == expect[0])
            .unwrap_or_else(|| panic!("{table}: no {}", expect[0]));
        assert_eq!(&all[start..start + expect.len()], expect, "{table}");
    }

    fn numbered(prefix: &str, range: RangeInclusive<u32>, width: usize) -> Vec<String> {
        range.map(|i| format!("{prefix}{i:0width$}")).collect()
    }

    #[test]
    fn all_lists_every_table_once_in_declaration_order() {
        for (i, t) in Table::ALL.iter().enumerate() {
            assert_eq!(*t as usize, i);
        }
        let distinct: BTreeSet<_> = Table::ALL.iter().collect();
        assert_eq!(distinct.len(), Table::ALL.len());
    }

    #[test]
    fn activity_dates_are_date_columns_of_their_table() {
        for t in Table::ALL {
            if let Some(col) = t.activity_date() {
                let f = t.pseudonymised_schema().field_with_name(col).cloned();
                let f = f.unwrap_or_else(|_| panic!("{t}.{col} is not a pseudonymised column"));
                assert_eq!(f.data_type(), &DataType::Date32, "{t}.{col}");
            }
        }
        assert_eq!(Table::Org.activity_date(), None, "reference data is not aged out by activity");
    }

    #[test]
    fn names_round_trip_and_are_snake_case() {
        for t in Table::ALL {
            assert_eq!(Table::from_name(t.name()), Some(t));
            assert_eq!(t.to_string(), t.name());
            assert!(
                t.name()
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b == b'_'),
                "{t}"
            );
        }
        assert_eq!(Table::from_name("APC_EPISODE"), None);
        assert_eq!(Table::from_name(""), None);
        assert_eq!(Table::PostcodeLookup.name(), "postcode_lookup");
        assert_eq!(Table::OptoutCleanList.name(), "optout_clean_list");
    }

    #[test]
    fn schemas_are_non_empty_with_unique_upper_case_columns() {
        for t in Table::ALL {
            let schema = t.schema();
            let cols = names(&schema);
            assert!(!cols.is_empty(), "{t}");
            let unique: BTreeSet<_> = cols.iter().collect();
            assert_eq!(unique.len(), cols.len(), "{t}: duplicate column");
            for c in cols {
                let first_is_letter = c.bytes().next().is_some_and(|b| b.is_ascii_uppercase());
                let rest_ok = c
                    .bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_');
                assert!(first_is_letter && rest_ok, "{t}.{c}");
            }
        }
    }

    #[test]
    fn schemas_are_cached() {
        for t in Table::ALL {
            assert!(Arc::ptr_eq(&t.schema(), &t.schema()));
            assert!(Arc::ptr_eq(
                &t.pseudonymised_schema(),
                &t.pseudonymised_schema()
            ));
        }
    }

    #[test]
    fn every_field_records_a_type_matching_its_arrow_type() {
        for t in Table::ALL {
            for f in t.schema().fields() {
                let ty = canonical_type(f);
                let kind = ty.split('(').next().unwrap_or(ty);
                let expected = match kind {
                    "code" | "str" | "enum" | "time" => DataType::Utf8,
                    "int" if f.name() == "POPULATION" => DataType::Int64,
                    "int" => DataType::Int32,
                    "date" => DataType::Date32,
                    "datetime" => DataType::Timestamp(TimeUnit::Microsecond, None),
                    "bool" => DataType::Boolean,
                    "money" => DataType::Int64,
                    "dec" => DataType::Float64,
                    other => panic!("{t}.{}: unknown type {other}", f.name()),
                };
                assert_eq!(f.data_type(), &expected, "{t}.{}", f.name());
            }
        }
    }

    #[test]
    fn money_columns_are_int64_pence() {
        let mut seen = 0;
        for t in Table::ALL {
            for f in t
                .schema()
                .fields()
                .iter()
                .filter(|f| canonical_type(f) == "money")
            {
                assert_eq!(f.data_type(), &DataType::Int64, "{t}.{}", f.name());
                seen += 1;
            }
        }
        assert!(seen > 20);
        let line = Table::InvoiceLine.schema();
        assert_eq!(
            canonical_type(line.field_with_name("LINE_AMOUNT").unwrap()),
            "money"
        );
    }

    #[test]
    fn primary_keys_exist_are_required_and_not_identifiable() {
        for t in Table::ALL {
            let schema = t.schema();
            for k in t.primary_key() {
                let f = schema
                    .field_with_name(k)
                    .unwrap_or_else(|_| panic!("{t}: key {k} missing"));
                assert!(!f.is_nullable(), "{t}.{k}");
                assert!(!is_identifiable(f), "{t}.{k}");
                assert_ne!(*k, "TOKEN_PERSON_ID", "{t}");
            }
            for f in schema.fields() {
                let in_key = t.primary_key().contains(&f.name().as_str());
                assert_eq!(f.is_nullable(), !in_key, "{t}.{}", f.name());
            }
        }
        assert_eq!(Table::ApcEpisode.primary_key(), ["EPIKEY"]);
        assert_eq!(Table::OpAttendance.primary_key(), ["ATTENDKEY"]);
        assert_eq!(Table::EcdsAttendance.primary_key(), ["EC_IDENT"]);
        assert_eq!(Table::InvoiceLine.primary_key(), ["INVOICE_ID", "LINE_NO"]);
        assert_eq!(
            Table::Population.primary_key(),
            ["FYEAR", "AREA_TYPE", "AREA_CODE", "AGE_BAND", "SEX"]
        );
    }

    #[test]
    fn pseudonymised_schema_drops_exactly_the_identifiable_columns() {
        for t in Table::ALL {
            let full = t.schema();
            let pseudo = t.pseudonymised_schema();
            assert!(pseudo.fields().iter().all(|f| !is_identifiable(f)), "{t}");
            let kept = names(&pseudo);
            let expected: Vec<&str> = full
                .fields()
                .iter()
                .filter(|f| !is_identifiable(f))
                .map(|f| f.name().as_str())
                .collect();
            assert_eq!(kept, expected, "{t}: order or content differs");
            let removed: Vec<&str> = names(&full)
                .into_iter()
                .filter(|n| !kept.contains(n))
                .collect();
            assert_eq!(removed, t.identifiable_columns(), "{t}");
            for r in removed {
                assert!(is_identifiable(full.field_with_name(r).unwrap()), "{t}.{r}");
            }
            assert!(!pseudo.fields().is_empty(), "{t}");
        }
    }

    #[test]
    fn apc_episode_identifiable_columns() {
        assert_eq!(
            set(&Table::ApcEpisode.identifiable_columns()),
            set(&["NEWNHSNO", "DOB", "POSTCODE", "MYDOB", "PROVSPNO"])
        );
        assert_eq!(
            set(&Table::InvoiceLine.identifiable_columns()),
            set(&[
                "NEWNHSNO",
                "DOB",
                "POSTCODE",
                "LOCAL_PATIENT_ID",
                "PROVSPNO"
            ])
        );
        assert_eq!(
            set(&Table::Death.identifiable_columns()),
            set(&["DEC_NHS_NUMBER", "DOB", "POSTCODE"])
        );
        assert_eq!(
            set(&Table::GpPatient.identifiable_columns()),
            set(&["NHS_NUMBER", "DOB", "POSTCODE"])
        );
        for t in [Table::GpRegistration, Table::GpEvent, Table::GpMedication] {
            assert_eq!(t.identifiable_columns(), ["NHS_NUMBER"], "{t}");
        }
        assert_eq!(Table::OptoutCleanList.identifiable_columns(), ["NEWNHSNO"]);
        let year = Table::GpPatient.schema();
        assert!(!is_identifiable(
            year.field_with_name("YEAR_OF_BIRTH").unwrap()
        ));
    }

    #[test]
    fn activity_tables_carry_the_identifiable_trio() {
        for t in [
            Table::ApcEpisode,
            Table::OpAttendance,
            Table::AeAttendance,
            Table::EcdsAttendance,
            Table::InvoiceLine,
        ] {
            let ids = t.identifiable_columns();
            for c in ["NEWNHSNO", "DOB", "POSTCODE"] {
                assert!(ids.contains(&c), "{t}: {c} not identifiable");
            }
        }
    }

    #[test]
    fn person_level_tables_have_a_token_followed_by_the_identifiable_columns() {
        for t in PERSON_LEVEL {
            let schema = t.schema();
            let cols = names(&schema);
            let at = cols
                .iter()
                .position(|c| *c == "TOKEN_PERSON_ID")
                .unwrap_or_else(|| panic!("{t}: no TOKEN_PERSON_ID"));
            assert!(schema.field(at).is_nullable(), "{t}");
            let ids = t.identifiable_columns();
            assert_eq!(&cols[at + 1..at + 1 + ids.len()], ids, "{t}");
        }
        for t in Table::ALL.into_iter().filter(|t| !PERSON_LEVEL.contains(t)) {
            let schema = t.schema();
            assert!(schema.field_with_name("TOKEN_PERSON_ID").is_err(), "{t}");
        }
    }

    #[test]
    fn reference_tables_hold_no_person_data() {
        let reference: Vec<Table> = Table::ALL
            .into_iter()
            .filter(|t| t.is_reference())
            .collect();
        assert_eq!(
            reference,
            [
                Table::Org,
                Table::LsoaLookup,
                Table::PostcodeLookup,
                Table::Population,
                Table::TariffApc,
                Table::Mff
            ]
        );
        for t in reference {
            assert!(t.identifiable_columns().is_empty(), "{t}");
        }
        assert!(Table::CcPeriod.identifiable_columns().is_empty());
        assert!(Table::MhsdsSummary.identifiable_columns().is_empty());
        assert!(Table::InvoiceHeader.identifiable_columns().is_empty());
    }

    #[test]
    fn repeating_groups_are_fixed_columns_in_order() {
        check_run(Table::ApcEpisode, &numbered("DIAG_4_", 1..=20, 2));
        check_run(Table::ApcEpisode, &numbered("OPERTN_4_", 1..=24, 2));
        check_run(Table::OpAttendance, &numbered("DIAG_4_", 1..=12, 2));
        check_run(Table::OpAttendance, &numbered("OPERTN_4_", 1..=24, 2));
        check_run(Table::AeAttendance, &numbered("DIAG_", 1..=12, 2));
        check_run(
            Table::EcdsAttendance,
            &numbered("DIAGNOSIS_CODE_", 1..=12, 1),
        );
        check_run(Table::Death, &numbered("S_COD_CODE_", 1..=15, 1));
        let apc = Table::ApcEpisode.schema();
        assert!(apc.field_with_name("DIAG_4_21").is_err());
        assert!(apc.field_with_name("OPERTN_4_25").is_err());
        let op = Table::OpAttendance.schema();
        assert!(op.field_with_name("DIAG_4_13").is_err());
    }

    #[test]
    fn slash_rows_become_separate_columns() {
        check_run(Table::ApcEpisode, &["FAE", "FCE", "FDE"].map(String::from));
        check_run(Table::ApcEpisode, &["EPISTART", "EPIEND"].map(String::from));
        check_run(
            Table::EcdsAttendance,
            &[
                "INITIAL_ASSESSMENT_TIME_SINCE_ARRIVAL",
                "SEEN_FOR_TREATMENT_TIME_SINCE_ARRIVAL",
                "DECIDED_TO_ADMIT_TIME_SINCE_ARRIVAL",
                "CONCLUSION_TIME_SINCE_ARRIVAL",
                "DEPARTURE_TIME_SINCE_ARRIVAL",
            ]
            .map(String::from),
        );
        let ecds = Table::EcdsAttendance.schema();
        assert_eq!(
            ecds.field_with_name("DEPARTURE_TIME").unwrap().data_type(),
            &DataType::Utf8
        );
        assert_eq!(
            ecds.field_with_name("DEPARTURE_DATE").unwrap().data_type(),
            &DataType::Date32
        );
    }

    #[test]
    fn selected_types() {
        let s = Table::ApcEpisode.schema();
        let ty = |name: &str| canonical_type(s.field_with_name(name).unwrap()).to_owned();
        assert_eq!(ty("ADMIMETH"), "code(2)");
        assert_eq!(ty("EPIKEY"), "code(20)");
        assert_eq!(ty("SUSRECID"), "code(14)");
        let pop = Table::Population.schema();
        assert_eq!(
            pop.field_with_name("POPULATION").unwrap().data_type(),
            &DataType::Int64
        );
        let mff = Table::Mff.schema();
        assert_eq!(
            canonical_type(mff.field_with_name("MFF_PAYMENT_INDEX").unwrap()),
            "dec(7,5)"
        );
        let header = Table::InvoiceHeader.schema();
        assert_eq!(
            header.field_with_name("RECEIVED_AT").unwrap().data_type(),
            &DataType::Timestamp(TimeUnit::Microsecond, None)
        );
        let org = Table::Org.schema();
        assert_eq!(
            org.field_with_name("LIST_SIZE").unwrap().data_type(),
            &DataType::Int32
        );
    }

    proptest! {
        #[test]
        fn from_name_accepts_only_table_names(name in "[a-z_]{0,20}") {
            match Table::from_name(&name) {
                Some(t) => prop_assert_eq!(t.name(), name.as_str()),
                None => prop_assert!(Table::ALL.iter().all(|t| t.name() != name)),
            }
        }
    }
}
