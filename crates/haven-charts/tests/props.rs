//! Property test: arbitrary inputs (finite, huge, NaN, infinite or
//! suppressed values; arbitrary Unicode labels, including control
//! characters and XML specials; hostile style sizes) never panic and always
//! give well-formed XML whose coordinates are finite numbers.

mod common;

use common::{parse, path_points};
use haven_charts::{
    ChartText, FunnelPlot, FunnelPoint, InequalityChart, LimitSample, Polarity, QuantileBar,
    Significance, SiiLine, SpcChart, SpcClass, SpcPoint, SpineChart, SpineRow, Style, TrendChart,
    TrendPoint, TrendSeries,
};
use proptest::prelude::*;

const NUMERIC: [&str; 17] = [
    "x",
    "y",
    "cx",
    "cy",
    "r",
    "width",
    "height",
    "x1",
    "y1",
    "x2",
    "y2",
    "font-size",
    "stroke-width",
    "fill-opacity",
    "stroke-opacity",
    "rx",
    "ry",
];

fn number() -> impl Strategy<Value = f64> {
    prop_oneof![
        4 => -1e4..1e4f64,
        1 => prop::num::f64::ANY,
        1 => prop_oneof![Just(0.0), Just(-0.0), Just(1e12), Just(-1e12), Just(1e-300), Just(f64::MAX), Just(f64::NAN), Just(f64::INFINITY)],
    ]
}

fn value() -> impl Strategy<Value = Option<f64>> {
    prop_oneof![1 => Just(None), 4 => number().prop_map(Some)]
}

fn label() -> impl Strategy<Value = String> {
    prop::collection::vec(any::<char>(), 0..12).prop_map(|v| v.into_iter().collect())
}

fn text() -> impl Strategy<Value = ChartText> {
    (label(), label(), label(), label(), label()).prop_map(
        |(title, subtitle, x_axis, y_axis, note)| ChartText {
            title,
            subtitle,
            x_axis,
            y_axis,
            note,
        },
    )
}

fn style() -> impl Strategy<Value = Style> {
    prop_oneof![
        3 => Just(Style::default()),
        1 => (number(), number(), number()).prop_map(|(width, height, font_size)| Style { width, height, font_size, ..Style::default() }),
    ]
}

/// Well-formed, and every coordinate is a finite number.
fn check(svg: &str) {
    let elems = parse(svg);
    for e in &elems {
        for key in NUMERIC {
            if let Some(v) = e.attrs.get(key) {
                let n: f64 = v
                    .parse()
                    .unwrap_or_else(|_| panic!("{key}={v:?} on <{}>", e.name));
                assert!(n.is_finite(), "{key}={v}");
            }
        }
        if e.name == "path" {
            for (_, x, y) in path_points(e.attr("d")) {
                assert!(x.is_finite() && y.is_finite());
            }
        }
    }
}

fn funnel() -> impl Strategy<Value = FunnelPlot> {
    let point =
        (label(), number(), value(), any::<bool>()).prop_map(|(label, x, value, highlight)| {
            FunnelPoint {
                label,
                x,
                value,
                highlight,
            }
        });
    let limits = || {
        prop::collection::vec(
            (number(), number(), number()).prop_map(|(x, lower, upper)| LimitSample {
                x,
                lower,
                upper,
            }),
            0..8,
        )
    };
    (
        text(),
        prop::collection::vec(point, 0..12),
        value(),
        limits(),
        limits(),
        0..4usize,
    )
        .prop_map(
            |(text, points, centre, limits_95, limits_998, decimals)| FunnelPlot {
                text,
                points,
                centre,
                limits_95,
                limits_998,
                decimals,
            },
        )
}

fn spc() -> impl Strategy<Value = SpcChart> {
    let class = prop_oneof![
        Just(SpcClass::CommonCause),
        Just(SpcClass::Improvement),
        Just(SpcClass::Concern),
        Just(SpcClass::Neutral)
    ];
    let point = (label(), value(), value(), value(), value(), class).prop_map(
        |(period, value, mean, upper, lower, class)| SpcPoint {
            period,
            value,
            mean,
            upper,
            lower,
            class,
        },
    );
    (
        text(),
        prop::collection::vec(point, 0..30),
        value(),
        0..4usize,
    )
        .prop_map(|(text, points, target, decimals)| SpcChart {
            text,
            points,
            target,
            decimals,
        })
}

