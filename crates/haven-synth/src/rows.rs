//! The column layout of every generated file, one function per table.
//!
//! Identifiable flows (what a DSCRO receives) carry NHS number, date of birth
//! and postcode; the national extract carries a person token instead. Both
//! layouts come from the same function, switched by [`Variant`], and every
//! column name is a canonical name from `haven_model::schema` (a test checks).

use haven_model::Date;

use crate::sink::Sink;

/// Which flow a row belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Variant {
    /// Identifiable SUS+-style flow to one ICB's DSCRO.
    #[default]
    Identifiable,
    /// National pseudonymised HES-style extract.
    National,
}

/// Who a row is about, already resolved to text.
#[derive(Clone, Copy, Default)]
pub struct Who<'a> {
    pub nhs: &'a str,
    pub dob: Option<Date>,
    pub postcode: &'a str,
    pub token: &'a str,
}

fn person<S: Sink>(s: &mut S, v: Variant, w: &Who<'_>, nhs_col: &'static str) {
    match v {
        Variant::Identifiable => {
            s.str(nhs_col, w.nhs);
            s.date("DOB", w.dob);
            s.str("POSTCODE", w.postcode);
        }
        Variant::National => s.str("TOKEN_PERSON_ID", w.token),
    }
}

/// Geography and registration of a row.
#[derive(Clone, Copy, Default)]
pub struct Place<'a> {
    pub gpprac: &'a str,
    pub procode3: &'a str,
    pub sitetret: &'a str,
    pub ccg_responsibility: &'a str,
    pub ccg_origin: &'a str,
    pub icb_responsibility: &'a str,
    pub lsoa: &'a str,
    pub imd_decile: Option<i64>,
}

#[derive(Clone, Default)]
pub struct ApcRow<'a> {
    pub epikey: u64,
    pub fyear: &'a str,
    pub who: Who<'a>,
    pub provspno: &'a str,
    pub susrecid: u64,
    pub susspellid: u64,
    pub epiorder: u8,
    pub epitype: &'a str,
    pub spelbgin: &'a str,
    pub last: bool,
    pub admidate: Option<Date>,
    pub epistart: Option<Date>,
    pub epiend: Option<Date>,
    pub disdate: Option<Date>,
    pub elecdate: Option<Date>,
    pub disreadydate: Option<Date>,
    pub admimeth: &'a str,
    pub admisorc: &'a str,
    pub disdest: &'a str,
    pub dismeth: &'a str,
    pub classpat: &'a str,
    pub intmanig: &'a str,
    pub mainspef: &'a str,
    pub tretspef: &'a str,
    pub diags: Vec<&'a str>,
    /// External cause (HES CAUSE_4: the first external cause among the
    /// diagnoses), or empty.
    pub cause: &'a str,
    pub procs: Vec<&'a str>,
    pub startage: i64,
    pub sex: &'a str,
    pub ethnos: &'a str,
    pub place: Place<'a>,
    pub purcode: &'a str,
    pub sushrg: &'a str,
    pub suscorehrg: &'a str,
    pub rtt: Option<(Date, Date)>,
}

