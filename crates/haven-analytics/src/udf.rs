//! DataFusion scalar functions over HES admissions, so the clinical code
//! logic of `haven_model::rules` (one Rust implementation, unit-tested
//! there) runs inside indicator SQL rather than being re-written as SQL:
//!
//! - `acsc_chronic(diag_all, proc_all, age, sex, admimeth, admisorc,
//!   epistat, epitype, classpat)` → the NHS OF 2.3.i condition, or NULL;
//! - `ucs_condition(diag_all, age, admimeth, cause)` → the CCG IAF 127b
//!   condition, or NULL (`cause`: the first episode's CAUSE_4, else
//!   CAUSE_3);
//! - `ebi_intervention(diag_all, proc_all, age, sex, admimeth)` → `"<list>
//!   <intervention>"` (e.g. `1 Tonsillectomy for recurrent tonsillitis`),
//!   or NULL.
//!
//! - `charlson_index(diag_all)` → the Charlson comorbidity index (1987
//!   weights, Quan 2005 codes) of the secondary diagnoses, for the
//!   mortality models.
//!
//! - `spell_key(susspellid, procode3, provspno, person, admidate)` → the
//!   provider spell's key (`haven_model::rules::spell_key`), or NULL.
//!
//! `diag_all` and `proc_all` are the first episode's 20 diagnosis and 24
//! procedure fields joined by `|`, empty where a field is null, so
//! positions (primary first) are kept.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, Date32Array, Int64Array, Int64Builder, StringArray, StringBuilder};
use arrow::compute::cast;
use arrow::datatypes::DataType;
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility};
use haven_model::rules::avoidable::{chronic_acsc, urgent_care_sensitive, CodedAdmission, UcsOptions};
use haven_model::rules::comorbidity::{charlson_index, CharlsonWeights};
use haven_model::rules::ebi::ebi_intervention;
use haven_model::rules::{spell_key_into, SpellKeyFields};
use haven_model::Date;

/// Which classifier a function applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Kind {
    ChronicAcsc,
    /// The age limits of the falls and pyrexial-child conditions, which the
    /// source gives inconsistently (methods.md §3.3).
    Ucs { falls_min_age: u16, pyrexial_child_max_age: u16 },
    Ebi,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::ChronicAcsc => "acsc_chronic",
            Kind::Ucs { .. } => "ucs_condition",
            Kind::Ebi => "ebi_intervention",
        }
    }

    /// The argument names, in order (each maps to a `CodedAdmission` field).
    fn args(self) -> &'static [&'static str] {
        match self {
            Kind::ChronicAcsc => &["diag_all", "proc_all", "age", "sex", "admimeth", "admisorc", "epistat", "epitype", "classpat"],
            Kind::Ucs { .. } => &["diag_all", "age", "admimeth", "cause"],
            Kind::Ebi => &["diag_all", "proc_all", "age", "sex", "admimeth"],
        }
    }

    fn classify(self, a: &CodedAdmission) -> Option<String> {
        match self {
            Kind::ChronicAcsc => chronic_acsc(a).map(|c| c.name().to_owned()),
            Kind::Ucs { falls_min_age, pyrexial_child_max_age } => {
                urgent_care_sensitive(a, &UcsOptions { falls_min_age, pyrexial_child_max_age }).map(|c| c.name().to_owned())
            }
            Kind::Ebi => ebi_intervention(a).map(|e| e.label()),
        }
    }
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct Classifier {
    kind: Kind,
    signature: Signature,
}

impl Classifier {
    fn new(kind: Kind) -> Classifier {
        Classifier { kind, signature: Signature::any(kind.args().len(), Volatility::Immutable) }
    }
}

impl ScalarUDFImpl for Classifier {
    fn name(&self) -> &str {
        self.kind.name()
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let names = self.kind.args();
        let text = |name: &str| -> Result<Option<StringArray>> {
            let Some(i) = names.iter().position(|n| *n == name) else { return Ok(None) };
            let a = cast(&arrays[i], &DataType::Utf8)?;
            Ok(a.as_any().downcast_ref::<StringArray>().cloned())
        };
        let age: Int64Array = match names.iter().position(|n| *n == "age") {
            Some(i) => cast(&arrays[i], &DataType::Int64)?
                .as_any()
                .downcast_ref::<Int64Array>()
                .cloned()
                .ok_or_else(|| DataFusionError::Internal("age is not an integer".into()))?,
            None => Int64Array::from(vec![None::<i64>; args.number_rows]),
        };
        let [diag, proc, sex, admimeth, admisorc, epistat, epitype, classpat, cause] =
            ["diag_all", "proc_all", "sex", "admimeth", "admisorc", "epistat", "epitype", "classpat", "cause"].map(text);
        let (diag, proc, sex, admimeth, admisorc, epistat, epitype, classpat, cause) =
            (diag?, proc?, sex?, admimeth?, admisorc?, epistat?, epitype?, classpat?, cause?);
        fn get(a: &Option<StringArray>, i: usize) -> Option<&str> {
            a.as_ref().and_then(|a| (!a.is_null(i)).then(|| a.value(i)))
        }
        let mut out = StringBuilder::new();
        for i in 0..args.number_rows {
            let a = CodedAdmission {
                diagnoses: get(&diag, i).map(|s| s.split('|').collect()).unwrap_or_default(),
                procedures: get(&proc, i).map(|s| s.split('|').collect()).unwrap_or_default(),
                startage: (!age.is_null(i)).then(|| age.value(i)).and_then(|v| u16::try_from(v).ok()),
                sex: get(&sex, i),
                admimeth: get(&admimeth, i),
                admisorc: get(&admisorc, i),
                // The base passes the spell's first episode.
                epiorder: Some("01"),
                epistat: get(&epistat, i),
                epitype: get(&epitype, i),
                classpat: get(&classpat, i),
                cause: get(&cause, i),
            };
            out.append_option(self.kind.classify(&a));
        }
        Ok(ColumnarValue::Array(Arc::new(out.finish()) as ArrayRef))
    }
}

