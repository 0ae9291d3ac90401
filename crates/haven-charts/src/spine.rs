//! Spine chart in the style of the OHID (formerly PHE) Fingertips area
//! profiles: one row per indicator, with a text column (indicator, local
//! value, England value) and a horizontal "spine" showing where the local
//! area sits against the spread of all areas.
//!
//! On each row the light grey bar is the range of areas (minimum to
//! maximum), the darker grey band the 25th–75th percentiles, the black
//! vertical line England, and the circle the local value coloured by its
//! significance against England (Fingertips colours: better green
//! `#92D050`, similar amber `#FFC000`, worse red `#C00000`, not compared
//! white with a grey outline).
//!
//! **Scaling (PHE spine convention).** Every row is scaled on its own so
//! that England sits exactly at the horizontal centre of the spine area and
//! the value farthest from England among the minimum and maximum reaches
//! the edge: half-width = max(|min − England|, |max − England|). The local
//! value and percentiles are also taken into account, which only matters
//! for inconsistent input (a local value outside the range), so that every
//! mark stays on the spine. When polarity is "lower is better" the row is
//! mirrored so that better is always to the right; otherwise lower values
//! are to the left.

use crate::data::{plural, usable, Cell, Tally};
use crate::frame::{begin, no_data, with_note, ChartText, FrameSpec, LegendItem, Swatch};
use crate::style::{
    Style, FINGERTIPS_BETTER, FINGERTIPS_NOT_COMPARED, FINGERTIPS_OUTLINE, FINGERTIPS_QUARTILES,
    FINGERTIPS_RANGE, FINGERTIPS_SIMILAR, FINGERTIPS_WORSE, NHS_BLACK, NHS_PALE_GREY,
};
use crate::svg::{fmt_value, text_width, truncate, Attrs, Rect, Svg};

/// Significance of the local value compared with England.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Significance {
    /// Significantly better than England (green).
    Better,
    /// Not significantly different from England (amber).
    Similar,
    /// Significantly worse than England (red).
    Worse,
    /// Not compared (white, grey outline).
    #[default]
    NotCompared,
}

impl Significance {
    /// Fill colour of the local marker.
    pub fn colour(self) -> &'static str {
        match self {
            Significance::Better => FINGERTIPS_BETTER,
            Significance::Similar => FINGERTIPS_SIMILAR,
            Significance::Worse => FINGERTIPS_WORSE,
            Significance::NotCompared => FINGERTIPS_NOT_COMPARED,
        }
    }

    /// Plain-English name.
    pub fn label(self) -> &'static str {
        match self {
            Significance::Better => "Better than England",
            Significance::Similar => "Similar to England",
            Significance::Worse => "Worse than England",
            Significance::NotCompared => "Not compared",
        }
    }

    fn css(self) -> &'static str {
        match self {
            Significance::Better => "better",
            Significance::Similar => "similar",
            Significance::Worse => "worse",
            Significance::NotCompared => "not-compared",
        }
    }
}

/// Which direction of an indicator is better.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Polarity {
    /// Higher values are better: lowest on the left.
    HigherIsBetter,
    /// Lower values are better: the row is mirrored, lowest on the right.
    LowerIsBetter,
    /// No judgement: lowest on the left.
    #[default]
    NoJudgement,
}

/// One indicator row.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SpineRow {
    /// Indicator name (truncated to fit; the full name is the row tooltip).
    pub indicator: String,
    /// Local area value; `None` when suppressed.
    pub local: Option<f64>,
    /// England value (the centre of the spine); `None` leaves the spine
    /// empty.
    pub england: Option<f64>,
    /// Lowest area value.
    pub min: Option<f64>,
    /// 25th percentile of areas.
    pub q25: Option<f64>,
    /// 75th percentile of areas.
    pub q75: Option<f64>,
    /// Highest area value.
    pub max: Option<f64>,
    /// Local value compared with England.
    pub significance: Significance,
    /// Which direction is better.
    pub polarity: Polarity,
    /// Decimals for the printed values.
    pub decimals: usize,
}

/// A spine chart. Render with [`SpineChart::render`]; its height follows
/// from the number of rows.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SpineChart {
    /// Title, subtitle and note (axis titles are not used).
    pub text: ChartText,
    /// Column heading for the local values ("NHS Example ICB"); empty
    /// gives "Local".
    pub local_name: String,
    /// The indicators, top to bottom.
    pub rows: Vec<SpineRow>,
}

