//! Inequality chart: one bar per deprivation quantile (for example IMD
//! quintile 1 = most deprived … 5 = least deprived) with confidence
//! interval error bars, and the fitted slope index of inequality (SII) line.
//!
//! The horizontal axis is the cumulative population rank from 0 to 1. Each
//! bar is centred on its quantile's mid-point rank; its width is 80 % of
//! the smaller distance to the half-way points between neighbouring ranks
//! (or to 0 and 1 at the ends), so equal-sized quintiles at ranks 0.1, 0.3,
//! …, 0.9 get equal bars. Ranks outside 0–1 are clamped to it. The SII line
//! is drawn as `intercept + slope × rank` from rank 0 to rank 1, so the SII
//! (the slope) is the modelled difference between the two ends.

use crate::axis::{draw_x_categories, draw_y_axis, nice_ticks, y_label_width, LinearScale, Ticks};
use crate::data::{finite, plural, usable, Cell, Extent, Tally};
use crate::frame::{begin, no_data, with_note, ChartText, FrameSpec, LegendItem, Swatch};
use crate::style::{Style, NHS_BLACK, NHS_ORANGE};
use crate::svg::{fmt_value, Attrs, Rect, Svg};

/// One quantile's bar.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct QuantileBar {
    /// Label under the bar ("1 (most deprived)").
    pub label: String,
    /// Mid-point cumulative population rank of the quantile, 0–1.
    pub rank: f64,
    /// The quantile's value; `None` when suppressed.
    pub value: Option<f64>,
    /// Lower confidence limit.
    pub lower: Option<f64>,
    /// Upper confidence limit.
    pub upper: Option<f64>,
}

impl QuantileBar {
    /// A bar without a confidence interval.
    pub fn new(label: impl Into<String>, rank: f64, value: Option<f64>) -> Self {
        QuantileBar {
            label: label.into(),
            rank,
            value,
            lower: None,
            upper: None,
        }
    }
}

/// The fitted slope index of inequality line: value = intercept + slope × rank.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SiiLine {
    /// Fitted value at rank 0 (the most deprived end).
    pub intercept: f64,
    /// Change in fitted value from rank 0 to rank 1: the SII.
    pub slope: f64,
}

impl SiiLine {
    /// Fitted value at `rank`.
    pub fn at(&self, rank: f64) -> f64 {
        self.intercept + self.slope * rank
    }

    fn usable(self) -> Option<SiiLine> {
        (finite(self.at(0.0)).is_some()
            && finite(self.at(1.0)).is_some()
            && finite(self.slope).is_some())
        .then_some(self)
    }
}

/// An inequality chart. Render with [`InequalityChart::render`].
#[derive(Clone, Debug, Default, PartialEq)]
pub struct InequalityChart {
    /// Title, subtitle, axis titles and note.
    pub text: ChartText,
    /// The quantiles (any order; drawn by rank).
    pub bars: Vec<QuantileBar>,
    /// The fitted SII line, if any.
    pub sii: Option<SiiLine>,
    /// Decimals for values in tooltips and notes.
    pub decimals: usize,
}

/// A bar's place on the rank axis.
struct Placed<'a> {
    bar: &'a QuantileBar,
    rank: f64,
    half_width: f64,
    cell: Cell,
}

/// Bars with a finite rank, ordered by rank, with their half-widths.
fn place(bars: &[QuantileBar]) -> Vec<Placed<'_>> {
    let mut ranked: Vec<(&QuantileBar, f64)> = bars
        .iter()
        .filter_map(|b| finite(b.rank).map(|r| (b, r.clamp(0.0, 1.0))))
        .collect();
    ranked.sort_by(|a, b| a.1.total_cmp(&b.1));
    let ranks: Vec<f64> = ranked.iter().map(|(_, r)| *r).collect();
    ranked
        .iter()
        .enumerate()
        .map(|(i, (bar, r))| {
            let left = if i == 0 {
                0.0
            } else {
                (ranks[i - 1] + r) / 2.0
            };
            let right = if i + 1 == ranks.len() {
                1.0
            } else {
                (r + ranks[i + 1]) / 2.0
            };
            let half_width = ((r - left).min(right - r) * 0.8).max(0.004);
            Placed {
                bar,
                rank: *r,
                half_width,
                cell: Cell::of(bar.value),
            }
        })
        .collect()
}

