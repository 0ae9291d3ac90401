//! What a reviewer reads of each file of a held output, so that reviewing
//! needs no file access: CSV tables as they are, JSON flattened to the same
//! rows, Parquet tables printed row by row, and charts by their SVG
//! `<title>` and `<desc>` with the table in the output whose rows they plot.
//! Rendering works on bytes already read and hashed, never on a path.

use serde::Serialize;

/// One file as a reviewer sees it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Rendering {
    /// `table` or `chart`.
    pub kind: &'static str,
    /// A chart's title (its SVG `<title>`).
    pub title: Option<String>,
    /// A chart's description (its SVG `<desc>`).
    pub description: Option<String>,
    /// For a chart, the file of the same output holding the rows it plots.
    pub data: Option<String>,
    /// The rows as text (for a chart, empty).
    pub text: String,
}

/// Renders `bytes` of the file `name`; `names` are the output's manifest.
pub(crate) fn render(name: &str, bytes: &[u8], names: &[String]) -> Rendering {
    let table = |text: String| Rendering { kind: "table", title: None, description: None, data: None, text };
    match name.rsplit_once('.').map(|(_, e)| e) {
        Some("csv") => table(String::from_utf8_lossy(bytes).into_owned()),
        Some("json") => table(match serde_json::from_slice::<serde_json::Value>(bytes) {
            Ok(v) => {
                let mut out = String::new();
                json_rows("", &v, &mut out);
                out
            }
            Err(_) => "(not valid JSON)\n".into(),
        }),
        Some("parquet") => table(parquet_rows(bytes).unwrap_or_else(|| "(not a readable Parquet file)\n".into())),
        Some("svg") => {
            let text = String::from_utf8_lossy(bytes);
            Rendering { kind: "chart", title: element(&text, "title"), description: element(&text, "desc"), data: plotted(name, names), text: String::new() }
        }
        _ => table("(not a table or chart)\n".into()),
    }
}

/// The table a chart `<stem>.<kind>.svg` plots: the longest `<prefix>.csv`
/// of the manifest whose prefix begins the chart's stem.
fn plotted(chart: &str, names: &[String]) -> Option<String> {
    let mut stem = chart.strip_suffix(".svg")?;
    while let Some((prefix, _)) = stem.rsplit_once('.') {
        let csv = format!("{prefix}.csv");
        if names.contains(&csv) {
            return Some(csv);
        }
        stem = prefix;
    }
    None
}

/// The text of the first `<tag>…</tag>`, unescaped.
fn element(svg: &str, tag: &str) -> Option<String> {
    let start = svg.find(&format!("<{tag}"))?;
    let body = start + svg[start..].find('>')? + 1;
    let end = body + svg[body..].find(&format!("</{tag}>"))?;
    Some(svg[body..end].replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&#39;", "'").replace("&amp;", "&"))
}

/// A JSON document as lines: `path: value` for scalars, and an array of
/// objects as a CSV block under its path (columns are the union of keys).
fn json_rows(path: &str, v: &serde_json::Value, out: &mut String) {
    use serde_json::Value;
    let join = |k: &str| if path.is_empty() { k.to_owned() } else { format!("{path}.{k}") };
    match v {
        Value::Object(m) => m.iter().for_each(|(k, x)| json_rows(&join(k), x, out)),
        Value::Array(items) if !items.is_empty() && items.iter().all(Value::is_object) => {
            let mut cols: Vec<&str> = Vec::new();
            for item in items.iter().filter_map(Value::as_object) {
                for k in item.keys() {
                    if !cols.contains(&k.as_str()) {
                        cols.push(k);
                    }
                }
            }
            out.push_str(&format!("{path} ({} rows):\n{}\n", items.len(), cols.join(",")));
            for item in items {
                let cells: Vec<String> = cols.iter().map(|c| item.get(*c).map(scalar).unwrap_or_default()).collect();
                out.push_str(&cells.join(","));
                out.push('\n');
            }
        }
        other => out.push_str(&format!("{path}: {}\n", scalar(other))),
    }
}

fn scalar(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => crate::csv_field(s),
        serde_json::Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// Every row of a Parquet file, as an aligned text table.
fn parquet_rows(bytes: &[u8]) -> Option<String> {
    let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(bytes::Bytes::copy_from_slice(bytes)).ok()?.build().ok()?;
    let batches: Vec<_> = reader.collect::<Result<_, _>>().ok()?;
    let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
    Some(format!("{rows} rows:\n{}\n", arrow::util::pretty::pretty_format_batches(&batches).ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_tables_flatten_to_their_rows_and_charts_name_their_table() {
        let json = br#"{"indicator":"x","rows":[{"group":"A","value":1.5},{"group":"B","value":null}],"total":{"group":"All","value":2}}"#;
        let r = render("x.total.json", json, &[]);
        assert_eq!(r.text, "indicator: x\nrows (2 rows):\ngroup,value\nA,1.5\nB,\ntotal.group: All\ntotal.value: 2\n");
        let names = vec!["ae.x.month.csv".to_owned()];
        let svg = b"<svg><title>A &amp; E by month</title><desc>XmR</desc></svg>";
        let c = render("ae.x.month.spc.svg", svg, &names);
        assert_eq!((c.title.as_deref(), c.description.as_deref(), c.data.as_deref()), (Some("A & E by month"), Some("XmR"), Some("ae.x.month.csv")));
        assert_eq!(render("junk.parquet", b"PAR1", &[]).text, "(not a readable Parquet file)\n");
    }
}