/// Horizontal positions of the columns within the plot.
struct Columns {
    name_x: f64,
    name_chars: usize,
    local_chars: usize,
    local_right: f64,
    england_right: f64,
    spine: (f64, f64),
}

impl Columns {
    /// Spine 36 % of the width, England column 10 %, local column wide
    /// enough for its heading (10–22 %), the indicator names the rest.
    fn new(plot: Rect, local_name: &str, style: &Style) -> Self {
        let w = plot.w;
        let local_w = (text_width(local_name, style.font_size) + 16.0).clamp(0.10 * w, 0.22 * w);
        let spine_x = plot.right() - 0.36 * w;
        let england_right = spine_x - 0.04 * w;
        let local_right = england_right - 0.10 * w;
        let name_w = local_right - local_w - plot.x;
        Columns {
            name_x: plot.x + 4.0,
            name_chars: ((name_w - 8.0) / (style.font_size * 0.55)).max(4.0) as usize,
            local_chars: ((local_w - 8.0) / (style.font_size * 0.55)).max(4.0) as usize,
            local_right,
            england_right,
            spine: (spine_x, plot.right() - 4.0),
        }
    }

    fn spine_centre(&self) -> f64 {
        (self.spine.0 + self.spine.1) / 2.0
    }
}

/// Per-row mapping from values to x, England at the centre.
struct RowScale {
    england: f64,
    centre_x: f64,
    px_per_unit: f64,
}

impl RowScale {
    /// `None` when the row has no usable England value.
    fn new(row: &SpineRow, cols: &Columns) -> Option<Self> {
        let england = usable(row.england)?;
        let half_width = [row.min, row.max, row.q25, row.q75, row.local]
            .into_iter()
            .filter_map(usable)
            .map(|v| (v - england).abs())
            .fold(0.0, f64::max);
        let half_width = if half_width > 0.0 { half_width } else { 1.0 };
        let half_px = (cols.spine.1 - cols.spine.0) / 2.0;
        let sign = if row.polarity == Polarity::LowerIsBetter {
            -1.0
        } else {
            1.0
        };
        Some(RowScale {
            england,
            centre_x: cols.spine_centre(),
            px_per_unit: sign * half_px / half_width,
        })
    }

    fn map(&self, v: f64) -> f64 {
        self.centre_x + (v - self.england) * self.px_per_unit
    }
}

fn row_height(style: &Style) -> f64 {
    (style.font_size * 2.2).round()
}

fn header_height(style: &Style) -> f64 {
    style.font_size + 12.0
}

impl SpineChart {
    /// Renders the chart as a standalone SVG document.
    pub fn render(&self, style: &Style) -> String {
        let style = style.sanitised();
        let mut tally = Tally::default();
        self.rows.iter().for_each(|r| tally.add(Cell::of(r.local)));
        if self.rows.is_empty() {
            return no_data(
                "spine-chart",
                &self.text,
                with_note(tally.notes(), &self.text),
                &style,
            );
        }
        let notes = with_note(self.notes(&tally), &self.text);
        let mut spec = FrameSpec::new("spine-chart", &self.text, self.summary());
        spec.notes = notes;
        spec.legend = legend();
        spec.axis_titles = false;
        spec.plot_height =
            Some(header_height(&style) + self.rows.len() as f64 * row_height(&style));
        let (mut svg, plot) = begin(&spec, &style);
        let cols = Columns::new(plot, self.local_name(), &style);
        self.draw_header(&mut svg, plot, &cols, &style);
        for (i, row) in self.rows.iter().enumerate() {
            let top = plot.y + header_height(&style) + i as f64 * row_height(&style);
            draw_row(
                &mut svg,
                row,
                i,
                Rect {
                    x: plot.x,
                    y: top,
                    w: plot.w,
                    h: row_height(&style),
                },
                &cols,
                &style,
            );
        }
        svg.finish()
    }

    fn local_name(&self) -> &str {
        if self.local_name.trim().is_empty() {
            "Local"
        } else {
            &self.local_name
        }
    }

    fn notes(&self, tally: &Tally) -> Vec<String> {
        let mut notes = tally.notes();
        if tally.suppressed > 0 {
            notes.push("* marks a suppressed value.".to_string());
        }
        notes.push("Each row is scaled so that England (black line) is central and the area farthest from England reaches the end of the spine; where better is defined it is shown to the right.".to_string());
        notes
    }

