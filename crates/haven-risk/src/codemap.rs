//! The one reader of the operator's code-map files: GP clinical code →
//! eFI deficit ([`crate::efi::DeficitCodeMap`]) and GP clinical code →
//! long-term condition ([`crate::gp_conditions::ConditionCodeMap`]). Both
//! are supplied by the operator because the code sets are not licensed to
//! ship with Haven (riskscores.md §4), and both share one format:
//!
//! ```text
//! key,code,term
//! # Lines starting with # and blank lines are ignored.
//! <key>,<code>,<anything>
//! ```
//!
//! * The first line that is not blank or a comment is the header; it must
//!   start with the map's two columns ([`CodeMapKind::header`]). Further
//!   columns are for people (a term, the source code set) and are ignored,
//!   commas and all.
//! * `code` is compared exactly, after trimming spaces: SNOMED CT concept
//!   ids, or Read v2 / CTV3 codes, which are case-sensitive. It must not be
//!   quoted.
//! * A code may map to several keys (one line each); a repeated line is
//!   harmless.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::error::{CodeMapKind, MapLineFault, Result, RiskError};

/// Reads a code-map file's text.
pub(crate) fn read_text(path: &Path, map: CodeMapKind) -> Result<String> {
    std::fs::read_to_string(path).map_err(|source| RiskError::Read { map, path: path.to_owned(), source })
}

/// Parses a code map (module docs): each code with the keys
/// `parse_key` makes of the first field.
pub(crate) fn parse<K: Ord>(text: &str, map: CodeMapKind, parse_key: impl Fn(&str) -> Result<K, MapLineFault>) -> Result<BTreeMap<String, BTreeSet<K>>> {
    let mut lines = text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty() && !l.trim_start().starts_with('#'));
    let header = lines.next().map(|(_, l)| l.trim()).unwrap_or_default();
    let columns: Vec<&str> = header.splitn(3, ',').map(str::trim).collect();
    let expected: Vec<&str> = map.header().split(',').collect();
    if columns.get(..2) != Some(&expected[..]) {
        return Err(RiskError::Header { map, found: header.to_owned() });
    }
    let mut by_code: BTreeMap<String, BTreeSet<K>> = BTreeMap::new();
    for (i, line) in lines {
        let line_fault = |reason| RiskError::Line { map, line: i + 1, reason };
        let mut fields = line.splitn(3, ',').map(str::trim);
        let key = parse_key(fields.next().unwrap_or_default()).map_err(line_fault)?;
        match fields.next() {
            Some(code) if !code.is_empty() => {
                by_code.entry(code.to_owned()).or_default().insert(key);
            }
            _ => return Err(line_fault(MapLineFault::EmptyCode)),
        }
    }
    Ok(by_code)
}
