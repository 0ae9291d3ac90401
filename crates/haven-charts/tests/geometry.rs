//! Geometry: marks are where the data say they should be.

mod common;

use common::{
    all_charts, close, find, footnote_text, footnotes, parse, path_points, plot_rect, y_of,
};
use haven_charts::{
    ChartText, FunnelPlot, FunnelPoint, InequalityChart, LimitSample, Polarity, QuantileBar,
    Significance, SiiLine, SpcChart, SpcClass, SpcPoint, SpineChart, SpineRow, Style, TrendChart,
    TrendSeries,
};

fn funnel(points: Vec<FunnelPoint>) -> FunnelPlot {
    let limits = |z: f64| {
        (1..=40)
            .map(|i| i as f64 * 50.0)
            .map(|x| LimitSample {
                x,
                lower: 50.0 - z * 30.0 / x.sqrt(),
                upper: 50.0 + z * 30.0 / x.sqrt(),
            })
            .collect()
    };
    FunnelPlot {
        text: ChartText::new("Funnel"),
        points,
        centre: Some(50.0),
        limits_95: limits(1.96),
        limits_998: limits(3.09),
        decimals: 1,
    }
}

fn funnel_points() -> Vec<FunnelPoint> {
    vec![
        FunnelPoint::new("on centre", 100.0, Some(50.0)),
        FunnelPoint::new("above", 200.0, Some(55.0)),
        FunnelPoint::new("suppressed", 250.0, None),
        FunnelPoint::new("below", 300.0, Some(45.0)),
        FunnelPoint::new("outlier", 1000.0, Some(99.0)),
    ]
}

#[test]
fn funnel_points_sit_on_the_value_scale() {
    let elems = parse(&funnel(funnel_points()).render(&Style::default()));
    let centre = find(&elems, "line", "centre-line")[0];
    let points = find(&elems, "circle", "point");
    assert_eq!(points.len(), 4, "one marker per non-suppressed point");
    let cy = |label: &str| {
        let i = elems
            .iter()
            .position(|e| e.name == "title" && e.text.starts_with(&format!("{label}:")))
            .expect(label);
        elems[elems[i].parent.unwrap()].num("cy")
    };
    assert_eq!(
        cy("on centre"),
        centre.num("y1"),
        "value = centre → same y as the centre line"
    );
    assert!(cy("above") < cy("on centre"));
    assert!(cy("below") > cy("on centre"));
    close(cy("outlier"), y_of(&elems, 99.0), "outlier y");
    close(centre.num("y1"), y_of(&elems, 50.0), "centre y");
}

#[test]
fn funnel_flags_only_points_outside_998_limits() {
    let elems = parse(&funnel(funnel_points()).render(&Style::default()));
    let outliers = find(&elems, "circle", "outlier");
    assert_eq!(outliers.len(), 1);
    assert!(elems
        .iter()
        .any(|e| e.name == "title" && e.text.starts_with("outlier:")));
    assert_ne!(
        outliers[0].attr("fill"),
        find(&elems, "circle", "point")
            .iter()
            .find(|p| !p.has_class("outlier"))
            .unwrap()
            .attr("fill")
    );
}

#[test]
fn funnel_limits_are_clipped_to_the_plot() {
    let elems = parse(&funnel(funnel_points()).render(&Style::default()));
    let (left, top, right, bottom) = plot_rect(&elems);
    let paths: Vec<_> = elems
        .iter()
        .filter(|e| e.name == "path" && (e.has_class("limit-95") || e.has_class("limit-998")))
        .collect();
    assert_eq!(paths.len(), 4, "lower and upper for two levels");
    assert!(paths
        .iter()
        .filter(|p| p.has_class("limit-95"))
        .all(|p| p.attr("stroke-dasharray") == "6 4"));
    assert!(paths
        .iter()
        .filter(|p| p.has_class("limit-998"))
        .all(|p| !p.attrs.contains_key("stroke-dasharray")));
    for p in paths {
        for (_, x, y) in path_points(p.attr("d")) {
            assert!(
                x >= left - 0.01 && x <= right + 0.01 && y >= top - 0.01 && y <= bottom + 0.01,
                "({x}, {y}) outside plot"
            );
        }
    }
}

#[test]
fn funnel_highlight_is_labelled() {
    let mut pts = funnel_points();
    pts[1].highlight = true;
    let elems = parse(&funnel(pts).render(&Style::default()));
    let hl = find(&elems, "circle", "highlight");
    assert_eq!(hl.len(), 1);
    assert!(hl[0].num("r") > find(&elems, "circle", "point")[0].num("r"));
    assert_eq!(find(&elems, "text", "point-label")[0].text, "above");
}

