//! Shared test helpers: a strict XML reader that turns an SVG document into
//! a flat element list, element queries, and the fixed example charts used
//! by the golden-file and geometry tests.
#![allow(dead_code)]

use haven_charts::{
    ChartText, FunnelPlot, FunnelPoint, InequalityChart, LimitSample, Polarity, QuantileBar,
    Significance, SiiLine, SpcChart, SpcClass, SpcPoint, SpineChart, SpineRow, Style, TrendChart,
    TrendPoint, TrendSeries,
};
use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;
use std::collections::BTreeMap;

/// One element of a parsed document.
#[derive(Clone, Debug)]
pub struct Elem {
    pub name: String,
    pub attrs: BTreeMap<String, String>,
    /// Unescaped character data directly inside the element.
    pub text: String,
    /// Index of the parent element, `None` for the root.
    pub parent: Option<usize>,
}

impl Elem {
    pub fn attr(&self, key: &str) -> &str {
        self.attrs
            .get(key)
            .map(String::as_str)
            .unwrap_or_else(|| panic!("<{}> has no {key}: {:?}", self.name, self.attrs))
    }

    pub fn num(&self, key: &str) -> f64 {
        let raw = self.attr(key);
        raw.parse()
            .unwrap_or_else(|_| panic!("{key}={raw:?} is not a number"))
    }

    pub fn has_class(&self, class: &str) -> bool {
        self.attrs
            .get("class")
            .is_some_and(|c| c.split_whitespace().any(|t| t == class))
    }
}

fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..='\u{10FFFF}')
}

fn start(e: &BytesStart, parent: Option<usize>) -> Elem {
    let name = String::from_utf8(e.name().as_ref().to_vec()).expect("utf-8 name");
    let mut attrs = BTreeMap::new();
    let mut iter = e.attributes();
    iter.with_checks(true);
    for a in iter {
        let a = a.unwrap_or_else(|err| panic!("bad attribute on <{name}>: {err}"));
        let key = String::from_utf8(a.key.as_ref().to_vec()).expect("utf-8 key");
        let value = a
            .unescape_value()
            .unwrap_or_else(|err| panic!("bad value for {key}: {err}"))
            .into_owned();
        assert!(
            attrs.insert(key.clone(), value).is_none(),
            "duplicate attribute {key}"
        );
    }
    Elem {
        name,
        attrs,
        text: String::new(),
        parent,
    }
}

fn resolve_entity(name: &str) -> char {
    match name {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        other => panic!("unknown entity &{other};"),
    }
}

/// Parses a whole document, panicking on anything that is not well-formed
/// XML with a single `<svg>` root.
pub fn parse(doc: &str) -> Vec<Elem> {
    if let Some(bad) = doc.chars().find(|&c| !is_xml_char(c)) {
        panic!("character U+{:04X} is not allowed in XML", bad as u32);
    }
    let mut reader = Reader::from_str(doc);
    let mut elems: Vec<Elem> = Vec::new();
    let mut stack: Vec<usize> = Vec::new();
    let mut roots = 0;
    loop {
        let event = reader
            .read_event()
            .unwrap_or_else(|e| panic!("XML error at {}: {e}", reader.buffer_position()));
        match event {
            Event::Start(e) | Event::Empty(e) if stack.is_empty() && roots > 0 => {
                panic!("second root element {:?}", e.name())
            }
            Event::Start(e) => {
                roots += usize::from(stack.is_empty());
                elems.push(start(&e, stack.last().copied()));
                stack.push(elems.len() - 1);
            }
            Event::Empty(e) => {
                roots += usize::from(stack.is_empty());
                elems.push(start(&e, stack.last().copied()));
            }
            Event::End(e) => {
                let open = stack.pop().expect("end tag without start");
                assert_eq!(
                    elems[open].name.as_bytes(),
                    e.name().as_ref(),
                    "mismatched end tag"
                );
            }
            Event::Text(t) => {
                let text = t.decode().expect("utf-8 text");
                if let Some(&i) = stack.last() {
                    elems[i].text.push_str(&text);
                } else {
                    assert!(text.trim().is_empty(), "text outside the root: {text:?}");
                }
            }
            Event::GeneralRef(r) => {
                let c = if r.is_char_ref() {
                    r.resolve_char_ref()
                        .expect("char ref")
                        .expect("valid char ref")
                } else {
                    resolve_entity(&r.decode().expect("utf-8 ref"))
                };
                let i = *stack.last().expect("reference outside the root");
                elems[i].text.push(c);
            }
            Event::CData(_)
            | Event::Comment(_)
            | Event::Decl(_)
            | Event::PI(_)
            | Event::DocType(_) => {}
            Event::Eof => break,
        }
    }
    assert!(stack.is_empty(), "unclosed elements at end of document");
    assert_eq!(roots, 1, "expected exactly one root element");
    assert_eq!(elems[0].name, "svg", "root must be <svg>");
    elems
}

