//! Funnel plot: each area's value (y) against its denominator or expected
//! count (x), with a centre line and 95 % and 99.8 % control limits.
//!
//! The limits are computed elsewhere (haven-stats) and passed in as sampled
//! `(x, lower, upper)` series; the chart joins the samples with straight
//! lines, clips them to the plot, and uses linear interpolation between
//! samples to decide whether a point lies outside the 99.8 % limits. A
//! point whose x lies outside the sampled range is not assessed.

use crate::axis::{draw_x_axis, draw_y_axis, nice_ticks, y_label_width, LinearScale, Ticks};
use crate::data::{finite, plural, Cell, Extent, Tally};
use crate::frame::{begin, no_data, with_note, ChartText, FrameSpec, LegendItem, Swatch};
use crate::style::{Style, NHS_BLACK, NHS_DARK_GREY, NHS_RED, NHS_WARM_YELLOW};
use crate::svg::{clipped_polyline, fmt_value, text_width, Attrs, Rect, Svg};

/// One area on a funnel plot.
#[derive(Clone, Debug, PartialEq)]
pub struct FunnelPoint {
    /// Area name, shown in the tooltip (and beside the point if highlighted).
    pub label: String,
    /// Denominator or expected count (horizontal position).
    pub x: f64,
    /// The area's value; `None` when suppressed.
    pub value: Option<f64>,
    /// Draw this point prominently and label it ("our ICB").
    pub highlight: bool,
}

impl FunnelPoint {
    /// An ordinary (not highlighted) point.
    pub fn new(label: impl Into<String>, x: f64, value: Option<f64>) -> Self {
        FunnelPoint {
            label: label.into(),
            x,
            value,
            highlight: false,
        }
    }
}

/// Control limits at one value of x. Samples with a non-finite field are
/// ignored.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LimitSample {
    /// Denominator or expected count.
    pub x: f64,
    /// Lower limit at `x`.
    pub lower: f64,
    /// Upper limit at `x`.
    pub upper: f64,
}

/// A funnel plot. Render with [`FunnelPlot::render`].
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FunnelPlot {
    /// Title, subtitle, axis titles and note.
    pub text: ChartText,
    /// The areas.
    pub points: Vec<FunnelPoint>,
    /// Target or centre line (England value, peer mean); `None` for none.
    pub centre: Option<f64>,
    /// 95 % control limits, drawn dashed.
    pub limits_95: Vec<LimitSample>,
    /// 99.8 % control limits, drawn solid; points outside them are flagged.
    pub limits_998: Vec<LimitSample>,
    /// Decimals for values in tooltips and labels.
    pub decimals: usize,
}

/// A point that will be drawn.
struct Plotted<'a> {
    point: &'a FunnelPoint,
    value: f64,
    outlier: bool,
}

/// Usable samples, ordered by x.
fn clean_limits(samples: &[LimitSample]) -> Vec<LimitSample> {
    let mut out: Vec<LimitSample> = samples
        .iter()
        .filter(|s| finite(s.x).is_some() && finite(s.lower).is_some() && finite(s.upper).is_some())
        .copied()
        .collect();
    out.sort_by(|a, b| a.x.total_cmp(&b.x));
    out
}

/// Limits at `x` by linear interpolation; `None` outside the sampled range.
fn limits_at(samples: &[LimitSample], x: f64) -> Option<(f64, f64)> {
    let first = samples.first()?;
    let last = samples.last()?;
    if x < first.x || x > last.x {
        return None;
    }
    let i = samples.partition_point(|s| s.x < x);
    let hi = samples[i.min(samples.len() - 1)];
    if i == 0 || hi.x == x {
        return Some((hi.lower, hi.upper));
    }
    let lo = samples[i - 1];
    let t = (x - lo.x) / (hi.x - lo.x);
    Some((
        lo.lower + t * (hi.lower - lo.lower),
        lo.upper + t * (hi.upper - lo.upper),
    ))
}