#[test]
fn funnel_x_axis_starts_at_zero() {
    let elems = parse(&funnel(funnel_points()).render(&Style::default()));
    let (left, ..) = plot_rect(&elems);
    let xl = elems
        .iter()
        .position(|e| e.name == "g" && e.has_class("x-axis"))
        .unwrap();
    let first = elems
        .iter()
        .find(|e| e.parent == Some(xl) && e.has_class("tick-label"))
        .unwrap();
    assert_eq!(first.text, "0");
    assert_eq!(first.num("x"), left);
}

#[test]
fn suppression_footnote_appears_exactly_when_a_value_is_none() {
    for (name, svg) in all_charts(&[Some(1.0), Some(2.0), Some(3.0)]) {
        assert!(!svg.contains("suppressed"), "{name}");
    }
    for (name, svg) in all_charts(&[Some(1.0), None, Some(2.0), None]) {
        let notes = footnotes(&parse(&svg));
        let hits = notes
            .iter()
            .filter(|n| n.contains("2 values suppressed (small numbers)"))
            .count();
        assert_eq!(hits, 1, "{name}: {notes:?}");
    }
    let one = all_charts(&[Some(1.0), None]);
    for (name, svg) in one {
        assert!(
            footnote_text(&parse(&svg)).contains("1 value suppressed (small numbers)"),
            "{name}"
        );
    }
}

fn spc_point(i: usize, v: Option<f64>, class: SpcClass) -> SpcPoint {
    let (mean, upper, lower) = if i < 3 {
        (1.8, 5.1, -1.5)
    } else {
        (2.5, 4.0, 1.0)
    };
    SpcPoint {
        period: format!("M{i}"),
        value: v,
        mean: Some(mean),
        upper: Some(upper),
        lower: Some(lower),
        class,
    }
}

fn spc() -> SpcChart {
    let points = vec![
        spc_point(0, Some(1.0), SpcClass::CommonCause),
        spc_point(1, Some(2.0), SpcClass::CommonCause),
        spc_point(2, None, SpcClass::CommonCause),
        spc_point(3, Some(3.0), SpcClass::Improvement),
        spc_point(4, Some(3.5), SpcClass::Concern),
        spc_point(5, Some(2.0), SpcClass::Neutral),
    ];
    SpcChart {
        text: ChartText::new("SPC"),
        points,
        target: Some(3.0),
        decimals: 1,
    }
}

#[test]
fn spc_negative_lower_limit_and_steps() {
    let elems = parse(&spc().render(&Style::default()));
    let lower = find(&elems, "path", "lower")[0];
    let pts = path_points(lower.attr("d"));
    assert_eq!(pts.len(), 4, "two segments: {pts:?}");
    close(pts[0].2, y_of(&elems, -1.5), "negative LPL");
    assert!(pts[0].2 > y_of(&elems, 0.0), "LPL drawn below zero");
    close(pts[2].2, y_of(&elems, 1.0), "recalculated LPL");
    let (left, _, right, _) = plot_rect(&elems);
    close(pts[0].1, left, "first segment starts at the plot edge");
    close(pts[3].1, right, "last segment ends at the plot edge");
    close(pts[1].1, pts[2].1, "segments meet at the band boundary");
    let target = find(&elems, "line", "target")[0];
    close(target.num("y1"), y_of(&elems, 3.0), "target");
}

#[test]
fn spc_markers_use_mdc_colours_and_line_breaks_at_gaps() {
    let elems = parse(&spc().render(&Style::default()));
    let points = find(&elems, "circle", "point");
    assert_eq!(points.len(), 5);
    let fill = |class: &str| find(&elems, "circle", class)[0].attr("fill").to_string();
    assert_eq!(fill("common-cause"), "#7B7D7D");
    assert_eq!(fill("improvement"), "#289DE0");
    assert_eq!(fill("concern"), "#FAB428");
    assert_eq!(fill("neutral"), "#490092");
    for p in &points {
        let v: f64 = elems
            .iter()
            .find(|e| e.parent.is_some_and(|i| std::ptr::eq(&elems[i], *p)))
            .unwrap()
            .text
            .split(": ")
            .nth(1)
            .unwrap()
            .split(' ')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        close(p.num("cy"), y_of(&elems, v), "marker y");
    }
    let line = find(&elems, "path", "data-line")[0];
    let moves = path_points(line.attr("d"))
        .iter()
        .filter(|(c, ..)| *c == 'M')
        .count();
    assert_eq!(moves, 2, "the suppressed value splits the line");
}