/// Elements named `name` carrying CSS class `class`.
pub fn find<'a>(elems: &'a [Elem], name: &str, class: &str) -> Vec<&'a Elem> {
    elems
        .iter()
        .filter(|e| e.name == name && e.has_class(class))
        .collect()
}

/// Texts of every element with class `footnote`.
pub fn footnotes(elems: &[Elem]) -> Vec<String> {
    find(elems, "text", "footnote")
        .iter()
        .map(|e| e.text.clone())
        .collect()
}

/// Footnote text joined (notes may wrap over several lines).
pub fn footnote_text(elems: &[Elem]) -> String {
    footnotes(elems).join(" ")
}

/// The number parsed from every `M`/`L` pair of a path's `d` attribute.
pub fn path_points(d: &str) -> Vec<(char, f64, f64)> {
    let mut out = Vec::new();
    let mut rest = d;
    while let Some(cmd) = rest.chars().next() {
        rest = &rest[1..];
        if cmd == 'Z' {
            continue;
        }
        let end = rest.find(['M', 'L', 'Z']).unwrap_or(rest.len());
        let (nums, tail) = rest.split_at(end);
        let mut it = nums
            .split(' ')
            .map(|n| n.parse::<f64>().expect("number in path"));
        out.push((cmd, it.next().expect("x"), it.next().expect("y")));
        rest = tail;
    }
    out
}

/// Renders of each chart type from the same plain values.
pub fn all_charts(values: &[Option<f64>]) -> Vec<(&'static str, String)> {
    let s = Style::default();
    let text = ChartText::new("Edge case");
    let funnel = FunnelPlot {
        text: text.clone(),
        points: values
            .iter()
            .enumerate()
            .map(|(i, &v)| FunnelPoint::new(format!("P{i}"), 100.0 * (i + 1) as f64, v))
            .collect(),
        centre: Some(1.0),
        ..FunnelPlot::default()
    };
    let spc = SpcChart {
        text: text.clone(),
        points: values
            .iter()
            .enumerate()
            .map(|(i, &v)| SpcPoint::new(format!("M{i}"), v))
            .collect(),
        ..SpcChart::default()
    };
    let spine = SpineChart {
        text: text.clone(),
        rows: values
            .iter()
            .map(|&v| SpineRow {
                indicator: "I".into(),
                local: v,
                england: v,
                min: v,
                max: v,
                ..SpineRow::default()
            })
            .collect(),
        ..SpineChart::default()
    };
    let n = values.len().max(1) as f64;
    let ineq = InequalityChart {
        text: text.clone(),
        bars: values
            .iter()
            .enumerate()
            .map(|(i, &v)| QuantileBar::new(format!("Q{}", i + 1), (i as f64 + 0.5) / n, v))
            .collect(),
        ..InequalityChart::default()
    };
    let trend = TrendChart {
        text,
        periods: (0..values.len()).map(|i| format!("T{i}")).collect(),
        series: vec![TrendSeries::from_values("S", values)],
        ..TrendChart::default()
    };
    vec![
        ("funnel", funnel.render(&s)),
        ("spc", spc.render(&s)),
        ("spine", spine.render(&s)),
        ("inequality", ineq.render(&s)),
        ("trend", trend.render(&s)),
    ]
}

// ---------------------------------------------------------------- examples

fn binomial_limits(p: f64, z: f64) -> Vec<LimitSample> {
    [
        100.0, 200.0, 500.0, 1000.0, 2000.0, 4000.0, 7000.0, 10000.0, 15000.0, 20000.0, 25000.0,
    ]
    .iter()
    .map(|&n| {
        let half = z * (p * (1.0 - p) / n).sqrt() * 100.0;
        LimitSample {
            x: n,
            lower: p * 100.0 - half,
            upper: p * 100.0 + half,
        }
    })
    .collect()
}

