//! Minimal SVG writer: XML escaping, fixed-precision number formatting,
//! rectangle geometry, line clipping and an element builder that always
//! produces well-formed output.
//!
//! Everything here is crate-private; charts build their documents with
//! [`Svg`] so that no string ever reaches the output unescaped.

use std::fmt::Write as _;

/// Escapes text for use in XML character data or attribute values.
///
/// The five XML special characters become entities; characters that XML 1.0
/// forbids (C0 controls other than tab/newline/carriage return, and the
/// non-characters U+FFFE/U+FFFF) are dropped so the document stays
/// well-formed whatever the input.
pub(crate) fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}

/// Formats a coordinate or length: at most two decimals, trailing zeros
/// trimmed, never `-0`, and `0` for a non-finite input.
pub(crate) fn num(v: f64) -> String {
    if !v.is_finite() {
        return "0".to_string();
    }
    let s = format!("{v:.2}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".to_string()
    } else {
        s.to_string()
    }
}

/// Formats a data value with exactly `decimals` decimals and comma thousands
/// separators (`12,345.6`), never `-0.0`. Non-finite input gives `"–"`.
pub(crate) fn fmt_value(v: f64, decimals: usize) -> String {
    if !v.is_finite() {
        return "–".to_string();
    }
    let decimals = decimals.min(12);
    let raw = format!("{:.*}", decimals, v.abs());
    let (int_part, frac_part) = match raw.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (raw.as_str(), None),
    };
    let is_zero = raw.bytes().all(|b| b == b'0' || b == b'.');
    let mut out = String::new();
    if v < 0.0 && !is_zero {
        out.push('-');
    }
    out.push_str(&group_thousands(int_part));
    if let Some(f) = frac_part {
        out.push('.');
        out.push_str(f);
    }
    out
}

