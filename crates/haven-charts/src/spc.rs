//! Statistical process control (XmR) chart in the NHS England "Making Data
//! Count" (MDC) style: values over time joined by a grey line, each point
//! coloured by its variation class, with the mean, the upper and lower
//! process limits and an optional target.
//!
//! Mean and limits are given per point so that recalculated segments show
//! as steps: consecutive points with identical values form one horizontal
//! run spanning their bands; a `None` breaks the line. The classification
//! itself (runs, shifts, points beyond limits) is computed elsewhere.
//!
//! MDC colours: common cause grey `#7B7D7D`, improvement blue `#289DE0`,
//! concern orange `#FAB428`, neutral purple `#490092` (see
//! [`crate::style`]).

use crate::axis::{
    draw_x_categories, draw_y_axis, nice_ticks, y_label_width, LinearScale, PointScale, Ticks,
};
use crate::data::{plural, usable, Cell, Extent, Tally};
use crate::frame::{begin, no_data, with_note, ChartText, FrameSpec, LegendItem, Swatch};
use crate::style::{
    Style, MDC_COMMON_CAUSE, MDC_CONCERN, MDC_IMPROVEMENT, MDC_NEUTRAL, NHS_BLACK, NHS_MID_GREY,
    NHS_RED,
};
use crate::svg::{fmt_value, Attrs, PathData, Rect, Svg};

/// Variation class of one SPC point.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum SpcClass {
    /// Common-cause variation (MDC grey).
    #[default]
    CommonCause,
    /// Special cause in the desired direction (MDC blue).
    Improvement,
    /// Special cause in the undesired direction (MDC orange).
    Concern,
    /// Special cause where neither direction is better (MDC purple).
    Neutral,
}

impl SpcClass {
    /// All classes, in legend order.
    pub const ALL: [SpcClass; 4] = [
        SpcClass::CommonCause,
        SpcClass::Improvement,
        SpcClass::Concern,
        SpcClass::Neutral,
    ];

    /// The Making Data Count colour for the class.
    pub fn colour(self) -> &'static str {
        match self {
            SpcClass::CommonCause => MDC_COMMON_CAUSE,
            SpcClass::Improvement => MDC_IMPROVEMENT,
            SpcClass::Concern => MDC_CONCERN,
            SpcClass::Neutral => MDC_NEUTRAL,
        }
    }

    /// Plain-English name, used in the legend and tooltips.
    pub fn label(self) -> &'static str {
        match self {
            SpcClass::CommonCause => "Common cause variation",
            SpcClass::Improvement => "Special cause: improvement",
            SpcClass::Concern => "Special cause: concern",
            SpcClass::Neutral => "Special cause: neither",
        }
    }

    fn css(self) -> &'static str {
        match self {
            SpcClass::CommonCause => "common-cause",
            SpcClass::Improvement => "improvement",
            SpcClass::Concern => "concern",
            SpcClass::Neutral => "neutral",
        }
    }
}

/// One period of an SPC chart.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SpcPoint {
    /// Period label on the x axis ("Apr 2024").
    pub period: String,
    /// The measured value; `None` when suppressed.
    pub value: Option<f64>,
    /// Process mean for this point's segment.
    pub mean: Option<f64>,
    /// Upper process limit for this point's segment.
    pub upper: Option<f64>,
    /// Lower process limit (may be negative).
    pub lower: Option<f64>,
    /// Variation class of the point.
    pub class: SpcClass,
}

impl SpcPoint {
    /// A common-cause point with no mean or limits.
    pub fn new(period: impl Into<String>, value: Option<f64>) -> Self {
        SpcPoint {
            period: period.into(),
            value,
            ..SpcPoint::default()
        }
    }
}

/// An SPC chart. Render with [`SpcChart::render`].
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SpcChart {
    /// Title, subtitle, axis titles and note.
    pub text: ChartText,
    /// Points in time order.
    pub points: Vec<SpcPoint>,
    /// Target line, if any.
    pub target: Option<f64>,
    /// Decimals for values in tooltips.
    pub decimals: usize,
}

