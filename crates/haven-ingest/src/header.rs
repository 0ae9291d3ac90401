//! Mapping a file's header onto a canonical table's columns.

use std::collections::HashMap;
use std::path::Path;

use haven_model::schema::is_identifiable;

use crate::error::IngestError;
use crate::feed::{Feed, Origin};

/// Names real extracts use for a canonical column (upper case).
fn alias(name: &str) -> &str {
    match name {
        // HES releases the person pseudonym as PSEUDO_HESID (artificial HES
        // and pre-2021 extracts) or TOKEN_PERSON_ID.
        "PSEUDO_HESID" | "HESID" => "TOKEN_PERSON_ID",
        "NHS_NO" | "NHSNUMBER" | "NHS_NUMBER_VALUE" => "NHS_NUMBER",
        "DATE_OF_BIRTH" => "DOB",
        other => other,
    }
}

/// How an unused input column is reported: its name when it reads as a
/// column name, else only its position. A file without its header row has a
/// data row on line 1, and a report must never repeat a value from a data
/// row (issue 14 item 1): a name with a run of three or more digits (NHS
/// numbers, dates, practice codes), a space or punctuation, or over 64
/// characters is not shown.
fn shown_name(position: usize, raw: &str) -> String {
    let name = raw.trim();
    let mut run = 0;
    let mut long_run = false;
    for b in name.bytes() {
        run = if b.is_ascii_digit() { run + 1 } else { 0 };
        long_run |= run >= 3;
    }
    let named = !name.is_empty()
        && name.len() <= 64
        && name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        && !long_run;
    if named {
        name.to_owned()
    } else {
        format!("column {} (name not shown)", position + 1)
    }
}

/// Which input column fills each canonical column.
#[derive(Debug)]
pub struct HeaderMap {
    by_canonical: HashMap<String, usize>,
    header_len: usize,
    /// Input columns no canonical column takes (reported, not loaded).
    pub unused: Vec<String>,
    /// Canonical columns the file does not supply (left blank).
    pub missing: Vec<String>,
    /// Identifiable columns present in a national extract, dropped unread.
    pub dropped_identifiable: Vec<String>,
}

impl HeaderMap {
    /// Maps `header` for `feed`, refusing a file that lacks a required column
    /// or that matches the table so poorly it is probably the wrong dataset
    /// or delimiter.
    pub fn new(path: &Path, feed: Feed, header: &[String]) -> Result<HeaderMap, IngestError> {
        let schema = feed.table.schema();
        let mut by_canonical = HashMap::new();
        let mut unused = Vec::new();
        let mut dropped = Vec::new();
        for (i, raw) in header.iter().enumerate() {
            let upper = raw.trim().to_ascii_uppercase();
            let name = alias(&upper);
            match schema.field_with_name(name) {
                Ok(field) if feed.origin == Origin::National && is_identifiable(field) => {
                    dropped.push(name.to_owned())
                }
                Ok(_) => {
                    if by_canonical.insert(name.to_owned(), i).is_some() {
                        return Err(IngestError::File {
                            path: path.to_owned(),
                            reason: format!("line 1: column {name} appears twice in the header"),
                        });
                    }
                }
                Err(_) => unused.push(shown_name(i, raw)),
            }
        }
        if by_canonical.is_empty() {
            // Line 1 may be a data row (a file sent without its header): the
            // message names no field of it (issue 14 item 1).
            return Err(IngestError::File {
                path: path.to_owned(),
                reason: format!(
                    "line 1: no column matches table {}; wrong dataset or delimiter, or a file without its header row?",
                    feed.table,
                ),
            });
        }
        let mut required: Vec<&str> = feed.table.primary_key().to_vec();
        required.extend(feed.roles().required);
        if feed.origin == Origin::National {
            required.retain(|c| !schema.field_with_name(c).is_ok_and(is_identifiable));
        }
        let absent: Vec<&str> = required.into_iter().filter(|c| !by_canonical.contains_key(*c)).collect();
        if !absent.is_empty() {
            return Err(IngestError::File {
                path: path.to_owned(),
                reason: format!("line 1: the header lacks required column(s) {}", absent.join(", ")),
            });
        }
        let missing = schema
            .fields()
            .iter()
            .filter(|f| !(feed.origin == Origin::National && is_identifiable(f)))
            .map(|f| f.name())
            .filter(|n| !by_canonical.contains_key(n.as_str()))
            .cloned()
            .collect();
        Ok(HeaderMap { by_canonical, header_len: header.len(), unused, missing, dropped_identifiable: dropped })
    }

    /// The input column for a canonical column.
    pub fn input_of(&self, canonical: &str) -> Option<usize> {
        self.by_canonical.get(canonical).copied()
    }

    /// Number of fields a row must have.
    pub fn header_len(&self) -> usize {
        self.header_len
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn maps_case_insensitively_with_aliases_and_reports_the_rest() {
        let feed = Feed::parse("national.apc_episode").unwrap();
        let h = header(&["epikey", "PSEUDO_HESID", "EPISTART", "MYDOB", "DIAG_3_01"]);
        let map = HeaderMap::new(Path::new("f.csv"), feed, &h).unwrap();
        assert_eq!(map.input_of("EPIKEY"), Some(0));
        assert_eq!(map.input_of("TOKEN_PERSON_ID"), Some(1));
        assert_eq!(map.input_of("MYDOB"), None);
        assert_eq!(map.dropped_identifiable, ["MYDOB"]);
        assert_eq!(map.unused, ["DIAG_3_01"]);
        assert!(map.missing.contains(&"ADMIDATE".to_string()));
    }

    #[test]
    fn refuses_missing_key_duplicates_and_foreign_headers() {
        let feed = Feed::parse("apc_episode").unwrap();
        let err = |h: &[&str]| HeaderMap::new(Path::new("x.psv"), feed, &header(h)).unwrap_err().to_string();
        assert!(err(&["FYEAR", "EPISTART"]).contains("lacks required column(s) EPIKEY"));
        assert!(err(&["EPIKEY", "EPISTART", "epikey"]).contains("EPIKEY appears twice"));
        assert!(err(&["A;B;C"]).contains("no column matches table apc_episode"));
    }

    /// Issue 14 item 1: a file without its header row has a data row on
    /// line 1; neither the refusal nor the unused-column list repeats it.
    #[test]
    fn issue_14_a_data_row_as_header_is_never_repeated() {
        let feed = Feed::parse("death").unwrap();
        let row = ["9434765919", "1950-02-03", "ZA14 1AA", "2024-05-01"];
        let err = HeaderMap::new(Path::new("d.psv"), feed, &header(&row)).unwrap_err().to_string();
        assert!(err.contains("without its header row"), "{err}");
        for v in row {
            assert!(!err.contains(v), "{err}");
        }
        let h = header(&["DEC_NHS_NUMBER", "9434765919", "A81001", "ZA14 1AA", "NOTE_2", "X", "REG_DATE_OF_DEATH"]);
        let map = HeaderMap::new(Path::new("d.psv"), feed, &h).unwrap();
        assert_eq!(
            map.unused,
            ["column 2 (name not shown)", "column 3 (name not shown)", "column 4 (name not shown)", "NOTE_2", "X"]
        );
    }
}