pub fn apc<S: Sink>(s: &mut S, v: Variant, r: &ApcRow<'_>) {
    s.str("EPIKEY", &format!("{:012}", r.epikey));
    s.str("FYEAR", r.fyear);
    person(s, v, &r.who, "NEWNHSNO");
    match v {
        Variant::Identifiable => s.str("PROVSPNO", r.provspno),
        Variant::National => s.str("PROVSPNOPS", r.provspno),
    }
    s.str("SUSRECID", &format!("{:014}", r.susrecid));
    s.str("SUSSPELLID", &format!("{:019}", r.susspellid));
    s.str("EPIORDER", &format!("{:02}", r.epiorder));
    s.str("EPISTAT", "3");
    s.str("EPITYPE", r.epitype);
    s.str("SPELBGIN", r.spelbgin);
    s.str("SPELEND", if r.last { "Y" } else { "N" });
    let fce = r.classpat != "3" && r.classpat != "4";
    s.int("FAE", Some(i64::from(fce && r.epiorder == 1)));
    s.int("FCE", Some(i64::from(fce)));
    s.int("FDE", Some(i64::from(fce && r.last)));
    s.date("ADMIDATE", r.admidate);
    s.date("EPISTART", r.epistart);
    s.date("EPIEND", r.epiend);
    s.date("DISDATE", r.disdate);
    s.date("ELECDATE", r.elecdate);
    s.date("DISREADYDATE", r.disreadydate);
    s.int("ELECDUR", r.elecdate.zip(r.admidate).map(|(e, a)| i64::from(a.days_since(e))));
    s.int("EPIDUR", r.epistart.zip(r.epiend).map(|(a, b)| i64::from(b.days_since(a))));
    s.int("SPELDUR", r.admidate.zip(r.disdate).map(|(a, b)| i64::from(b.days_since(a))));
    s.str("ADMIMETH", r.admimeth);
    s.str("ADMISORC", r.admisorc);
    s.str("DISDEST", r.disdest);
    s.str("DISMETH", r.dismeth);
    s.str("CLASSPAT", r.classpat);
    s.str("INTMANIG", r.intmanig);
    s.str("ADMINCAT", "01");
    s.str("MAINSPEF", r.mainspef);
    s.str("TRETSPEF", r.tretspef);
    for (i, name) in DIAG_4.iter().enumerate() {
        s.str(name, r.diags.get(i).copied().unwrap_or(""));
    }
    for (i, name) in OPERTN_4.iter().enumerate() {
        s.str(name, r.procs.get(i).copied().unwrap_or(if i == 0 { "-" } else { "" }));
    }
    s.str("CAUSE_4", r.cause);
    s.int("STARTAGE", Some(r.startage));
    s.str("SEX", r.sex);
    s.str("ETHNOS", r.ethnos);
    place(s, &r.place, true);
    s.str("PURCODE", r.purcode);
    s.str("SUSHRG", r.sushrg);
    s.str("SUSCOREHRG", r.suscorehrg);
    s.str("SUSHRGVERS", "4.0");
    s.date("RTTPERSTART", r.rtt.map(|x| x.0));
    s.date("RTTPEREND", r.rtt.map(|x| x.1));
    s.str("RTTPERSTAT", if r.rtt.is_some() { "30" } else { "" });
    s.int("WAITDAYS", r.rtt.map(|(a, b)| i64::from(b.days_since(a))));
}

fn place<S: Sink>(s: &mut S, p: &Place<'_>, with_origin: bool) {
    s.str("GPPRAC", p.gpprac);
    s.str("PROCODE3", p.procode3);
    s.str("SITETRET", p.sitetret);
    s.str("CCG_RESPONSIBILITY", p.ccg_responsibility);
    if with_origin {
        s.str("CCG_RESPONSIBILITY_ORIGIN", p.ccg_origin);
    }
    s.str("ICB_RESPONSIBILITY", p.icb_responsibility);
    s.str("LSOA11", p.lsoa);
    s.str("LSOA21", p.lsoa);
    s.int("IMD_DECILE", p.imd_decile);
}

pub const DIAG_4: [&str; 20] = [
    "DIAG_4_01", "DIAG_4_02", "DIAG_4_03", "DIAG_4_04", "DIAG_4_05", "DIAG_4_06", "DIAG_4_07", "DIAG_4_08", "DIAG_4_09",
    "DIAG_4_10", "DIAG_4_11", "DIAG_4_12", "DIAG_4_13", "DIAG_4_14", "DIAG_4_15", "DIAG_4_16", "DIAG_4_17", "DIAG_4_18",
    "DIAG_4_19", "DIAG_4_20",
];
pub const OPERTN_4: [&str; 24] = [
    "OPERTN_4_01", "OPERTN_4_02", "OPERTN_4_03", "OPERTN_4_04", "OPERTN_4_05", "OPERTN_4_06", "OPERTN_4_07", "OPERTN_4_08",
    "OPERTN_4_09", "OPERTN_4_10", "OPERTN_4_11", "OPERTN_4_12", "OPERTN_4_13", "OPERTN_4_14", "OPERTN_4_15", "OPERTN_4_16",
    "OPERTN_4_17", "OPERTN_4_18", "OPERTN_4_19", "OPERTN_4_20", "OPERTN_4_21", "OPERTN_4_22", "OPERTN_4_23", "OPERTN_4_24",
];