impl SpcChart {
    /// Renders the chart as a standalone SVG document.
    pub fn render(&self, style: &Style) -> String {
        let style = style.sanitised();
        let cells: Vec<Cell> = self.points.iter().map(|p| Cell::of(p.value)).collect();
        let mut tally = Tally::default();
        cells.iter().for_each(|&c| tally.add(c));
        let notes = with_note(tally.notes(), &self.text);
        if cells.iter().all(|c| c.shown().is_none()) {
            return no_data("spc-chart", &self.text, notes, &style);
        }
        let yt = self.y_ticks(&cells);
        let mut spec = FrameSpec::new("spc-chart", &self.text, self.summary(&cells));
        spec.notes = notes;
        spec.legend = self.legend(&cells);
        spec.y_gutter = y_label_width(&yt, &style);
        spec.x_gutter = style.font_size + 10.0;
        let (mut svg, plot) = begin(&spec, &style);
        let xs = PointScale::new(self.points.len(), plot);
        let ys = LinearScale::vertical(&yt, plot);
        draw_y_axis(&mut svg, plot, &ys, &yt, &style);
        let labels: Vec<(f64, &str)> = self
            .points
            .iter()
            .enumerate()
            .map(|(i, p)| (xs.map(i), p.period.as_str()))
            .collect();
        draw_x_categories(&mut svg, plot, &labels, &style);
        self.draw_reference_lines(&mut svg, plot, &xs, &ys);
        draw_data_line(&mut svg, &cells, &xs, &ys);
        self.draw_markers(&mut svg, &cells, &xs, &ys);
        svg.finish()
    }

    fn y_ticks(&self, cells: &[Cell]) -> Ticks {
        let mut e = Extent::default();
        for (p, c) in self.points.iter().zip(cells) {
            e.add_opt(c.shown());
            e.add_opt(usable(p.mean));
            e.add_opt(usable(p.upper));
            e.add_opt(usable(p.lower));
        }
        e.add_opt(usable(self.target));
        let (lo, hi) = e.bounds();
        nice_ticks(lo, hi, 6)
    }

    fn summary(&self, cells: &[Cell]) -> String {
        let shown: Vec<(&SpcPoint, f64)> = self
            .points
            .iter()
            .zip(cells)
            .filter_map(|(p, c)| c.shown().map(|v| (p, v)))
            .collect();
        let what = if self.text.y_axis.is_empty() {
            "values".to_string()
        } else {
            self.text.y_axis.clone()
        };
        let (first, last) = (
            &self.points[0].period,
            &self.points[self.points.len() - 1].period,
        );
        let mut s = format!(
            "SPC chart of {what} over {} from {first} to {last}",
            plural(self.points.len(), "period", "periods")
        );
        if let Some((p, v)) = shown.last() {
            s.push_str(&format!(
                "; latest value {} ({}) is {}",
                fmt_value(*v, self.decimals),
                p.period,
                p.class.label().to_lowercase()
            ));
        }
        for class in &SpcClass::ALL[1..] {
            let n = shown.iter().filter(|(p, _)| p.class == *class).count();
            if n > 0 {
                s.push_str(&format!(
                    "; {} {}",
                    plural(n, "point", "points"),
                    class.label().to_lowercase()
                ));
            }
        }
        s
    }

    fn legend(&self, cells: &[Cell]) -> Vec<LegendItem> {
        let mut items = Vec::new();
        for class in SpcClass::ALL {
            let present = self
                .points
                .iter()
                .zip(cells)
                .any(|(p, c)| p.class == class && c.shown().is_some());
            if present {
                let sw = Swatch::marker(class.colour(), class.colour());
                items.push(LegendItem::new(class.label(), sw));
            }
        }
        let line = |colour: &str, dash| Swatch::line(colour, dash, 1.5);
        if self.points.iter().any(|p| usable(p.mean).is_some()) {
            items.push(LegendItem::new("Mean", line(NHS_BLACK, None)));
        }
        if self
            .points
            .iter()
            .any(|p| usable(p.upper).is_some() || usable(p.lower).is_some())
        {
            items.push(LegendItem::new(
                "Process limits",
                line(NHS_MID_GREY, Some("5 4")),
            ));
        }
        if usable(self.target).is_some() {
            items.push(LegendItem::new("Target", line(NHS_RED, Some("8 4"))));
        }
        items
    }

    fn draw_reference_lines(&self, svg: &mut Svg, plot: Rect, xs: &PointScale, ys: &LinearScale) {
        let series = |f: fn(&SpcPoint) -> Option<f64>| -> Vec<Option<f64>> {
            self.points.iter().map(|p| usable(f(p))).collect()
        };
        let limit = Some("5 4");
        let lower = series(|p| p.lower);
        draw_step_line(
            svg,
            "process-limit lower",
            &lower,
            (NHS_MID_GREY, limit),
            (xs, ys),
        );
        let upper = series(|p| p.upper);
        draw_step_line(
            svg,
            "process-limit upper",
            &upper,
            (NHS_MID_GREY, limit),
            (xs, ys),
        );
        let mean = series(|p| p.mean);
        draw_step_line(svg, "mean", &mean, (NHS_BLACK, None), (xs, ys));
        if let Some(t) = usable(self.target) {
            let y = ys.map(t);
            let a = Attrs::new()
                .str("class", "target")
                .num("x1", plot.x)
                .num("y1", y)
                .num("x2", plot.right())
                .num("y2", y)
                .str("stroke", NHS_RED)
                .num("stroke-width", 1.5)
                .str("stroke-dasharray", "8 4");
            svg.leaf("line", a);
        }
    }

