//! The chart frame shared by every chart: the root `<svg>` element with its
//! accessibility metadata, background, title, subtitle, legend, axis titles
//! and footnotes, and the layout that decides where the plot area goes.
//!
//! A chart computes what it needs to know up front (its legend, footnotes
//! and the width of its tick labels), calls [`begin`] and then draws its
//! marks inside the returned plot rectangle.

use crate::style::Style;
use crate::svg::{text_width, wrap, Attrs, Rect, Svg};

/// The words on a chart. Empty strings are simply not drawn.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ChartText {
    /// Main title; also the SVG `<title>` (the accessible name).
    pub title: String,
    /// Line under the title (period, geography, measure definition).
    pub subtitle: String,
    /// Title of the horizontal axis.
    pub x_axis: String,
    /// Title of the vertical axis.
    pub y_axis: String,
    /// Extra footnote, such as the data source; printed after the
    /// suppression notes.
    pub note: String,
}

impl ChartText {
    /// Text with just a title.
    pub fn new(title: impl Into<String>) -> Self {
        ChartText {
            title: title.into(),
            ..ChartText::default()
        }
    }
}

/// How a legend entry is drawn.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Swatch {
    /// A short line, optionally dashed.
    Line {
        colour: String,
        dash: Option<&'static str>,
        width: f64,
    },
    /// A circle marker.
    Marker { fill: String, stroke: String },
    /// A filled square (bars, bands).
    Block { fill: String, opacity: f64 },
}

impl Swatch {
    /// A line swatch.
    pub fn line(colour: &str, dash: Option<&'static str>, width: f64) -> Self {
        Swatch::Line {
            colour: colour.to_string(),
            dash,
            width,
        }
    }

    /// A circle-marker swatch.
    pub fn marker(fill: &str, stroke: &str) -> Self {
        Swatch::Marker {
            fill: fill.to_string(),
            stroke: stroke.to_string(),
        }
    }

    /// A filled-square swatch.
    pub fn block(fill: &str, opacity: f64) -> Self {
        Swatch::Block {
            fill: fill.to_string(),
            opacity,
        }
    }
}

/// One legend entry.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct LegendItem {
    pub label: String,
    pub swatch: Swatch,
}

impl LegendItem {
    /// A legend entry.
    pub fn new(label: impl Into<String>, swatch: Swatch) -> Self {
        LegendItem {
            label: label.into(),
            swatch,
        }
    }
}

/// Everything the frame needs to lay out a chart.
pub(crate) struct FrameSpec<'a> {
    /// Chart type, used as a CSS class on the root (`funnel-plot`, …).
    pub kind: &'static str,
    /// The words on the chart.
    pub text: &'a ChartText,
    /// Plain-language summary for `<desc>` (no final full stop).
    pub summary: String,
    /// Footnotes (suppression counts, chart-specific notes).
    pub notes: Vec<String>,
    /// Legend entries (none: no legend).
    pub legend: Vec<LegendItem>,
    /// Width reserved left of the plot for tick labels.
    pub y_gutter: f64,
    /// Height reserved under the plot for tick/category labels.
    pub x_gutter: f64,
    /// Width reserved right of the plot (for point labels).
    pub right_gutter: f64,
    /// Fixed plot height; the document height then follows from it.
    pub plot_height: Option<f64>,
    /// Whether axis titles are drawn (not on "No data" or table-like charts).
    pub axis_titles: bool,
}

impl<'a> FrameSpec<'a> {
    /// A spec with no legend, notes or gutters.
    pub fn new(kind: &'static str, text: &'a ChartText, summary: String) -> Self {
        FrameSpec {
            kind,
            text,
            summary,
            notes: Vec::new(),
            legend: Vec::new(),
            y_gutter: 0.0,
            x_gutter: 0.0,
            right_gutter: 0.0,
            plot_height: None,
            axis_titles: true,
        }
    }
}