impl FunnelPlot {
    /// Renders the plot as a standalone SVG document.
    pub fn render(&self, style: &Style) -> String {
        let style = style.sanitised();
        let l95 = clean_limits(&self.limits_95);
        let l998 = clean_limits(&self.limits_998);
        let (plotted, tally) = self.plotted(&l998);
        let notes = with_note(tally.notes(), &self.text);
        if plotted.is_empty() {
            return no_data("funnel-plot", &self.text, notes, &style);
        }
        let (xt, yt) = self.ticks(&plotted, &[&l95, &l998]);
        let mut spec = FrameSpec::new("funnel-plot", &self.text, self.summary(&plotted));
        spec.notes = notes;
        spec.legend = self.legend(&plotted, !l95.is_empty(), !l998.is_empty(), &style);
        spec.y_gutter = y_label_width(&yt, &style);
        spec.x_gutter = style.font_size + 10.0;
        spec.right_gutter = 8.0;
        let (mut svg, plot) = begin(&spec, &style);
        let xs = LinearScale::horizontal(&xt, plot);
        let ys = LinearScale::vertical(&yt, plot);
        draw_y_axis(&mut svg, plot, &ys, &yt, &style);
        draw_x_axis(&mut svg, plot, &xs, &xt, &style);
        draw_limits(&mut svg, plot, (&xs, &ys), &l95, "limit-95", Some("6 4"));
        draw_limits(&mut svg, plot, (&xs, &ys), &l998, "limit-998", None);
        self.draw_centre(&mut svg, plot, &ys);
        self.draw_points(&mut svg, plot, (&xs, &ys), &plotted, &xt, &style);
        svg.finish()
    }

    /// The drawable points (x and value usable) and the tally of the rest.
    fn plotted(&self, l998: &[LimitSample]) -> (Vec<Plotted<'_>>, Tally) {
        let mut tally = Tally::default();
        let mut out = Vec::new();
        for p in &self.points {
            let cell = match (Cell::of(p.value), finite(p.x)) {
                (Cell::Shown(_), None) => Cell::Invalid,
                (c, _) => c,
            };
            tally.add(cell);
            if let Cell::Shown(value) = cell {
                let outlier = limits_at(l998, p.x).is_some_and(|(lo, hi)| value < lo || value > hi);
                out.push(Plotted {
                    point: p,
                    value,
                    outlier,
                });
            }
        }
        (out, tally)
    }