    fn draw_markers(&self, svg: &mut Svg, cells: &[Cell], xs: &PointScale, ys: &LinearScale) {
        svg.open("g", Attrs::new().str("class", "points"));
        for (i, (p, c)) in self.points.iter().zip(cells).enumerate() {
            let Some(v) = c.shown() else { continue };
            let colour = p.class.colour();
            let a = Attrs::new()
                .str("class", format!("point {}", p.class.css()))
                .num("cx", xs.map(i))
                .num("cy", ys.map(v))
                .num("r", 4.5)
                .str("fill", colour)
                .str("stroke", colour);
            let tip = format!(
                "{}: {} ({})",
                p.period,
                fmt_value(v, self.decimals),
                p.class.label()
            );
            svg.with_tooltip("circle", a, &tip);
        }
        svg.close();
    }
}

/// One per-point reference series (mean or a limit) as horizontal runs.
fn draw_step_line(
    svg: &mut Svg,
    class: &str,
    values: &[Option<f64>],
    (colour, dash): (&str, Option<&'static str>),
    (xs, ys): (&PointScale, &LinearScale),
) {
    let d = step_path(values, xs, ys);
    if d.is_empty() {
        return;
    }
    let a = Attrs::new()
        .str("class", class)
        .str("d", d)
        .str("fill", "none")
        .str("stroke", colour)
        .num("stroke-width", 1.5)
        .opt("stroke-dasharray", dash);
    svg.leaf("path", a);
}

/// Horizontal runs for a per-point reference series: each maximal run of
/// consecutive identical values spans from the left edge of its first band
/// to the right edge of its last.
fn step_path(values: &[Option<f64>], xs: &PointScale, ys: &LinearScale) -> String {
    let mut path = PathData::default();
    let mut i = 0;
    while i < values.len() {
        let Some(v) = values[i] else {
            i += 1;
            continue;
        };
        let mut j = i;
        while j + 1 < values.len() && values[j + 1] == Some(v) {
            j += 1;
        }
        let y = ys.map(v);
        path.move_to((xs.map(i) - xs.step / 2.0, y));
        path.line_to((xs.map(j) + xs.step / 2.0, y));
        i = j + 1;
    }
    path.finish()
}

/// The grey line joining consecutive drawn values; a missing value breaks
/// it.
fn draw_data_line(svg: &mut Svg, cells: &[Cell], xs: &PointScale, ys: &LinearScale) {
    let d = gapped_line(cells.iter().map(|c| c.shown()), xs, ys);
    if d.is_empty() {
        return;
    }
    let a = Attrs::new()
        .str("class", "data-line")
        .str("d", d)
        .str("fill", "none")
        .str("stroke", MDC_COMMON_CAUSE)
        .num("stroke-width", 1.5);
    svg.leaf("path", a);
}

/// Path joining consecutive present values at category positions, with a
/// new sub-path after every gap. Isolated points produce no segment.
pub(crate) fn gapped_line(
    values: impl Iterator<Item = Option<f64>>,
    xs: &PointScale,
    ys: &LinearScale,
) -> String {
    let mut path = PathData::default();
    let mut prev: Option<(f64, f64)> = None;
    let mut drawing = false;
    for (i, v) in values.enumerate() {
        let here = v.map(|v| (xs.map(i), ys.map(v)));
        drawing = match (prev, here) {
            (Some(a), Some(b)) => {
                if !drawing {
                    path.move_to(a);
                }
                path.line_to(b);
                true
            }
            _ => false,
        };
        prev = here;
    }
    path.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scales() -> (PointScale, LinearScale) {
        let plot = Rect {
            x: 0.0,
            y: 0.0,
            w: 40.0,
            h: 10.0,
        };
        (
            PointScale::new(4, plot),
            LinearScale::new(0.0, 10.0, 10.0, 0.0),
        )
    }

    #[test]
    fn step_path_breaks_on_change_and_gap() {
        let (xs, ys) = scales();
        let d = step_path(&[Some(1.0), Some(1.0), None, Some(3.0)], &xs, &ys);
        assert_eq!(d, "M0 9L20 9M30 7L40 7");
    }

    #[test]
    fn gapped_line_restarts_after_gap() {
        let (xs, ys) = scales();
        let d = gapped_line(
            [Some(1.0), Some(2.0), None, Some(3.0)].into_iter(),
            &xs,
            &ys,
        );
        assert_eq!(d, "M5 9L15 8");
        let d = gapped_line(
            [Some(1.0), Some(2.0), None, Some(3.0), Some(4.0)].into_iter(),
            &xs,
            &ys,
        );
        assert!(d.starts_with("M5 9L15 8M"));
    }
}