const MARGIN: f64 = 16.0;

/// The plot never gets shorter than this; when titles, legend and notes
/// leave less room, the document grows taller than the style's height.
const MIN_PLOT_HEIGHT: f64 = 100.0;

/// Vertical positions decided by the layout.
struct Layout {
    width: f64,
    height: f64,
    title_y: f64,
    subtitle_y: f64,
    legend_rows: LegendRows,
    legend_y: f64,
    notes: Vec<String>,
    notes_y: f64,
    plot: Rect,
}

fn title_size(s: &Style) -> f64 {
    s.font_size * 1.4
}

fn note_size(s: &Style) -> f64 {
    s.font_size * 0.9
}

fn legend_row_height(s: &Style) -> f64 {
    s.font_size + 10.0
}

/// Places legend entries left to right, wrapping to new rows; each entry is
/// `(x offset, item index)`.
fn flow_legend(items: &[LegendItem], max_width: f64, s: &Style) -> LegendRows {
    let mut rows: LegendRows = Vec::new();
    let mut x = 0.0;
    for (i, item) in items.iter().enumerate() {
        let w = 24.0 + text_width(&item.label, s.font_size) + 18.0;
        if rows.is_empty() || (x > 0.0 && x + w > max_width) {
            rows.push(Vec::new());
            x = 0.0;
        }
        if let Some(row) = rows.last_mut() {
            row.push((x, i));
        }
        x += w;
    }
    rows
}

/// Height of an axis title (zero when absent or not drawn).
fn axis_title_size(spec: &FrameSpec, title: &str, s: &Style) -> f64 {
    if spec.axis_titles && !title.is_empty() {
        s.font_size + 10.0
    } else {
        0.0
    }
}

/// Legend entries placed in rows: `(x offset, item index)`.
type LegendRows = Vec<Vec<(f64, usize)>>;

/// Title and subtitle baselines, legend rows and where the plot may start.
fn header(spec: &FrameSpec, s: &Style) -> (f64, f64, LegendRows, f64) {
    let title_y = MARGIN + title_size(s);
    let subtitle_gap = if spec.text.subtitle.is_empty() {
        0.0
    } else {
        s.font_size * 1.05 + 8.0
    };
    let subtitle_y = title_y + subtitle_gap;
    let legend_rows = flow_legend(&spec.legend, s.width - 2.0 * MARGIN, s);
    let top = subtitle_y + 10.0 + legend_rows.len() as f64 * legend_row_height(s) + 6.0;
    (title_y, subtitle_y, legend_rows, top)
}

/// Footnotes wrapped to the page width.
fn wrapped_notes(spec: &FrameSpec, s: &Style) -> Vec<String> {
    let max_chars = ((s.width - 2.0 * MARGIN) / (note_size(s) * 0.55)).max(10.0) as usize;
    spec.notes.iter().flat_map(|n| wrap(n, max_chars)).collect()
}

/// Decides every position on the page.
fn layout(spec: &FrameSpec, s: &Style) -> Layout {
    let (title_y, subtitle_y, legend_rows, top) = header(spec, s);
    let notes = wrapped_notes(spec, s);
    let x_title_h = axis_title_size(spec, &spec.text.x_axis, s);
    let below = spec.x_gutter + x_title_h + notes.len() as f64 * note_size(s) * 1.4 + MARGIN;
    let left = MARGIN + axis_title_size(spec, &spec.text.y_axis, s) + spec.y_gutter;
    let w = (s.width - MARGIN - spec.right_gutter - left).max(20.0);
    let room = s.height - top - below;
    let h = spec.plot_height.unwrap_or(room).max(MIN_PLOT_HEIGHT);
    let plot = Rect {
        x: left,
        y: top,
        w,
        h,
    };
    let height = if spec.plot_height.is_none() && room >= MIN_PLOT_HEIGHT {
        s.height
    } else {
        plot.bottom() + below
    };
    let notes_y = plot.bottom() + spec.x_gutter + x_title_h + note_size(s) + 4.0;
    Layout {
        width: s.width,
        height,
        title_y,
        subtitle_y,
        legend_rows,
        legend_y: subtitle_y + 10.0,
        notes,
        notes_y,
        plot,
    }
}

