//! Trend chart: one or more named series over a shared sequence of periods,
//! each with an optional shaded confidence band, and a legend.
//!
//! Values are joined by lines; a missing value breaks the line, and every
//! drawn value also gets a small marker so that isolated points stay
//! visible. A band is drawn over each run of consecutive periods where both
//! limits are present. Values beyond the number of periods are ignored.

use crate::axis::{
    draw_x_categories, draw_y_axis, nice_ticks, y_label_width, LinearScale, PointScale, Ticks,
};
use crate::data::{plural, usable, Cell, Extent, Tally};
use crate::frame::{begin, no_data, with_note, ChartText, FrameSpec, LegendItem, Swatch};
use crate::spc::gapped_line;
use crate::style::Style;
use crate::svg::{fmt_value, Attrs, PathData, Svg};

/// One period of one series.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct TrendPoint {
    /// The value; `None` when suppressed.
    pub value: Option<f64>,
    /// Lower confidence limit (band drawn only where both limits exist).
    pub lower: Option<f64>,
    /// Upper confidence limit.
    pub upper: Option<f64>,
}

impl TrendPoint {
    /// A value without confidence limits.
    pub fn new(value: Option<f64>) -> Self {
        TrendPoint {
            value,
            lower: None,
            upper: None,
        }
    }

    /// A value with confidence limits.
    pub fn with_ci(value: Option<f64>, lower: Option<f64>, upper: Option<f64>) -> Self {
        TrendPoint {
            value,
            lower,
            upper,
        }
    }
}

/// A named series.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TrendSeries {
    /// Legend name.
    pub name: String,
    /// One point per period, in period order.
    pub points: Vec<TrendPoint>,
    /// Colour override; `None` takes the next colour of the style's
    /// palette (NHS Blue first).
    pub colour: Option<String>,
}

impl TrendSeries {
    /// A series without confidence limits from plain values.
    pub fn from_values(name: impl Into<String>, values: &[Option<f64>]) -> Self {
        TrendSeries {
            name: name.into(),
            points: values.iter().map(|&v| TrendPoint::new(v)).collect(),
            colour: None,
        }
    }
}

/// A trend chart. Render with [`TrendChart::render`].
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TrendChart {
    /// Title, subtitle, axis titles and note.
    pub text: ChartText,
    /// Period labels along the x axis.
    pub periods: Vec<String>,
    /// The series.
    pub series: Vec<TrendSeries>,
    /// Decimals for values in tooltips.
    pub decimals: usize,
}

impl TrendChart {
    /// Renders the chart as a standalone SVG document.
    pub fn render(&self, style: &Style) -> String {
        let style = style.sanitised();
        let n = self.periods.len();
        let mut tally = Tally::default();
        self.points()
            .for_each(|(_, _, p)| tally.add(Cell::of(p.value)));
        let notes = with_note(tally.notes(), &self.text);
        if !self
            .points()
            .any(|(_, _, p)| Cell::of(p.value).shown().is_some())
        {
            return no_data("trend-chart", &self.text, notes, &style);
        }
        let yt = self.y_ticks();
        let mut spec = FrameSpec::new("trend-chart", &self.text, self.summary());
        spec.notes = notes;
        spec.legend = self.legend(&style);
        spec.y_gutter = y_label_width(&yt, &style);
        spec.x_gutter = style.font_size + 10.0;
        let (mut svg, plot) = begin(&spec, &style);
        let xs = PointScale::new(n, plot);
        let ys = LinearScale::vertical(&yt, plot);
        draw_y_axis(&mut svg, plot, &ys, &yt, &style);
        let labels: Vec<(f64, &str)> = self
            .periods
            .iter()
            .enumerate()
            .map(|(i, p)| (xs.map(i), p.as_str()))
            .collect();
        draw_x_categories(&mut svg, plot, &labels, &style);
        for (i, s) in self.series.iter().enumerate() {
            self.draw_series(&mut svg, s, self.colour(i, &style), (&xs, &ys));
        }
        svg.finish()
    }

    /// `(series index, period index, point)` for every point within the
    /// periods.
    fn points(&self) -> impl Iterator<Item = (usize, usize, &TrendPoint)> {
        let n = self.periods.len();
        self.series.iter().enumerate().flat_map(move |(s, series)| {
            series
                .points
                .iter()
                .take(n)
                .enumerate()
                .map(move |(i, p)| (s, i, p))
        })
    }

    fn colour<'a>(&'a self, i: usize, style: &'a Style) -> &'a str {
        self.series[i]
            .colour
            .as_deref()
            .unwrap_or_else(|| style.series_colour(i))
    }

    fn y_ticks(&self) -> Ticks {
        let mut e = Extent::default();
        for (_, _, p) in self.points() {
            e.add_opt(Cell::of(p.value).shown());
            if let (Some(lo), Some(hi)) = (usable(p.lower), usable(p.upper)) {
                e.add(lo);
                e.add(hi);
            }
        }
        let (lo, hi) = e.bounds();
        nice_ticks(lo, hi, 6)
    }

