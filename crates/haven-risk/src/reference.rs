//! Test support: the reference code lists of `shared/reference/codelists/`,
//! read as they are, so every transcribed table can be checked against its
//! CSV. The folder is found from the crate directory
//! (`../../../shared/reference`), as the other crates' tests find
//! `shared/external-data`.

use std::collections::BTreeMap;
use std::path::Path;

/// One CSV row: column name → value.
pub type Row = BTreeMap<String, String>;

/// The rows of `shared/reference/codelists/<name>`.
pub fn codelist(name: &str) -> Vec<Row> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/reference/codelists").join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let header = fields(lines.next().expect("a header"));
    lines
        .map(|line| {
            let values = fields(line);
            assert_eq!(values.len(), header.len(), "{name}: {line}");
            header.iter().cloned().zip(values).collect()
        })
        .collect()
}

/// The fields of one CSV line (RFC 4180 quoting; no field spans lines in
/// these files).
fn fields(line: &str) -> Vec<String> {
    let (mut out, mut field, mut quoted) = (Vec::new(), String::new(), false);
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => out.push(std::mem::take(&mut field)),
            _ => field.push(c),
        }
    }
    out.push(field);
    out
}