/// Opens the document, draws everything except the plot's contents and
/// returns the builder with the plot rectangle. `style` must already be
/// sanitised.
pub(crate) fn begin(spec: &FrameSpec, style: &Style) -> (Svg, Rect) {
    let l = layout(spec, style);
    let mut svg = Svg::new(root_attrs(spec, style, &l));
    svg.text("title", Attrs::new(), &spec.text.title);
    svg.text("desc", Attrs::new(), &describe(spec));
    let bg = Attrs::new()
        .str("class", "background")
        .num("width", l.width)
        .num("height", l.height)
        .str("fill", style.background.as_str());
    svg.leaf("rect", bg);
    draw_header(&mut svg, spec, style, &l);
    draw_legend(&mut svg, spec, style, &l);
    if spec.axis_titles {
        draw_axis_titles(&mut svg, spec, style, &l);
    }
    draw_notes(&mut svg, style, &l);
    (svg, l.plot)
}

fn root_attrs(spec: &FrameSpec, s: &Style, l: &Layout) -> Attrs {
    Attrs::new()
        .str("xmlns", "http://www.w3.org/2000/svg")
        .num("width", l.width)
        .num("height", l.height)
        .str(
            "viewBox",
            format!(
                "0 0 {} {}",
                crate::svg::num(l.width),
                crate::svg::num(l.height)
            ),
        )
        .str("role", "img")
        .str("class", format!("haven-chart {}", spec.kind))
        .str("font-family", s.font_family.as_str())
        .num("font-size", s.font_size)
}

/// The `<desc>` text: subtitle, chart summary and footnotes as sentences.
fn describe(spec: &FrameSpec) -> String {
    let mut parts: Vec<&str> = Vec::new();
    if !spec.text.subtitle.is_empty() {
        parts.push(&spec.text.subtitle);
    }
    parts.push(&spec.summary);
    parts.extend(spec.notes.iter().map(String::as_str));
    let mut out = String::new();
    for p in parts {
        let p = p.trim().trim_end_matches('.');
        if p.is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(p);
        out.push('.');
    }
    out
}

fn draw_header(svg: &mut Svg, spec: &FrameSpec, s: &Style, l: &Layout) {
    if !spec.text.title.is_empty() {
        let a = Attrs::new()
            .str("class", "chart-title")
            .num("x", MARGIN)
            .num("y", l.title_y)
            .num("font-size", title_size(s))
            .str("font-weight", "bold")
            .str("fill", s.text.as_str());
        svg.text("text", a, &spec.text.title);
    }
    if !spec.text.subtitle.is_empty() {
        let a = Attrs::new()
            .str("class", "chart-subtitle")
            .num("x", MARGIN)
            .num("y", l.subtitle_y)
            .num("font-size", s.font_size * 1.05)
            .str("fill", s.muted_text.as_str());
        svg.text("text", a, &spec.text.subtitle);
    }
}

fn draw_legend(svg: &mut Svg, spec: &FrameSpec, s: &Style, l: &Layout) {
    if l.legend_rows.is_empty() {
        return;
    }
    svg.open("g", Attrs::new().str("class", "legend"));
    for (r, row) in l.legend_rows.iter().enumerate() {
        let cy = l.legend_y + (r as f64 + 0.5) * legend_row_height(s);
        for &(dx, i) in row {
            let item = &spec.legend[i];
            let x = MARGIN + dx;
            draw_swatch(svg, &item.swatch, x, cy);
            let a = Attrs::new()
                .str("class", "legend-label")
                .num("x", x + 24.0)
                .num("y", cy + s.font_size * 0.35)
                .str("fill", s.text.as_str());
            svg.text("text", a, &item.label);
        }
    }
    svg.close();
}