    fn summary(&self) -> String {
        let mut s = format!(
            "Spine chart of {} for {} compared with England",
            plural(self.rows.len(), "indicator", "indicators"),
            self.local_name()
        );
        for sig in [
            Significance::Better,
            Significance::Similar,
            Significance::Worse,
        ] {
            let n = self
                .rows
                .iter()
                .filter(|r| r.significance == sig && Cell::of(r.local).shown().is_some())
                .count();
            s.push_str(&format!("; {n} {}", lower_first(sig.label())));
        }
        s
    }

    fn draw_header(&self, svg: &mut Svg, plot: Rect, cols: &Columns, style: &Style) {
        svg.open(
            "g",
            Attrs::new()
                .str("class", "spine-header")
                .str("font-weight", "bold")
                .str("fill", style.text.as_str()),
        );
        let y = plot.y + style.font_size + 2.0;
        let local = truncate(self.local_name(), cols.local_chars);
        let cells: [(f64, &str, &str); 5] = [
            (cols.name_x, "start", "Indicator"),
            (cols.local_right, "end", local.as_str()),
            (cols.england_right, "end", "England"),
            (cols.spine.0, "start", "Worst/Lowest"),
            (cols.spine.1, "end", "Best/Highest"),
        ];
        for (x, anchor, label) in cells {
            svg.text(
                "text",
                Attrs::new()
                    .num("x", x)
                    .num("y", y)
                    .str("text-anchor", anchor),
                label,
            );
        }
        let line = Attrs::new()
            .num("x1", plot.x)
            .num("y1", plot.y + header_height(style) - 2.0)
            .num("x2", plot.right())
            .num("y2", plot.y + header_height(style) - 2.0)
            .str("stroke", style.axis.as_str());
        svg.leaf("line", line);
        svg.close();
    }
}

/// "Better than England" → "better than England".
fn lower_first(s: &str) -> String {
    let mut chars = s.chars();
    chars
        .next()
        .map_or_else(String::new, |c| c.to_lowercase().chain(chars).collect())
}

fn legend() -> Vec<LegendItem> {
    let mut items: Vec<LegendItem> = [
        Significance::Better,
        Significance::Similar,
        Significance::Worse,
        Significance::NotCompared,
    ]
    .into_iter()
    .map(|s| LegendItem::new(s.label(), Swatch::marker(s.colour(), FINGERTIPS_OUTLINE)))
    .collect();
    items.push(LegendItem::new(
        "England",
        Swatch::line(NHS_BLACK, None, 2.0),
    ));
    items.push(LegendItem::new(
        "Range of areas",
        Swatch::block(FINGERTIPS_RANGE, 1.0),
    ));
    items.push(LegendItem::new(
        "25th to 75th percentile",
        Swatch::block(FINGERTIPS_QUARTILES, 1.0),
    ));
    items
}

fn draw_row(
    svg: &mut Svg,
    row: &SpineRow,
    index: usize,
    area: Rect,
    cols: &Columns,
    style: &Style,
) {
    svg.open("g", Attrs::new().str("class", "row"));
    if index % 2 == 1 {
        let a = Attrs::new()
            .str("class", "stripe")
            .num("x", area.x)
            .num("y", area.y)
            .num("width", area.w)
            .num("height", area.h)
            .str("fill", NHS_PALE_GREY)
            .num("fill-opacity", 0.5);
        svg.leaf("rect", a);
    }
    draw_row_text(svg, row, area, cols, style);
    if let Some(scale) = RowScale::new(row, cols) {
        draw_spine(svg, row, &scale, area);
    }
    svg.close();
}

fn draw_row_text(svg: &mut Svg, row: &SpineRow, area: Rect, cols: &Columns, style: &Style) {
    let y = area.cy() + style.font_size * 0.35;
    let name = truncate(&row.indicator, cols.name_chars);
    let text = |class: &'static str, x: f64, anchor: &'static str| {
        Attrs::new()
            .str("class", class)
            .num("x", x)
            .num("y", y)
            .str("text-anchor", anchor)
            .str("fill", style.text.as_str())
    };
    if name != row.indicator {
        svg.text_with_tooltip(
            text("indicator", cols.name_x, "start"),
            &row.indicator,
            &name,
        );
    } else {
        svg.text("text", text("indicator", cols.name_x, "start"), &name);
    }
    let local = match Cell::of(row.local) {
        Cell::Shown(v) => fmt_value(v, row.decimals),
        Cell::Suppressed => "*".to_string(),
        Cell::Invalid => "–".to_string(),
    };
    let england = usable(row.england).map_or("–".to_string(), |v| fmt_value(v, row.decimals));
    svg.text("text", text("local-value", cols.local_right, "end"), &local);
    svg.text(
        "text",
        text("england-value", cols.england_right, "end"),
        &england,
    );
}