fn spine() -> SpineChart {
    let row =
        |name: &str, local: Option<f64>, england: f64, range: [f64; 4], significance, polarity| {
            SpineRow {
                indicator: name.into(),
                local,
                england: Some(england),
                min: Some(range[0]),
                q25: Some(range[1]),
                q75: Some(range[2]),
                max: Some(range[3]),
                significance,
                polarity,
                decimals: 1,
            }
        };
    SpineChart {
        text: ChartText::new("Spine"),
        local_name: "Here".into(),
        rows: vec![
            row(
                "min farthest",
                Some(55.0),
                50.0,
                [30.0, 45.0, 55.0, 60.0],
                Significance::Better,
                Polarity::HigherIsBetter,
            ),
            row(
                "max farthest, lower better",
                Some(40.0),
                50.0,
                [45.0, 48.0, 60.0, 90.0],
                Significance::Better,
                Polarity::LowerIsBetter,
            ),
            row(
                "suppressed",
                None,
                10.0,
                [1.0, 8.0, 12.0, 15.0],
                Significance::NotCompared,
                Polarity::NoJudgement,
            ),
            row(
                "an extremely long indicator name that cannot possibly fit in its column",
                Some(3.0),
                3.0,
                [3.0, 3.0, 3.0, 3.0],
                Significance::Similar,
                Polarity::NoJudgement,
            ),
        ],
    }
}

fn header_x(elems: &[common::Elem], label: &str) -> f64 {
    elems
        .iter()
        .find(|e| e.name == "text" && e.text == label)
        .unwrap_or_else(|| panic!("{label}"))
        .num("x")
}

#[test]
fn spine_puts_england_at_the_centre_of_every_row() {
    let elems = parse(&spine().render(&Style::default()));
    let (lo, hi) = (
        header_x(&elems, "Worst/Lowest"),
        header_x(&elems, "Best/Highest"),
    );
    let centre = (lo + hi) / 2.0;
    let england = find(&elems, "line", "england");
    assert_eq!(england.len(), 4);
    for e in england {
        close(e.num("x1"), centre, "England line");
        close(e.num("x2"), centre, "England line");
    }
}

#[test]
fn spine_scales_each_row_by_the_farthest_extreme() {
    let elems = parse(&spine().render(&Style::default()));
    let (lo, hi) = (
        header_x(&elems, "Worst/Lowest"),
        header_x(&elems, "Best/Highest"),
    );
    let half = (hi - lo) / 2.0;
    let ranges = find(&elems, "rect", "range");
    // Row 1: England 50, min 30 (20 away) sets the half-width; max 60 → ¾ of the way.
    close(ranges[0].num("x"), lo, "row 1 min at the left end");
    close(
        ranges[0].num("x") + ranges[0].num("width"),
        lo + 1.5 * half,
        "row 1 max",
    );
    // Row 2 is mirrored (lower is better): max 90 (40 away) at the left end.
    close(ranges[1].num("x"), lo, "row 2 max at the left end");
    let locals = find(&elems, "circle", "local");
    assert_eq!(locals.len(), 3, "no circle for the suppressed value");
    close(locals[0].num("cx"), lo + 1.25 * half, "row 1 local 55");
    close(
        locals[1].num("cx"),
        lo + 1.25 * half,
        "row 2 local 40, better, to the right",
    );
    assert_eq!(locals[0].attr("fill"), "#92D050");
    assert_eq!(locals[2].attr("fill"), "#FFC000");
    close(
        locals[2].num("cx"),
        lo + half,
        "degenerate row stays central",
    );
}

#[test]
fn spine_text_column() {
    let elems = parse(&spine().render(&Style::default()));
    let locals: Vec<&str> = find(&elems, "text", "local-value")
        .iter()
        .map(|e| e.text.as_str())
        .collect();
    assert_eq!(locals, vec!["55.0", "40.0", "*", "3.0"]);
    let england: Vec<&str> = find(&elems, "text", "england-value")
        .iter()
        .map(|e| e.text.as_str())
        .collect();
    assert_eq!(england, vec!["50.0", "50.0", "10.0", "3.0"]);
    let long = find(&elems, "text", "indicator")[3];
    let title = elems
        .iter()
        .find(|e| e.name == "title" && e.parent.is_some_and(|p| std::ptr::eq(&elems[p], long)))
        .expect("full name as tooltip");
    assert!(title.text.starts_with("an extremely long indicator name"));
    assert!(
        long.text.starts_with("an extremely long") && long.text.ends_with('…'),
        "{:?}",
        long.text
    );
    assert!(long.text.chars().count() < title.text.chars().count());
    assert!(footnote_text(&elems).contains("1 value suppressed (small numbers)"));
}