    /// Axis ticks: x from zero to the largest denominator; y covering the
    /// points, the centre line and the limits over the points' x range.
    fn ticks(&self, plotted: &[Plotted], limits: &[&Vec<LimitSample>]) -> (Ticks, Ticks) {
        let (mut xe, mut ye) = (Extent::default(), Extent::default());
        xe.add(0.0);
        for p in plotted {
            xe.add(p.point.x);
            ye.add(p.value);
        }
        ye.add_opt(self.centre);
        let (x_lo, x_hi) = plotted
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), p| {
                (a.min(p.point.x), b.max(p.point.x))
            });
        for samples in limits {
            for (lo, hi) in [limits_at(samples, x_lo), limits_at(samples, x_hi)]
                .into_iter()
                .flatten()
            {
                ye.add(lo);
                ye.add(hi);
            }
            for s in samples.iter().filter(|s| s.x >= x_lo && s.x <= x_hi) {
                ye.add(s.lower);
                ye.add(s.upper);
            }
        }
        let (x0, x1) = xe.bounds();
        let (y0, y1) = ye.bounds();
        (nice_ticks(x0, x1, 6), nice_ticks(y0, y1, 6))
    }

    fn summary(&self, plotted: &[Plotted]) -> String {
        let outliers = plotted.iter().filter(|p| p.outlier).count();
        let what = match (self.text.y_axis.as_str(), self.text.x_axis.as_str()) {
            ("", _) | (_, "") => "Funnel plot".to_string(),
            (y, x) => format!("Funnel plot of {y} against {x}"),
        };
        let mut s = format!("{what}: {} shown", plural(plotted.len(), "area", "areas"));
        if let Some(c) = self.centre.and_then(finite) {
            s.push_str(&format!(", centre line at {}", fmt_value(c, self.decimals)));
        }
        if !self.limits_998.is_empty() {
            s.push_str(&format!(", {outliers} outside the 99.8% control limits"));
        }
        for p in plotted.iter().filter(|p| p.point.highlight) {
            s.push_str(&format!(
                ", {} highlighted at {}",
                p.point.label,
                fmt_value(p.value, self.decimals)
            ));
        }
        s
    }

    fn legend(
        &self,
        plotted: &[Plotted],
        has95: bool,
        has998: bool,
        style: &Style,
    ) -> Vec<LegendItem> {
        let mut items = vec![LegendItem::new(
            "Area",
            Swatch::marker(&style.primary, "#FFFFFF"),
        )];
        let highlighted: Vec<&str> = plotted
            .iter()
            .filter(|p| p.point.highlight)
            .map(|p| p.point.label.as_str())
            .collect();
        let highlight_label = match highlighted.as_slice() {
            [] => None,
            [one] => Some(*one),
            _ => Some("Highlighted areas"),
        };
        let optional = [
            (highlight_label, Swatch::marker(NHS_WARM_YELLOW, NHS_BLACK)),
            (
                plotted
                    .iter()
                    .any(|p| p.outlier)
                    .then_some("Outside 99.8% limits"),
                Swatch::marker(NHS_RED, "#FFFFFF"),
            ),
            (
                self.centre.and_then(finite).map(|_| "Centre line"),
                Swatch::line(NHS_BLACK, None, 2.0),
            ),
            (
                has95.then_some("95% limits"),
                Swatch::line(NHS_DARK_GREY, Some("6 4"), 1.5),
            ),
            (
                has998.then_some("99.8% limits"),
                Swatch::line(NHS_DARK_GREY, None, 1.5),
            ),
        ];
        items.extend(
            optional
                .into_iter()
                .filter_map(|(label, sw)| label.map(|l| LegendItem::new(l, sw))),
        );
        items
    }

    fn draw_centre(&self, svg: &mut Svg, plot: Rect, ys: &LinearScale) {
        let Some(c) = self.centre.and_then(finite) else {
            return;
        };
        let y = ys.map(c);
        let a = Attrs::new()
            .str("class", "centre-line")
            .num("x1", plot.x)
            .num("y1", y)
            .num("x2", plot.right())
            .num("y2", y)
            .str("stroke", NHS_BLACK)
            .num("stroke-width", 2.0);
        svg.leaf("line", a);
    }

    fn draw_points(
        &self,
        svg: &mut Svg,
        plot: Rect,
        scales: (&LinearScale, &LinearScale),
        plotted: &[Plotted],
        xt: &Ticks,
        style: &Style,
    ) {
        svg.open("g", Attrs::new().str("class", "points"));
        let ordered = plotted
            .iter()
            .filter(|p| !p.point.highlight)
            .chain(plotted.iter().filter(|p| p.point.highlight));
        for p in ordered {
            let (cx, cy) = (scales.0.map(p.point.x), scales.1.map(p.value));
            let tip = format!(
                "{}: {} ({} {})",
                p.point.label,
                fmt_value(p.value, self.decimals),
                x_name(&self.text),
                xt.label(p.point.x)
            );
            svg.with_tooltip("circle", point_attrs(p, cx, cy, style), &tip);
            if p.point.highlight {
                draw_point_label(svg, plot, (cx, cy), &p.point.label, style);
            }
        }
        svg.close();
    }
}

fn x_name(text: &ChartText) -> &str {
    if text.x_axis.is_empty() {
        "denominator"
    } else {
        &text.x_axis
    }
}