/// Share of A&E attendances seen within 4 hours, by ICB.
pub fn funnel_example() -> FunnelPlot {
    let pts = [
        ("North ICB", 1200.0, Some(78.0)),
        ("South ICB", 5400.0, Some(74.1)),
        ("East ICB", 9800.0, Some(75.0)),
        ("West ICB", 15500.0, Some(73.2)),
        ("A&E <4h \"test\"", 3000.0, Some(77.5)),
        ("Coastal ICB", 800.0, None),
        ("Valley ICB", 21000.0, Some(70.9)),
        ("Forest ICB", 400.0, Some(81.0)),
        ("City ICB", 12800.0, None),
    ];
    let mut points: Vec<FunnelPoint> = pts
        .iter()
        .map(|(l, x, v)| FunnelPoint::new(*l, *x, *v))
        .collect();
    points.push(FunnelPoint {
        label: "NHS Example ICB".into(),
        x: 7000.0,
        value: Some(76.4),
        highlight: true,
    });
    FunnelPlot {
        text: ChartText {
            title: "A&E attendances seen within 4 hours".into(),
            subtitle: "Type 1 departments, 2023/24, by ICB".into(),
            x_axis: "Attendances".into(),
            y_axis: "Seen within 4 hours (%)".into(),
            note: "Source: Haven synthetic data".into(),
        },
        points,
        centre: Some(75.0),
        limits_95: binomial_limits(0.75, 1.959964),
        limits_998: binomial_limits(0.75, 3.090232),
        decimals: 1,
    }
}

/// Monthly serious incidents with a recalculated process after month 12.
pub fn spc_example() -> SpcChart {
    let months = [
        "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec", "Jan", "Feb", "Mar",
    ];
    let values = [
        6.0, 4.0, 7.0, 5.0, 3.0, 6.0, 14.0, 5.0, 4.0, 6.0, 5.0, 7.0, 3.0, 2.0, 4.0, 3.0, 2.0, 3.0,
        1.0, 2.0, 2.0, 1.0, 2.0, 1.0,
    ];
    let points = values
        .iter()
        .enumerate()
        .map(|(i, &v)| {
            let year = if i < 12 { "22/23" } else { "23/24" };
            let (mean, upper, lower) = if i < 12 {
                (5.5, 12.6, -1.6)
            } else {
                (2.2, 5.1, -0.7)
            };
            let class = match i {
                6 => SpcClass::Concern,
                18..=23 => SpcClass::Improvement,
                _ => SpcClass::CommonCause,
            };
            SpcPoint {
                period: format!("{} {year}", months[i % 12]),
                value: if i == 9 { None } else { Some(v) },
                mean: Some(mean),
                upper: Some(upper),
                lower: Some(lower),
                class,
            }
        })
        .collect();
    SpcChart {
        text: ChartText {
            title: "Serious incidents per month".into(),
            subtitle: "NHS Example ICB, April 2022 to March 2024".into(),
            x_axis: "Month".into(),
            y_axis: "Incidents".into(),
            note: String::new(),
        },
        points,
        target: Some(3.0),
        decimals: 0,
    }
}

fn row(
    indicator: &str,
    local: Option<f64>,
    england: f64,
    range: [f64; 4],
    (significance, polarity, decimals): (Significance, Polarity, usize),
) -> SpineRow {
    SpineRow {
        indicator: indicator.into(),
        local,
        england: Some(england),
        min: Some(range[0]),
        q25: Some(range[1]),
        q75: Some(range[2]),
        max: Some(range[3]),
        significance,
        polarity,
        decimals,
    }
}

/// A small health profile for one ICB.
pub fn spine_example() -> SpineChart {
    SpineChart {
        text: ChartText {
            title: "Health profile: NHS Example ICB".into(),
            subtitle: "Compared with England, latest period".into(),
            ..ChartText::default()
        },
        local_name: "NHS Example ICB".into(),
        rows: vec![
            row(
                "Life expectancy at birth (male)",
                Some(78.1),
                79.3,
                [74.1, 78.2, 80.4, 84.0],
                (Significance::Worse, Polarity::HigherIsBetter, 1),
            ),
            row(
                "Smoking prevalence in adults (%)",
                Some(11.2),
                12.7,
                [5.9, 10.8, 14.1, 20.3],
                (Significance::Better, Polarity::LowerIsBetter, 1),
            ),
            row(
                "Emergency admissions for falls, 65+ per 100,000",
                Some(2105.0),
                2100.0,
                [1410.0, 1880.0, 2350.0, 3110.0],
                (Significance::Similar, Polarity::LowerIsBetter, 0),
            ),
            row(
                "Under-18 conceptions per 1,000",
                None,
                13.1,
                [4.2, 10.1, 16.0, 27.5],
                (Significance::NotCompared, Polarity::LowerIsBetter, 1),
            ),
            row(
                "Flu vaccination coverage 65+ & <65 at risk (%)",
                Some(80.6),
                79.9,
                [70.2, 77.5, 82.0, 86.1],
                (Significance::Better, Polarity::HigherIsBetter, 1),
            ),
            row(
                "Ratio of registered to expected dementia",
                Some(0.61),
                0.63,
                [0.45, 0.58, 0.68, 0.82],
                (Significance::NotCompared, Polarity::NoJudgement, 2),
            ),
        ],
    }
}