fn inequality() -> InequalityChart {
    let bars = (0..5)
        .map(|i| {
            let v = 100.0 - 10.0 * i as f64;
            QuantileBar {
                label: format!("Q{}", i + 1),
                rank: 0.1 + 0.2 * i as f64,
                value: if i == 2 { None } else { Some(v) },
                lower: Some(v - 5.0),
                upper: Some(v + 5.0),
            }
        })
        .collect();
    InequalityChart {
        text: ChartText::new("Inequality"),
        bars,
        sii: Some(SiiLine {
            intercept: 102.0,
            slope: -44.0,
        }),
        decimals: 1,
    }
}

#[test]
fn inequality_bars_and_sii_line() {
    let elems = parse(&inequality().render(&Style::default()));
    let (left, _, right, _) = plot_rect(&elems);
    let bars = find(&elems, "rect", "bar");
    assert_eq!(bars.len(), 4);
    let zero = y_of(&elems, 0.0);
    for (bar, (rank, v)) in bars
        .iter()
        .zip([(0.1, 100.0), (0.3, 90.0), (0.7, 70.0), (0.9, 60.0)])
    {
        close(bar.num("y") + bar.num("height"), zero, "bar starts at zero");
        close(bar.num("y"), y_of(&elems, v), "bar top");
        close(
            bar.num("x") + bar.num("width") / 2.0,
            left + rank * (right - left),
            "bar centred on its rank",
        );
        close(bar.num("width"), 0.16 * (right - left), "80% of a quintile");
    }
    assert_eq!(find(&elems, "path", "ci").len(), 4);
    let sii = find(&elems, "line", "sii-line")[0];
    close(sii.num("x1"), left, "SII from rank 0");
    close(sii.num("x2"), right, "SII to rank 1");
    close(sii.num("y1"), y_of(&elems, 102.0), "SII at rank 0");
    close(sii.num("y2"), y_of(&elems, 58.0), "SII at rank 1");
    assert!(footnote_text(&elems).contains("Slope index of inequality (SII): -44.0"));
}

#[test]
fn trend_series_markers_legend_and_band() {
    let chart = common::trend_example();
    let elems = parse(&chart.render(&Style::default()));
    let series: Vec<usize> = elems
        .iter()
        .enumerate()
        .filter(|(_, e)| e.name == "g" && e.has_class("series"))
        .map(|(i, _)| i)
        .collect();
    assert_eq!(series.len(), 2);
    let markers = |g: usize| {
        elems
            .iter()
            .filter(|e| e.parent == Some(g) && e.has_class("point"))
            .count()
    };
    assert_eq!(markers(series[0]), 7, "one value suppressed");
    assert_eq!(markers(series[1]), 8);
    let legend: Vec<&str> = find(&elems, "text", "legend-label")
        .iter()
        .map(|e| e.text.as_str())
        .collect();
    assert_eq!(
        legend,
        vec!["NHS Example ICB", "England", "95% confidence interval"]
    );
    let line = |g: usize| {
        elems
            .iter()
            .find(|e| e.parent == Some(g) && e.has_class("line"))
            .unwrap()
    };
    assert_eq!(
        line(series[0]).attr("stroke"),
        "#005EB8",
        "primary series in NHS Blue"
    );
    let band = elems
        .iter()
        .find(|e| e.parent == Some(series[0]) && e.has_class("band"))
        .expect("band");
    assert_eq!(
        path_points(band.attr("d"))
            .iter()
            .filter(|(c, ..)| *c == 'M')
            .count(),
        2,
        "band broken by the gap"
    );
    let first = elems
        .iter()
        .find(|e| e.parent == Some(series[0]) && e.has_class("point"))
        .unwrap();
    close(first.num("cy"), y_of(&elems, 62.0), "first value");
}

#[test]
fn trend_values_beyond_periods_are_ignored() {
    let chart = TrendChart {
        text: ChartText::new("Short"),
        periods: vec!["a".into(), "b".into()],
        series: vec![TrendSeries::from_values(
            "S",
            &[Some(1.0), Some(2.0), Some(1000.0), None],
        )],
        decimals: 0,
    };
    let svg = chart.render(&Style::default());
    let elems = parse(&svg);
    assert_eq!(find(&elems, "circle", "point").len(), 2);
    assert!(!svg.contains("suppressed"));
    assert!(
        common::y_ticks(&elems).last().unwrap().0 < 10.0,
        "1000 does not stretch the axis"
    );
}
