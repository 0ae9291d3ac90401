//! Pipe-delimited row writing with one definition per table.
//!
//! Each table's columns are written by a single function over a [`Sink`]: run
//! with [`HeaderSink`] it yields the header, run with [`RowSink`] it yields a
//! row, so the header and the values cannot drift apart.

use haven_model::Date;

/// Receives one field at a time.
pub trait Sink {
    fn str(&mut self, name: &'static str, value: &str);
    fn int(&mut self, name: &'static str, value: Option<i64>);
    fn date(&mut self, name: &'static str, value: Option<Date>);
    fn float(&mut self, name: &'static str, value: Option<f64>);
}

/// Collects column names.
#[derive(Default)]
pub struct HeaderSink(pub Vec<&'static str>);

impl Sink for HeaderSink {
    fn str(&mut self, name: &'static str, _: &str) {
        self.0.push(name);
    }
    fn int(&mut self, name: &'static str, _: Option<i64>) {
        self.0.push(name);
    }
    fn date(&mut self, name: &'static str, _: Option<Date>) {
        self.0.push(name);
    }
    fn float(&mut self, name: &'static str, _: Option<f64>) {
        self.0.push(name);
    }
}

/// Appends one `|`-separated row to a buffer.
pub struct RowSink<'a> {
    buf: &'a mut Vec<u8>,
    first: bool,
}

impl<'a> RowSink<'a> {
    pub fn new(buf: &'a mut Vec<u8>) -> Self {
        RowSink { buf, first: true }
    }

    fn sep(&mut self) {
        if !self.first {
            self.buf.push(b'|');
        }
        self.first = false;
    }

    /// Ends the row.
    pub fn end(self) {
        self.buf.push(b'\n');
    }
}

impl Sink for RowSink<'_> {
    fn str(&mut self, _: &'static str, value: &str) {
        self.sep();
        debug_assert!(!value.contains('|') && !value.contains('\n'));
        self.buf.extend_from_slice(value.as_bytes());
    }
    fn int(&mut self, _: &'static str, value: Option<i64>) {
        self.sep();
        if let Some(v) = value {
            write_int(self.buf, v);
        }
    }
    fn date(&mut self, _: &'static str, value: Option<Date>) {
        self.sep();
        if let Some(d) = value {
            d.write_iso(self.buf);
        }
    }
    fn float(&mut self, _: &'static str, value: Option<f64>) {
        self.sep();
        if let Some(v) = value {
            use std::io::Write;
            let _ = write!(self.buf, "{v}");
        }
    }
}

/// Writes an integer without going through `fmt`.
pub fn write_int(buf: &mut Vec<u8>, v: i64) {
    if v < 0 {
        buf.push(b'-');
    }
    let mut n = v.unsigned_abs();
    let mut tmp = [0u8; 20];
    let mut i = tmp.len();
    loop {
        i -= 1;
        tmp[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    buf.extend_from_slice(&tmp[i..]);
}

/// Writes a header line for a row function.
pub fn header(write: impl FnOnce(&mut HeaderSink)) -> Vec<u8> {
    let mut h = HeaderSink::default();
    write(&mut h);
    let mut out = h.0.join("|").into_bytes();
    out.push(b'\n');
    out
}

/// Zero-padded decimal identifier of a fixed width.
pub fn padded(v: u64, width: usize) -> String {
    format!("{v:0width$}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(s: &mut impl Sink) {
        s.str("A", "x");
        s.int("B", Some(-42));
        s.date("C", Some(Date::parse("2024-04-01").unwrap()));
        s.int("D", None);
    }

    #[test]
    fn header_and_row_come_from_the_same_function() {
        assert_eq!(header(row), b"A|B|C|D\n");
        let mut buf = Vec::new();
        let mut s = RowSink::new(&mut buf);
        row(&mut s);
        s.end();
        assert_eq!(buf, b"x|-42|2024-04-01|\n");
    }
}