#[derive(Clone, Default)]
pub struct OpRow<'a> {
    pub attendkey: u64,
    pub fyear: &'a str,
    pub who: Who<'a>,
    pub apptdate: Option<Date>,
    pub apptage: i64,
    pub sex: &'a str,
    pub ethnos: &'a str,
    pub attended: &'a str,
    pub firstatt: &'a str,
    pub outcome: &'a str,
    pub refsourc: &'a str,
    pub priority: &'a str,
    pub reqdate: Option<Date>,
    pub rtt_start: Option<Date>,
    pub rttperstat: &'a str,
    pub medium: &'a str,
    pub tretspef: &'a str,
    pub place: Place<'a>,
    pub sushrg: &'a str,
    pub tariff: Option<i64>,
    pub tariff_mff: Option<i64>,
}

pub fn op<S: Sink>(s: &mut S, v: Variant, r: &OpRow<'_>) {
    s.str("ATTENDKEY", &format!("{:014}", r.attendkey));
    s.str("FYEAR", r.fyear);
    person(s, v, &r.who, "NEWNHSNO");
    s.date("APPTDATE", r.apptdate);
    s.int("APPTAGE", Some(r.apptage));
    s.str("SEX", r.sex);
    s.str("ETHNOS", r.ethnos);
    s.str("ATTENDED", r.attended);
    s.int("ATTENDANCE", Some(i64::from(matches!(r.attended, "5" | "6"))));
    s.str("FIRSTATT", r.firstatt);
    s.str("OUTCOME", r.outcome);
    s.str("REFSOURC", r.refsourc);
    s.str("PRIORITY", r.priority);
    s.date("REQDATE", r.reqdate);
    s.date("RTTPERSTART", r.rtt_start);
    s.str("RTTPERSTAT", r.rttperstat);
    s.str("CONSULTATION_MEDIUM_USED", r.medium);
    s.str("STAFFTYP", "03");
    s.str("TRETSPEF", r.tretspef);
    s.str("MAINSPEF", r.tretspef);
    place(s, &r.place, false);
    s.str("SUSHRG", r.sushrg);
    s.str("ADMINCAT", "01");
    s.int("TARIFF_TOTAL", r.tariff);
    s.int("GRAND_TOTAL_MFF", r.tariff_mff);
}

#[derive(Clone, Default)]
pub struct EcdsRow<'a> {
    pub ec_ident: u64,
    pub fyear: &'a str,
    pub who: Who<'a>,
    pub dept_type: &'a str,
    pub category: &'a str,
    pub arrival: Option<(Date, u32)>,
    pub arrival_mode: &'a str,
    pub source: &'a str,
    pub complaint: &'a str,
    pub acuity: &'a str,
    /// Minutes since arrival of assessment, seen, decision to admit, conclusion, departure.
    pub clocks: [Option<u32>; 5],
    pub diagnosis: &'a str,
    pub destination: &'a str,
    pub status: &'a str,
    pub follow_up: &'a str,
    pub age: i64,
    pub sex: &'a str,
    pub ethnos: &'a str,
    pub place: Place<'a>,
    pub hrg: &'a str,
    pub tariff: Option<i64>,
    pub final_price: Option<i64>,
    pub mff: Option<f64>,
    pub epikey: Option<u64>,
    pub admitted: bool,
    pub ambulance: bool,
}

fn clock_text(arrival: Option<(Date, u32)>, after: Option<u32>) -> (Option<Date>, String) {
    match (arrival, after) {
        (Some((d, m)), Some(a)) => {
            let t = m + a;
            (Some(d.add_days((t / 1440) as i32)), format!("{:02}:{:02}", t % 1440 / 60, t % 60))
        }
        _ => (None, String::new()),
    }
}