fn draw_swatch(svg: &mut Svg, swatch: &Swatch, x: f64, cy: f64) {
    match swatch {
        Swatch::Line {
            colour,
            dash,
            width,
        } => {
            let a = Attrs::new()
                .num("x1", x)
                .num("y1", cy)
                .num("x2", x + 18.0)
                .num("y2", cy)
                .str("stroke", colour.as_str())
                .num("stroke-width", *width)
                .opt("stroke-dasharray", *dash);
            svg.leaf("line", a);
        }
        Swatch::Marker { fill, stroke } => {
            let a = Attrs::new()
                .num("cx", x + 9.0)
                .num("cy", cy)
                .num("r", 5.0)
                .str("fill", fill.as_str())
                .str("stroke", stroke.as_str());
            svg.leaf("circle", a);
        }
        Swatch::Block { fill, opacity } => {
            let a = Attrs::new()
                .num("x", x + 2.0)
                .num("y", cy - 6.0)
                .num("width", 14.0)
                .num("height", 12.0)
                .str("fill", fill.as_str())
                .num("fill-opacity", *opacity);
            svg.leaf("rect", a);
        }
    }
}

fn draw_axis_titles(svg: &mut Svg, spec: &FrameSpec, s: &Style, l: &Layout) {
    let p = l.plot;
    if !spec.text.x_axis.is_empty() {
        let a = Attrs::new()
            .str("class", "axis-title x-title")
            .num("x", p.cx())
            .num("y", p.bottom() + spec.x_gutter + s.font_size + 4.0)
            .str("text-anchor", "middle")
            .str("fill", s.text.as_str());
        svg.text("text", a, &spec.text.x_axis);
    }
    if !spec.text.y_axis.is_empty() {
        let x = MARGIN + s.font_size;
        let a = Attrs::new()
            .str("class", "axis-title y-title")
            .num("x", x)
            .num("y", p.cy())
            .str("text-anchor", "middle")
            .str(
                "transform",
                format!(
                    "rotate(-90 {} {})",
                    crate::svg::num(x),
                    crate::svg::num(p.cy())
                ),
            )
            .str("fill", s.text.as_str());
        svg.text("text", a, &spec.text.y_axis);
    }
}

fn draw_notes(svg: &mut Svg, s: &Style, l: &Layout) {
    for (i, line) in l.notes.iter().enumerate() {
        let a = Attrs::new()
            .str("class", "footnote")
            .num("x", MARGIN)
            .num("y", l.notes_y + i as f64 * note_size(s) * 1.4)
            .num("font-size", note_size(s))
            .str("fill", s.muted_text.as_str());
        svg.text("text", a, line);
    }
}

/// A complete chart that says "No data" in place of a plot; used when no
/// value can be drawn. The footnotes still say how many were suppressed.
pub(crate) fn no_data(
    kind: &'static str,
    text: &ChartText,
    notes: Vec<String>,
    style: &Style,
) -> String {
    let style = style.sanitised();
    let mut spec = FrameSpec::new(kind, text, "No data to display".to_string());
    spec.notes = notes;
    spec.axis_titles = false;
    let (mut svg, plot) = begin(&spec, &style);
    let a = Attrs::new()
        .str("class", "no-data")
        .num("x", plot.cx())
        .num("y", plot.cy())
        .str("text-anchor", "middle")
        .num("font-size", style.font_size * 1.3)
        .str("fill", style.muted_text.as_str());
    svg.text("text", a, "No data");
    svg.finish()
}

/// The chart's own note (if any) appended to the generated footnotes.
pub(crate) fn with_note(mut notes: Vec<String>, text: &ChartText) -> Vec<String> {
    if !text.note.trim().is_empty() {
        notes.push(text.note.clone());
    }
    notes
}