fn point_attrs(p: &Plotted, cx: f64, cy: f64, style: &Style) -> Attrs {
    let mut class = String::from("point");
    if p.outlier {
        class.push_str(" outlier");
    }
    if p.point.highlight {
        class.push_str(" highlight");
    }
    let fill = match (p.point.highlight, p.outlier) {
        (true, _) => NHS_WARM_YELLOW,
        (false, true) => NHS_RED,
        (false, false) => style.primary.as_str(),
    };
    let (stroke, width) = match (p.point.highlight, p.outlier) {
        (true, true) => (NHS_RED, 2.5),
        (true, false) => (NHS_BLACK, 1.5),
        (false, _) => ("#FFFFFF", 1.0),
    };
    Attrs::new()
        .str("class", class)
        .num("cx", cx)
        .num("cy", cy)
        .num("r", if p.point.highlight { 6.0 } else { 4.0 })
        .str("fill", fill)
        .str("stroke", stroke)
        .num("stroke-width", width)
}

/// The highlighted point's name beside it, flipped to the left near the
/// right edge.
fn draw_point_label(svg: &mut Svg, plot: Rect, (cx, cy): (f64, f64), label: &str, style: &Style) {
    let fits_right = cx + 10.0 + text_width(label, style.font_size) <= plot.right();
    let (x, anchor) = if fits_right {
        (cx + 10.0, "start")
    } else {
        (cx - 10.0, "end")
    };
    let a = Attrs::new()
        .str("class", "point-label")
        .num("x", x)
        .num("y", cy - 8.0)
        .str("text-anchor", anchor)
        .str("font-weight", "bold")
        .str("fill", style.text.as_str());
    svg.text("text", a, label);
}

/// One limit level: lower and upper curves, clipped to the plot.
fn draw_limits(
    svg: &mut Svg,
    plot: Rect,
    (xs, ys): (&LinearScale, &LinearScale),
    samples: &[LimitSample],
    class: &str,
    dash: Option<&'static str>,
) {
    for (side, pick) in [("lower", 0), ("upper", 1)] {
        let pts: Vec<(f64, f64)> = samples
            .iter()
            .map(|s| {
                (
                    xs.map(s.x),
                    ys.map(if pick == 0 { s.lower } else { s.upper }),
                )
            })
            .collect();
        let d = clipped_polyline(&pts, plot);
        if d.is_empty() {
            continue;
        }
        let a = Attrs::new()
            .str("class", format!("{class} {side}"))
            .str("d", d)
            .str("fill", "none")
            .str("stroke", NHS_DARK_GREY)
            .num("stroke-width", 1.5)
            .opt("stroke-dasharray", dash);
        svg.leaf("path", a);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(x: f64, lower: f64, upper: f64) -> LimitSample {
        LimitSample { x, lower, upper }
    }

    #[test]
    fn interpolates_between_samples() {
        let l = [s(10.0, 0.0, 10.0), s(20.0, 2.0, 8.0)];
        assert_eq!(limits_at(&l, 15.0), Some((1.0, 9.0)));
        assert_eq!(limits_at(&l, 10.0), Some((0.0, 10.0)));
        assert_eq!(limits_at(&l, 20.0), Some((2.0, 8.0)));
        assert_eq!(limits_at(&l, 25.0), None);
        assert_eq!(limits_at(&l, 5.0), None);
        assert_eq!(limits_at(&[], 5.0), None);
    }

    #[test]
    fn clean_limits_sorts_and_drops_nan() {
        let l = clean_limits(&[
            s(20.0, 1.0, 2.0),
            s(f64::NAN, 1.0, 2.0),
            s(10.0, 0.0, f64::INFINITY),
            s(5.0, 0.0, 3.0),
        ]);
        assert_eq!(l, vec![s(5.0, 0.0, 3.0), s(20.0, 1.0, 2.0)]);
    }
}