/// Inserts a comma between every group of three digits.
fn group_thousands(digits: &str) -> String {
    let n = digits.len();
    let mut out = String::with_capacity(n + n / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (n - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Rough rendered width of `text` in pixels for a sans-serif font; used only
/// for layout decisions (label thinning, truncation, legend flow).
pub(crate) fn text_width(text: &str, font_size: f64) -> f64 {
    text.chars().count() as f64 * font_size * 0.55
}

/// Shortens `text` to at most `max_chars` characters, ending in `…` when cut.
pub(crate) fn truncate(text: &str, max_chars: usize) -> String {
    if text.chars().count() <= max_chars {
        return text.to_string();
    }
    let keep = max_chars.saturating_sub(1);
    let mut out: String = text.chars().take(keep).collect();
    out.push('…');
    out
}

/// Greedy word wrap to lines of at most `max_chars` characters (a single
/// word longer than that gets a line of its own).
pub(crate) fn wrap(text: &str, max_chars: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        let needed = line.chars().count() + word.chars().count() + usize::from(!line.is_empty());
        if !line.is_empty() && needed > max_chars {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// An axis-aligned rectangle in SVG user units (y grows downwards).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Rect {
    /// Left edge.
    pub x: f64,
    /// Top edge.
    pub y: f64,
    /// Width.
    pub w: f64,
    /// Height.
    pub h: f64,
}

impl Rect {
    /// Right edge.
    pub fn right(&self) -> f64 {
        self.x + self.w
    }

    /// Bottom edge.
    pub fn bottom(&self) -> f64 {
        self.y + self.h
    }

    /// Horizontal centre.
    pub fn cx(&self) -> f64 {
        self.x + self.w / 2.0
    }

    /// Vertical centre.
    pub fn cy(&self) -> f64 {
        self.y + self.h / 2.0
    }
}

/// A point in SVG user units.
pub(crate) type Pt = (f64, f64);

/// Clips the segment `a`–`b` to `r` (Liang–Barsky); `None` when it lies
/// entirely outside.
fn clip_segment(a: Pt, b: Pt, r: Rect) -> Option<(Pt, Pt)> {
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let (mut t0, mut t1) = (0.0_f64, 1.0_f64);
    let edges = [
        (-dx, a.0 - r.x),
        (dx, r.right() - a.0),
        (-dy, a.1 - r.y),
        (dy, r.bottom() - a.1),
    ];
    for (p, q) in edges {
        if p == 0.0 {
            if q < 0.0 {
                return None;
            }
            continue;
        }
        let t = q / p;
        if p < 0.0 {
            t0 = t0.max(t);
        } else {
            t1 = t1.min(t);
        }
        if t0 > t1 {
            return None;
        }
    }
    Some((
        (a.0 + t0 * dx, a.1 + t0 * dy),
        (a.0 + t1 * dx, a.1 + t1 * dy),
    ))
}

/// Path data for a polyline clipped to `r`; pieces that leave and re-enter
/// the rectangle become separate sub-paths. Empty when nothing is visible.
pub(crate) fn clipped_polyline(points: &[Pt], r: Rect) -> String {
    let mut path = PathData::default();
    let mut last: Option<Pt> = None;
    for pair in points.windows(2) {
        let Some((s, e)) = clip_segment(pair[0], pair[1], r) else {
            last = None;
            continue;
        };
        let joined = last.is_some_and(|l| (l.0 - s.0).abs() < 1e-9 && (l.1 - s.1).abs() < 1e-9);
        if !joined {
            path.move_to(s);
        }
        path.line_to(e);
        last = Some(e);
    }
    path.finish()
}

/// Builder for the `d` attribute of a `<path>`.
#[derive(Default)]
pub(crate) struct PathData {
    d: String,
}

impl PathData {
    /// Starts a new sub-path at `p`.
    pub fn move_to(&mut self, p: Pt) {
        let _ = write!(self.d, "M{} {}", num(p.0), num(p.1));
    }

    /// Draws a straight line to `p`.
    pub fn line_to(&mut self, p: Pt) {
        let _ = write!(self.d, "L{} {}", num(p.0), num(p.1));
    }

    /// Closes the current sub-path.
    pub fn close(&mut self) {
        self.d.push('Z');
    }

    /// True when nothing has been drawn.
    pub fn is_empty(&self) -> bool {
        self.d.is_empty()
    }

    /// The finished path data.
    pub fn finish(self) -> String {
        self.d
    }
}

/// Ordered attribute list for one element; values are escaped on output.
#[derive(Default)]
pub(crate) struct Attrs {
    list: Vec<(&'static str, String)>,
}

impl Attrs {
    /// An empty attribute list.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a numeric attribute formatted with [`num`].
    pub fn num(mut self, key: &'static str, v: f64) -> Self {
        self.list.push((key, num(v)));
        self
    }

    /// Adds a text attribute (escaped on output).
    pub fn str(mut self, key: &'static str, v: impl Into<String>) -> Self {
        self.list.push((key, v.into()));
        self
    }

    /// Adds a text attribute only when `v` is `Some`.
    pub fn opt(self, key: &'static str, v: Option<&str>) -> Self {
        match v {
            Some(v) => self.str(key, v),
            None => self,
        }
    }
}

/// An SVG document under construction. Elements are written one per line,
/// indented by nesting depth, so output is readable and diff-friendly.
pub(crate) struct Svg {
    out: String,
    open: Vec<&'static str>,
}

impl Svg {
    /// Starts a document with the given root `<svg>` attributes.
    pub fn new(root: Attrs) -> Self {
        let mut svg = Svg {
            out: String::new(),
            open: Vec::new(),
        };
        svg.open("svg", root);
        svg
    }

    fn start_tag(&mut self, tag: &str, attrs: &Attrs) {
        for _ in 0..self.open.len() {
            self.out.push_str("  ");
        }
        self.out.push('<');
        self.out.push_str(tag);
        for (k, v) in &attrs.list {
            let _ = write!(self.out, " {k}=\"{}\"", escape(v));
        }
    }

    /// Opens a container element; close it with [`Svg::close`].
    pub fn open(&mut self, tag: &'static str, attrs: Attrs) {
        self.start_tag(tag, &attrs);
        self.out.push_str(">\n");
        self.open.push(tag);
    }

    /// Closes the innermost open element.
    pub fn close(&mut self) {
        if let Some(tag) = self.open.pop() {
            for _ in 0..self.open.len() {
                self.out.push_str("  ");
            }
            let _ = writeln!(self.out, "</{tag}>");
        }
    }

    /// Writes an empty element `<tag …/>`.
    pub fn leaf(&mut self, tag: &str, attrs: Attrs) {
        self.start_tag(tag, &attrs);
        self.out.push_str("/>\n");
    }

    /// Writes an element whose only content is escaped text.
    pub fn text(&mut self, tag: &str, attrs: Attrs, content: &str) {
        self.start_tag(tag, &attrs);
        let _ = writeln!(self.out, ">{}</{tag}>", escape(content));
    }

    /// Writes a text element with a `<title>` tooltip and then its text, all
    /// on one line so that no whitespace enters the rendered text.
    pub fn text_with_tooltip(&mut self, attrs: Attrs, tooltip: &str, content: &str) {
        self.start_tag("text", &attrs);
        let _ = writeln!(
            self.out,
            "><title>{}</title>{}</text>",
            escape(tooltip),
            escape(content)
        );
    }

    /// Writes a shape element carrying a `<title>` tooltip child.
    pub fn with_tooltip(&mut self, tag: &'static str, attrs: Attrs, tooltip: &str) {
        self.open(tag, attrs);
        self.text("title", Attrs::new(), tooltip);
        self.close();
    }

    /// Closes every open element and returns the document.
    pub fn finish(mut self) -> String {
        while !self.open.is_empty() {
            self.close();
        }
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_all_five_and_drops_controls() {
        assert_eq!(
            escape("A&E <4h \"test\" 'x'\u{1}"),
            "A&amp;E &lt;4h &quot;test&quot; &apos;x&apos;"
        );
    }

    #[test]
    fn num_trims_and_never_negative_zero() {
        assert_eq!(num(1.0), "1");
        assert_eq!(num(1.234), "1.23");
        assert_eq!(num(1.5), "1.5");
        assert_eq!(num(-0.001), "0");
        assert_eq!(num(f64::NAN), "0");
        assert_eq!(num(-12.345), "-12.35");
    }

    #[test]
    fn fmt_value_groups_thousands() {
        assert_eq!(fmt_value(1234567.891, 1), "1,234,567.9");
        assert_eq!(fmt_value(999.0, 0), "999");
        assert_eq!(fmt_value(-1000.0, 0), "-1,000");
        assert_eq!(fmt_value(-0.04, 1), "0.0");
        assert_eq!(fmt_value(0.0125, 3), "0.013");
    }

    #[test]
    fn clipping_keeps_inside_and_cuts_outside() {
        let r = Rect {
            x: 0.0,
            y: 0.0,
            w: 10.0,
            h: 10.0,
        };
        assert_eq!(clipped_polyline(&[(1.0, 1.0), (5.0, 5.0)], r), "M1 1L5 5");
        assert_eq!(clipped_polyline(&[(-5.0, 5.0), (5.0, 5.0)], r), "M0 5L5 5");
        assert_eq!(clipped_polyline(&[(-5.0, -5.0), (-1.0, -1.0)], r), "");
        assert_eq!(
            clipped_polyline(&[(1.0, 5.0), (5.0, 20.0), (9.0, 5.0)], r),
            "M1 5L2.33 10M7.67 10L9 5"
        );
    }

    #[test]
    fn wrap_and_truncate() {
        assert_eq!(wrap("aa bb cc", 5), vec!["aa bb", "cc"]);
        assert_eq!(truncate("abcdef", 4), "abc…");
        assert_eq!(truncate("abc", 4), "abc");
    }
}