pub fn ecds<S: Sink>(s: &mut S, v: Variant, r: &EcdsRow<'_>) {
    s.str("EC_IDENT", &format!("{:015}", r.ec_ident));
    s.str("FYEAR", r.fyear);
    person(s, v, &r.who, "NEWNHSNO");
    s.str("PROVIDER_CODE", r.place.procode3);
    s.str("SITE", r.place.sitetret);
    s.str("DEPARTMENT_TYPE", r.dept_type);
    s.str("ATTENDANCE_CATEGORY", r.category);
    let (ad, at) = clock_text(r.arrival, Some(0));
    s.date("ARRIVAL_DATE", ad);
    s.str("ARRIVAL_TIME", &at);
    s.str("ARRIVAL_MODE", r.arrival_mode);
    s.str("ATTENDANCE_SOURCE", r.source);
    s.str("CHIEF_COMPLAINT", r.complaint);
    s.str("ACUITY", r.acuity);
    const POINTS: [(&str, &str); 5] = [
        ("ASSESSMENT_DATE", "ASSESSMENT_TIME"),
        ("SEEN_DATE", "SEEN_TIME"),
        ("DECIDED_TO_ADMIT_DATE", "DECIDED_TO_ADMIT_TIME"),
        ("CONCLUSION_DATE", "CONCLUSION_TIME"),
        ("DEPARTURE_DATE", "DEPARTURE_TIME"),
    ];
    for (i, (dn, tn)) in POINTS.iter().enumerate() {
        let (d, t) = clock_text(r.arrival, r.clocks[i]);
        s.date(dn, d);
        s.str(tn, &t);
    }
    const SINCE: [&str; 5] = [
        "INITIAL_ASSESSMENT_TIME_SINCE_ARRIVAL",
        "SEEN_FOR_TREATMENT_TIME_SINCE_ARRIVAL",
        "DECIDED_TO_ADMIT_TIME_SINCE_ARRIVAL",
        "CONCLUSION_TIME_SINCE_ARRIVAL",
        "DEPARTURE_TIME_SINCE_ARRIVAL",
    ];
    for (i, name) in SINCE.iter().enumerate() {
        s.int(name, r.clocks[i].map(i64::from));
    }
    s.str("DIAGNOSIS_CODE_1", r.diagnosis);
    s.str("DISCHARGE_DESTINATION", r.destination);
    s.str("DISCHARGE_STATUS", r.status);
    s.str("DISCHARGE_FOLLOW_UP", r.follow_up);
    s.int("AGE_AT_ARRIVAL", Some(r.age));
    s.str("STATED_GENDER", r.sex);
    s.str("ETHNIC_CATEGORY", r.ethnos);
    s.str("PRACTICE_CODE_PATIENT_REGISTRATION", r.place.gpprac);
    s.str("COMMISSIONER", r.place.ccg_responsibility);
    s.str("ICB_RESPONSIBILITY", r.place.icb_responsibility);
    s.str("LSOA_2011", r.place.lsoa);
    s.str("LSOA21", r.place.lsoa);
    s.int("IMD_DECILE", r.place.imd_decile);
    s.str("HEALTH_RESOURCE_GROUP", r.hrg);
    s.int("TARIFF", r.tariff);
    s.int("FINAL_PRICE", r.final_price);
    s.float("MARKET_FORCES_FACTOR", r.mff);
    s.str("EPIKEY", &r.epikey.map(|k| format!("{k:012}")).unwrap_or_default());
    s.str("FOUR_HOUR_MET", if r.clocks[4].is_some_and(|m| m <= 240) { "true" } else { "false" });
    s.str("ADMITTED", if r.admitted { "true" } else { "false" });
    s.str("AMBULANCE_ARRIVAL", if r.ambulance { "true" } else { "false" });
}

#[derive(Clone, Default)]
pub struct CcRow {
    pub susrecid: u64,
    pub epikey: u64,
    pub start: Option<Date>,
    pub end: Option<Date>,
    pub died: bool,
    pub level2: i64,
    pub level3: i64,
    pub organs: i64,
}