fn spine() -> impl Strategy<Value = SpineChart> {
    let sig = prop_oneof![
        Just(Significance::Better),
        Just(Significance::Similar),
        Just(Significance::Worse),
        Just(Significance::NotCompared)
    ];
    let pol = prop_oneof![
        Just(Polarity::HigherIsBetter),
        Just(Polarity::LowerIsBetter),
        Just(Polarity::NoJudgement)
    ];
    let row = (
        label(),
        [value(), value(), value(), value(), value(), value()],
        sig,
        pol,
        0..20usize,
    )
        .prop_map(
            |(indicator, v, significance, polarity, decimals)| SpineRow {
                indicator,
                local: v[0],
                england: v[1],
                min: v[2],
                q25: v[3],
                q75: v[4],
                max: v[5],
                significance,
                polarity,
                decimals,
            },
        );
    (text(), label(), prop::collection::vec(row, 0..8)).prop_map(|(text, local_name, rows)| {
        SpineChart {
            text,
            local_name,
            rows,
        }
    })
}

fn inequality() -> impl Strategy<Value = InequalityChart> {
    let bar = (label(), number(), value(), value(), value()).prop_map(
        |(label, rank, value, lower, upper)| QuantileBar {
            label,
            rank,
            value,
            lower,
            upper,
        },
    );
    let sii = prop::option::of(
        (number(), number()).prop_map(|(intercept, slope)| SiiLine { intercept, slope }),
    );
    (text(), prop::collection::vec(bar, 0..10), sii, 0..4usize).prop_map(
        |(text, bars, sii, decimals)| InequalityChart {
            text,
            bars,
            sii,
            decimals,
        },
    )
}

fn trend() -> impl Strategy<Value = TrendChart> {
    let point = (value(), value(), value()).prop_map(|(v, lo, hi)| TrendPoint::with_ci(v, lo, hi));
    let series = (
        label(),
        prop::collection::vec(point, 0..15),
        prop::option::of(label()),
    )
        .prop_map(|(name, points, colour)| TrendSeries {
            name,
            points,
            colour,
        });
    (
        text(),
        prop::collection::vec(label(), 0..12),
        prop::collection::vec(series, 0..4),
        0..4usize,
    )
        .prop_map(|(text, periods, series, decimals)| TrendChart {
            text,
            periods,
            series,
            decimals,
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn funnel_never_panics(chart in funnel(), style in style()) {
        let svg = chart.render(&style);
        check(&svg);
        prop_assert_eq!(svg, chart.render(&style));
    }

    #[test]
    fn spc_never_panics(chart in spc(), style in style()) {
        let svg = chart.render(&style);
        check(&svg);
        prop_assert_eq!(svg, chart.render(&style));
    }

    #[test]
    fn spine_never_panics(chart in spine(), style in style()) {
        let svg = chart.render(&style);
        check(&svg);
        prop_assert_eq!(svg, chart.render(&style));
    }

    #[test]
    fn inequality_never_panics(chart in inequality(), style in style()) {
        let svg = chart.render(&style);
        check(&svg);
        prop_assert_eq!(svg, chart.render(&style));
    }

    #[test]
    fn trend_never_panics(chart in trend(), style in style()) {
        let svg = chart.render(&style);
        check(&svg);
        prop_assert_eq!(svg, chart.render(&style));
    }

    #[test]
    fn ticks_cover_any_finite_range(a in number(), b in number(), target in 0..30usize) {
        let t = haven_charts::nice_ticks(a, b, target);
        prop_assert!(t.values.len() >= 2 && t.values.len() <= 60, "{:?}", t.values);
        prop_assert!(t.values.windows(2).all(|w| w[0] < w[1]), "{:?}", t.values);
        if a.is_finite() && b.is_finite() && a.abs() < 1e300 && b.abs() < 1e300 {
            // Snapping forgives a shortfall of a millionth of a step.
            let slack = 1e-6 * t.step;
            prop_assert!(t.min() <= a.min(b) + slack && t.max() >= a.max(b) - slack, "{a} {b} {:?}", t.values);
        }
    }
}