fn draw_spine(svg: &mut Svg, row: &SpineRow, scale: &RowScale, area: Rect) {
    draw_band(
        svg,
        "range",
        (row.min, row.max),
        FINGERTIPS_RANGE,
        scale,
        area,
    );
    draw_band(
        svg,
        "quartiles",
        (row.q25, row.q75),
        FINGERTIPS_QUARTILES,
        scale,
        area,
    );
    let x = scale.map(scale.england);
    let line = Attrs::new()
        .str("class", "england")
        .num("x1", x)
        .num("y1", area.cy() - area.h * 0.35)
        .num("x2", x)
        .num("y2", area.cy() + area.h * 0.35)
        .str("stroke", NHS_BLACK)
        .num("stroke-width", 2.0);
    svg.leaf("line", line);
    if let Some(v) = Cell::of(row.local).shown() {
        draw_local(svg, row, v, scale, area);
    }
}

/// A grey bar between two values (skipped unless both are usable).
fn draw_band(
    svg: &mut Svg,
    class: &str,
    (a, b): (Option<f64>, Option<f64>),
    fill: &str,
    scale: &RowScale,
    area: Rect,
) {
    let (Some(a), Some(b)) = (usable(a), usable(b)) else {
        return;
    };
    let (xa, xb) = (scale.map(a), scale.map(b));
    let bar_h = area.h * 0.5;
    let attrs = Attrs::new()
        .str("class", class)
        .num("x", xa.min(xb))
        .num("y", area.cy() - bar_h / 2.0)
        .num("width", (xb - xa).abs())
        .num("height", bar_h)
        .str("fill", fill);
    svg.leaf("rect", attrs);
}

/// The local value's circle, coloured by significance.
fn draw_local(svg: &mut Svg, row: &SpineRow, v: f64, scale: &RowScale, area: Rect) {
    let sig = row.significance;
    let a = Attrs::new()
        .str("class", format!("local {}", sig.css()))
        .num("cx", scale.map(v))
        .num("cy", area.cy())
        .num("r", (area.h * 0.2).max(3.0))
        .str("fill", sig.colour())
        .str("stroke", FINGERTIPS_OUTLINE);
    let tip = format!(
        "{}: {} ({})",
        row.indicator,
        fmt_value(v, row.decimals),
        sig.label()
    );
    svg.with_tooltip("circle", a, &tip);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cols() -> Columns {
        Columns {
            name_x: 0.0,
            name_chars: 10,
            local_chars: 10,
            local_right: 0.0,
            england_right: 0.0,
            spine: (100.0, 300.0),
        }
    }

    #[test]
    fn farthest_of_min_max_sets_half_width() {
        let row = SpineRow {
            england: Some(50.0),
            min: Some(30.0),
            max: Some(60.0),
            local: Some(55.0),
            ..SpineRow::default()
        };
        let s = RowScale::new(&row, &cols()).unwrap();
        assert_eq!(s.map(50.0), 200.0);
        assert_eq!(s.map(30.0), 100.0);
        assert_eq!(s.map(60.0), 250.0);
    }

    #[test]
    fn lower_is_better_mirrors() {
        let row = SpineRow {
            england: Some(50.0),
            min: Some(30.0),
            max: Some(60.0),
            polarity: Polarity::LowerIsBetter,
            ..SpineRow::default()
        };
        let s = RowScale::new(&row, &cols()).unwrap();
        assert_eq!(s.map(30.0), 300.0);
        assert_eq!(s.map(60.0), 150.0);
    }

    #[test]
    fn degenerate_rows_stay_central() {
        let row = SpineRow {
            england: Some(5.0),
            min: Some(5.0),
            max: Some(5.0),
            ..SpineRow::default()
        };
        assert_eq!(RowScale::new(&row, &cols()).unwrap().map(5.0), 200.0);
        assert!(RowScale::new(&SpineRow::default(), &cols()).is_none());
    }
}