/// `charlson_index(diag_all)`: the index of positions 2 onwards (the
/// primary diagnosis is why the patient is there, not a comorbidity).
#[derive(Debug, PartialEq, Eq, Hash)]
struct Charlson {
    signature: Signature,
}

impl ScalarUDFImpl for Charlson {
    fn name(&self) -> &str {
        "charlson_index"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Int64)
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let diag = cast(&arrays[0], &DataType::Utf8)?;
        let diag = diag.as_any().downcast_ref::<StringArray>().ok_or_else(|| DataFusionError::Internal("diag_all is not text".into()))?;
        let mut out = Int64Builder::with_capacity(args.number_rows);
        for i in 0..args.number_rows {
            let codes: Vec<&str> = if diag.is_null(i) { Vec::new() } else { diag.value(i).split('|').skip(1).collect() };
            out.append_value(i64::from(charlson_index(&codes, CharlsonWeights::Charlson1987)));
        }
        Ok(ColumnarValue::Array(Arc::new(out.finish()) as ArrayRef))
    }
}

/// `spell_key(susspellid, procode3, provspno, person, admidate)`: the
/// provider spell an episode belongs to, by `haven_model::rules::spell_key`
/// (SUSSPELLID, else provider + spell number, else person + provider +
/// admission date), or NULL when no rule applies. The derived spells key
/// their episodes with the same function.
#[derive(Debug, PartialEq, Eq, Hash)]
struct SpellKey {
    signature: Signature,
}

impl ScalarUDFImpl for SpellKey {
    fn name(&self) -> &str {
        "spell_key"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let text = |i: usize| -> Result<StringArray> {
            cast(&arrays[i], &DataType::Utf8)?
                .as_any()
                .downcast_ref::<StringArray>()
                .cloned()
                .ok_or_else(|| DataFusionError::Internal("spell key field is not text".into()))
        };
        let (sus, provider, number, person) = (text(0)?, text(1)?, text(2)?, text(3)?);
        let admidate = cast(&arrays[4], &DataType::Date32)?;
        let admidate = admidate.as_any().downcast_ref::<Date32Array>().ok_or_else(|| DataFusionError::Internal("ADMIDATE is not a date".into()))?;
        fn get(a: &StringArray, i: usize) -> Option<&str> {
            (!a.is_null(i)).then(|| a.value(i))
        }
        let mut out = StringBuilder::with_capacity(args.number_rows, args.number_rows * 24);
        let mut key = String::new();
        for i in 0..args.number_rows {
            let fields = SpellKeyFields {
                susspellid: get(&sus, i),
                procode3: get(&provider, i),
                provspno: get(&number, i),
                person: get(&person, i),
                admidate: (!admidate.is_null(i)).then(|| Date::from_days(admidate.value(i))),
            };
            out.append_option(spell_key_into(&fields, &mut key).map(|_| key.as_str()));
        }
        Ok(ColumnarValue::Array(Arc::new(out.finish()) as ArrayRef))
    }
}

/// Registers the classifiers on the session (re-registering replaces them).
pub fn register(session: &haven_store::ZoneSession, ucs: UcsOptions) {
    let ucs = Kind::Ucs { falls_min_age: ucs.falls_min_age, pyrexial_child_max_age: ucs.pyrexial_child_max_age };
    for kind in [Kind::ChronicAcsc, ucs, Kind::Ebi] {
        session.register_udf(ScalarUDF::from(Classifier::new(kind)));
    }
    session.register_udf(ScalarUDF::from(Charlson { signature: Signature::any(1, Volatility::Immutable) }));
    session.register_udf(ScalarUDF::from(SpellKey { signature: Signature::any(5, Volatility::Immutable) }));
}