impl InequalityChart {
    /// Renders the chart as a standalone SVG document.
    pub fn render(&self, style: &Style) -> String {
        let style = style.sanitised();
        let placed = place(&self.bars);
        let mut tally = Tally::default();
        placed.iter().for_each(|p| tally.add(p.cell));
        for bar in self.bars.iter().filter(|b| finite(b.rank).is_none()) {
            tally.add(match Cell::of(bar.value) {
                Cell::Shown(_) => Cell::Invalid,
                other => other,
            });
        }
        let notes = with_note(self.notes(&tally), &self.text);
        if placed.iter().all(|p| p.cell.shown().is_none()) {
            return no_data("inequality-chart", &self.text, notes, &style);
        }
        let yt = self.y_ticks(&placed);
        let mut spec = FrameSpec::new("inequality-chart", &self.text, self.summary(&placed));
        spec.notes = notes;
        spec.legend = self.legend(&placed, &style);
        spec.y_gutter = y_label_width(&yt, &style);
        spec.x_gutter = style.font_size + 10.0;
        let (mut svg, plot) = begin(&spec, &style);
        let xs = LinearScale::new(0.0, 1.0, plot.x, plot.right());
        let ys = LinearScale::vertical(&yt, plot);
        draw_y_axis(&mut svg, plot, &ys, &yt, &style);
        let labels: Vec<(f64, &str)> = placed
            .iter()
            .map(|p| (xs.map(p.rank), p.bar.label.as_str()))
            .collect();
        draw_x_categories(&mut svg, plot, &labels, &style);
        draw_baseline(&mut svg, plot, &ys, &yt, &style);
        self.draw_bars(&mut svg, &placed, (&xs, &ys), &style);
        self.draw_sii(&mut svg, (&xs, &ys));
        svg.finish()
    }

    fn y_ticks(&self, placed: &[Placed]) -> Ticks {
        let mut e = Extent::default();
        e.add(0.0);
        for p in placed {
            e.add_opt(p.cell.shown());
            e.add_opt(usable(p.bar.lower));
            e.add_opt(usable(p.bar.upper));
        }
        if let Some(sii) = self.sii.and_then(SiiLine::usable) {
            e.add(sii.at(0.0));
            e.add(sii.at(1.0));
        }
        let (lo, hi) = e.bounds();
        nice_ticks(lo, hi, 6)
    }

    fn notes(&self, tally: &Tally) -> Vec<String> {
        let mut notes = tally.notes();
        if let Some(sii) = self.sii.and_then(SiiLine::usable) {
            notes.push(format!(
                "Slope index of inequality (SII): {}, the modelled difference between the most deprived (rank 0) and least deprived (rank 1) ends of the population.",
                fmt_value(sii.slope, self.decimals)
            ));
        }
        notes
    }

    fn summary(&self, placed: &[Placed]) -> String {
        let what = if self.text.y_axis.is_empty() {
            "values".to_string()
        } else {
            self.text.y_axis.clone()
        };
        let mut s = format!(
            "Inequality chart of {what} across {}",
            plural(placed.len(), "quantile", "quantiles")
        );
        for p in placed {
            if let Some(v) = p.cell.shown() {
                s.push_str(&format!(
                    "; {}: {}",
                    p.bar.label,
                    fmt_value(v, self.decimals)
                ));
            }
        }
        s
    }

    fn legend(&self, placed: &[Placed], style: &Style) -> Vec<LegendItem> {
        let mut items = vec![LegendItem::new("Value", Swatch::block(&style.primary, 1.0))];
        if placed.iter().any(|p| ci(p.bar).is_some()) {
            items.push(LegendItem::new(
                "95% confidence interval",
                Swatch::line(NHS_BLACK, None, 1.5),
            ));
        }
        if self.sii.and_then(SiiLine::usable).is_some() {
            items.push(LegendItem::new(
                "Slope index of inequality",
                Swatch::line(NHS_ORANGE, None, 2.5),
            ));
        }
        items
    }