    fn summary(&self) -> String {
        let what = if self.text.y_axis.is_empty() {
            "values".to_string()
        } else {
            self.text.y_axis.clone()
        };
        let mut s = format!(
            "Trend chart of {what}, {} over {}",
            plural(self.series.len(), "series", "series"),
            plural(self.periods.len(), "period", "periods")
        );
        if let (Some(first), Some(last)) = (self.periods.first(), self.periods.last()) {
            s.push_str(&format!(" from {first} to {last}"));
        }
        for series in &self.series {
            let latest = series
                .points
                .iter()
                .take(self.periods.len())
                .enumerate()
                .rev()
                .find_map(|(i, p)| Cell::of(p.value).shown().map(|v| (i, v)));
            if let Some((i, v)) = latest {
                s.push_str(&format!(
                    "; {} latest {} ({})",
                    series.name,
                    fmt_value(v, self.decimals),
                    self.periods[i]
                ));
            }
        }
        s
    }

    fn legend(&self, style: &Style) -> Vec<LegendItem> {
        let mut items: Vec<LegendItem> = self
            .series
            .iter()
            .enumerate()
            .filter(|(_, s)| !s.name.is_empty())
            .map(|(i, s)| {
                LegendItem::new(
                    s.name.clone(),
                    Swatch::line(self.colour(i, style), None, 2.5),
                )
            })
            .collect();
        if self
            .points()
            .any(|(_, _, p)| usable(p.lower).is_some() && usable(p.upper).is_some())
        {
            items.push(LegendItem::new(
                "95% confidence interval",
                Swatch::block(self.colour(0, style), 0.2),
            ));
        }
        items
    }

    fn draw_series(
        &self,
        svg: &mut Svg,
        series: &TrendSeries,
        colour: &str,
        (xs, ys): (&PointScale, &LinearScale),
    ) {
        let pts: Vec<&TrendPoint> = series.points.iter().take(self.periods.len()).collect();
        svg.open("g", Attrs::new().str("class", "series"));
        draw_band(svg, &pts, colour, (xs, ys));
        let d = gapped_line(pts.iter().map(|p| Cell::of(p.value).shown()), xs, ys);
        if !d.is_empty() {
            svg.leaf(
                "path",
                Attrs::new()
                    .str("class", "line")
                    .str("d", d)
                    .str("fill", "none")
                    .str("stroke", colour)
                    .num("stroke-width", 2.5),
            );
        }
        for (i, p) in pts.iter().enumerate() {
            let Some(v) = Cell::of(p.value).shown() else {
                continue;
            };
            let a = Attrs::new()
                .str("class", "point")
                .num("cx", xs.map(i))
                .num("cy", ys.map(v))
                .num("r", 3.0)
                .str("fill", colour);
            let tip = format!(
                "{}, {}: {}",
                series.name,
                self.periods[i],
                fmt_value(v, self.decimals)
            );
            svg.with_tooltip("circle", a, &tip);
        }
        svg.close();
    }
}

/// Shaded band over each run of periods where both limits are present; a
/// one-period run becomes a vertical bar.
fn draw_band(
    svg: &mut Svg,
    pts: &[&TrendPoint],
    colour: &str,
    (xs, ys): (&PointScale, &LinearScale),
) {
    let limits: Vec<Option<(f64, f64)>> = pts
        .iter()
        .map(|p| Some((usable(p.lower)?, usable(p.upper)?)))
        .collect();
    let mut path = PathData::default();
    let mut i = 0;
    while i < limits.len() {
        let start = i;
        while i < limits.len() && limits[i].is_some() {
            i += 1;
        }
        let run: Vec<(usize, (f64, f64))> = (start..i)
            .filter_map(|k| limits[k].map(|l| (k, l)))
            .collect();
        band_run(&mut path, &run, xs, ys);
        i += 1;
    }
    if !path.is_empty() {
        let a = Attrs::new()
            .str("class", "band")
            .str("d", path.finish())
            .str("fill", colour)
            .num("fill-opacity", 0.2)
            .str("stroke", colour)
            .num("stroke-opacity", 0.3);
        svg.leaf("path", a);
    }
}

/// One closed polygon: along the upper limits, back along the lower.
fn band_run(path: &mut PathData, run: &[(usize, (f64, f64))], xs: &PointScale, ys: &LinearScale) {
    let Some(&(first, (lo, _))) = run.first() else {
        return;
    };
    path.move_to((xs.map(first), ys.map(lo)));
    for &(k, (_, hi)) in run {
        path.line_to((xs.map(k), ys.map(hi)));
    }
    for &(k, (lo, _)) in run.iter().rev() {
        path.line_to((xs.map(k), ys.map(lo)));
    }
    path.close();
}