/// Emergency admission rate by IMD quintile with the SII line.
pub fn inequality_example() -> InequalityChart {
    let labels = ["1 (most deprived)", "2", "3", "4", "5 (least deprived)"];
    let values = [148.0, 121.5, 104.2, 92.8, 80.1];
    let bars = labels
        .iter()
        .zip(values)
        .enumerate()
        .map(|(i, (l, v))| QuantileBar {
            label: (*l).into(),
            rank: 0.1 + 0.2 * i as f64,
            value: Some(v),
            lower: Some(v - 6.0),
            upper: Some(v + 6.5),
        })
        .collect();
    InequalityChart {
        text: ChartText {
            title: "Emergency admissions by deprivation".into(),
            subtitle: "Directly standardised rate per 10,000, 2023/24".into(),
            x_axis: "IMD 2019 quintile of residence".into(),
            y_axis: "Rate per 10,000".into(),
            note: String::new(),
        },
        bars,
        sii: Some(SiiLine {
            intercept: 155.2,
            slope: -83.0,
        }),
        decimals: 1,
    }
}

/// Two series over eight quarters, one with a confidence band.
pub fn trend_example() -> TrendChart {
    let periods: Vec<String> = [
        "2022 Q1", "2022 Q2", "2022 Q3", "2022 Q4", "2023 Q1", "2023 Q2", "2023 Q3", "2023 Q4",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let local = [62.0, 63.5, 61.8, 64.2, 65.0, 66.1, 65.4, 67.3];
    let points = local
        .iter()
        .enumerate()
        .map(|(i, &v)| {
            if i == 2 {
                TrendPoint::with_ci(None, None, None)
            } else {
                TrendPoint::with_ci(Some(v), Some(v - 2.1), Some(v + 2.1))
            }
        })
        .collect();
    TrendChart {
        text: ChartText {
            title: "Cancer screening coverage".into(),
            subtitle: "Bowel screening, people aged 60 to 74".into(),
            x_axis: "Quarter".into(),
            y_axis: "Coverage (%)".into(),
            note: String::new(),
        },
        periods,
        series: vec![
            TrendSeries {
                name: "NHS Example ICB".into(),
                points,
                colour: None,
            },
            TrendSeries::from_values(
                "England",
                &[66.0, 66.4, 66.9, 67.0, 67.6, 68.1, 68.0, 68.5].map(Some),
            ),
        ],
        decimals: 1,
    }
}

// ---------------------------------------------------------------- geometry

/// The plot rectangle `(left, top, right, bottom)`, read from the axis
/// lines.
pub fn plot_rect(elems: &[Elem]) -> (f64, f64, f64, f64) {
    let lines: Vec<&Elem> = elems
        .iter()
        .filter(|e| e.name == "line" && e.has_class("axis-line"))
        .collect();
    let y_axis = lines
        .iter()
        .find(|l| l.num("x1") == l.num("x2"))
        .expect("y axis line");
    let x_axis = lines
        .iter()
        .find(|l| l.num("y1") == l.num("y2"))
        .expect("x axis line");
    (
        y_axis.num("x1"),
        y_axis.num("y1"),
        x_axis.num("x2"),
        y_axis.num("y2"),
    )
}

/// The y axis as `(tick value, pixel y)` pairs, from gridlines and labels.
pub fn y_ticks(elems: &[Elem]) -> Vec<(f64, f64)> {
    let axis = elems
        .iter()
        .position(|e| e.name == "g" && e.has_class("y-axis"))
        .expect("y axis group");
    let kids: Vec<&Elem> = elems.iter().filter(|e| e.parent == Some(axis)).collect();
    let grid = kids.iter().filter(|e| e.has_class("grid"));
    let labels = kids.iter().filter(|e| e.has_class("tick-label"));
    grid.zip(labels)
        .map(|(g, l)| {
            (
                l.text.replace(',', "").parse().expect("tick value"),
                g.num("y1"),
            )
        })
        .collect()
}

/// Pixel y of value `v` by linear interpolation between the first and last
/// y ticks.
pub fn y_of(elems: &[Elem], v: f64) -> f64 {
    let t = y_ticks(elems);
    let ((v0, y0), (v1, y1)) = (t[0], t[t.len() - 1]);
    y0 + (v - v0) / (v1 - v0) * (y1 - y0)
}

/// Asserts two coordinates agree to the output precision.
pub fn close(a: f64, b: f64, what: &str) {
    assert!((a - b).abs() <= 0.011, "{what}: {a} vs {b}");
}