    fn draw_bars(
        &self,
        svg: &mut Svg,
        placed: &[Placed],
        (xs, ys): (&LinearScale, &LinearScale),
        style: &Style,
    ) {
        svg.open("g", Attrs::new().str("class", "bars"));
        let y0 = ys.map(0.0);
        for p in placed {
            let Some(v) = p.cell.shown() else { continue };
            let (x0, x1) = (xs.map(p.rank - p.half_width), xs.map(p.rank + p.half_width));
            let y = ys.map(v);
            let a = Attrs::new()
                .str("class", "bar")
                .num("x", x0)
                .num("y", y.min(y0))
                .num("width", x1 - x0)
                .num("height", (y - y0).abs())
                .str("fill", style.primary.as_str());
            let tip = format!("{}: {}", p.bar.label, fmt_value(v, self.decimals));
            svg.with_tooltip("rect", a, &tip);
            if let Some((lo, hi)) = ci(p.bar) {
                draw_error_bar(
                    svg,
                    xs.map(p.rank),
                    (ys.map(lo), ys.map(hi)),
                    ((x1 - x0) * 0.3).min(8.0),
                );
            }
        }
        svg.close();
    }

    fn draw_sii(&self, svg: &mut Svg, (xs, ys): (&LinearScale, &LinearScale)) {
        let Some(sii) = self.sii.and_then(SiiLine::usable) else {
            return;
        };
        let a = Attrs::new()
            .str("class", "sii-line")
            .num("x1", xs.map(0.0))
            .num("y1", ys.map(sii.at(0.0)))
            .num("x2", xs.map(1.0))
            .num("y2", ys.map(sii.at(1.0)))
            .str("stroke", NHS_ORANGE)
            .num("stroke-width", 2.5);
        svg.leaf("line", a);
    }
}

/// Both confidence limits, when usable.
fn ci(bar: &QuantileBar) -> Option<(f64, f64)> {
    Some((usable(bar.lower)?, usable(bar.upper)?))
}

/// A vertical line with caps of half-width `cap`.
fn draw_error_bar(svg: &mut Svg, x: f64, (y_lo, y_hi): (f64, f64), cap: f64) {
    let mut d = crate::svg::PathData::default();
    d.move_to((x, y_lo));
    d.line_to((x, y_hi));
    for y in [y_lo, y_hi] {
        d.move_to((x - cap, y));
        d.line_to((x + cap, y));
    }
    let a = Attrs::new()
        .str("class", "ci")
        .str("d", d.finish())
        .str("fill", "none")
        .str("stroke", NHS_BLACK)
        .num("stroke-width", 1.5);
    svg.leaf("path", a);
}

/// A darker line at zero when zero lies strictly inside the axis.
fn draw_baseline(svg: &mut Svg, plot: Rect, ys: &LinearScale, yt: &Ticks, style: &Style) {
    if yt.min() >= 0.0 || yt.max() <= 0.0 {
        return;
    }
    let y = ys.map(0.0);
    let a = Attrs::new()
        .str("class", "baseline")
        .num("x1", plot.x)
        .num("y1", y)
        .num("x2", plot.right())
        .num("y2", y)
        .str("stroke", style.axis.as_str());
    svg.leaf("line", a);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quintiles_get_equal_bars() {
        let bars: Vec<QuantileBar> = (0..5)
            .map(|i| QuantileBar::new(format!("{}", i + 1), 0.1 + 0.2 * i as f64, Some(1.0)))
            .collect();
        let placed = place(&bars);
        for p in &placed {
            assert!((p.half_width - 0.08).abs() < 1e-12, "{}", p.half_width);
        }
    }

    #[test]
    fn bars_are_ordered_by_rank_and_nan_ranks_dropped() {
        let bars = vec![
            QuantileBar::new("b", 0.75, Some(1.0)),
            QuantileBar::new("x", f64::NAN, Some(1.0)),
            QuantileBar::new("a", 0.25, Some(2.0)),
        ];
        let placed = place(&bars);
        let labels: Vec<&str> = placed.iter().map(|p| p.bar.label.as_str()).collect();
        assert_eq!(labels, vec!["a", "b"]);
    }
}