pub fn cc<S: Sink>(s: &mut S, r: &CcRow) {
    s.str("SUSRECID", &format!("{:014}", r.susrecid));
    s.str("EPIKEY", &format!("{:012}", r.epikey));
    s.str("CCPERNUM", "1");
    s.str("CCPERTYPE", "01");
    s.date("CCSTARTDATE", r.start);
    s.str("CCSTARTTIME", "14:00:00");
    s.date("CCDISDATE", r.end);
    s.str("CCDISTIME", "11:00:00");
    s.date("CCDISRDYDATE", r.end);
    s.str("CCUNITFUN", "01");
    s.str("UNITBEDCONFIG", "05");
    s.str("CCADMITYPE", "01");
    s.str("CCADMISORC", "01");
    s.str("CCSORCLOC", "02");
    s.str("CCDISSTAT", if r.died { "08" } else { "01" });
    s.str("CCDISDEST", if r.died { "06" } else { "01" });
    s.str("CCDISLOC", if r.died { "06" } else { "04" });
    s.int("CCLEV2DAYS", Some(r.level2));
    s.int("CCLEV3DAYS", Some(r.level3));
    s.int("ARESSUPDAYS", Some(r.level3));
    s.int("BRESSUPDAYS", Some(r.level2));
    s.int("ACARDSUPDAYS", Some(if r.organs >= 2 { r.level3 } else { 0 }));
    s.int("BCARDSUPDAYS", Some(if r.organs >= 2 { r.level2 } else { 0 }));
    s.int("RENSUPDAYS", Some(if r.organs >= 3 { r.level3 } else { 0 }));
    s.int("NEUROSUPDAYS", Some(0));
    s.int("GISUPDAYS", Some(0));
    s.int("DERMSUPDAYS", Some(0));
    s.int("LIVERSUPDAYS", Some(0));
    s.int("ORGSUPMAX", Some(r.organs));
    // Adult critical care HRGs XC07Z (0 organs) … XC01Z (6+ organs).
    s.str("CC_HRG", &format!("XC0{}Z", 7 - r.organs.clamp(0, 6)));
}

#[derive(Clone, Default)]
pub struct DeathRow<'a> {
    pub who: Who<'a>,
    pub dod: Option<Date>,
    pub registered: Option<Date>,
    pub sex: &'a str,
    pub age: i64,
    pub cause: &'a str,
    pub place: &'a str,
    pub pod_code: &'a str,
    pub practice: &'a str,
    pub lsoa: &'a str,
    pub sub_icb: &'a str,
}

pub fn death<S: Sink>(s: &mut S, v: Variant, r: &DeathRow<'_>) {
    person(s, v, &r.who, "DEC_NHS_NUMBER");
    s.date("REG_DATE_OF_DEATH", r.dod);
    s.date("REG_DATE", r.registered);
    s.str("DEC_SEX", r.sex);
    s.int("DEC_AGEC", Some(r.age));
    s.str("S_UNDERLYING_COD_ICD10", r.cause);
    s.str("S_COD_CODE_1", r.cause);
    s.str("POD_CODE", r.pod_code);
    // Establishment types per datasets.md §4.2: NHS 01 hospital; non-NHS 03
    // care home; 83 hospice.
    let (nhs, kind) = match r.place {
        "HOSPITAL" => ("1", "01"),
        "CARE_HOME" => ("2", "03"),
        "HOSPICE" => ("2", "83"),
        _ => ("", ""),
    };
    s.str("POD_NHS_ESTABLISHMENT", nhs);
    s.str("POD_ESTABLISHMENT_TYPE", kind);
    s.str("PLACE_OF_DEATH_GROUP", r.place);
    s.str("GP_PRACTICE_CODE", r.practice);
    s.str("LSOA_OF_RESIDENCE_CODE", r.lsoa);
    s.str("CCG_OF_RESIDENCE_CODE", r.sub_icb);
}
