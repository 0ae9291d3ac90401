//! The analyst's and viewer's pages over released outputs (issue 16 §3):
//! the figures the fixture released by hand (`common::insight_outputs`)
//! appear with the flags worked out there, a GP reaches only their own
//! practice, and the API returns the same tables.

mod common;

use common::{agent, read, Fixture, Server, READMISSIONS};
use haven_governance::dsa::Role;

fn page(server: &Server, token: &str, path: &str) -> (u16, String) {
    let (status, _, body) = read(agent().get(&format!("{}{path}", server.base)).header("Cookie", &format!("haven_session={token}")).call());
    (status, body)
}

fn api(server: &Server, token: &str, path: &str) -> (u16, serde_json::Value) {
    let (status, _, body) = read(agent().get(&format!("{}{path}", server.base)).header("Authorization", &format!("Bearer {token}")).call());
    (status, serde_json::from_str(&body).unwrap_or(serde_json::Value::Null))
}

/// The text of the table row whose first cell is `group` (tags and links
/// stripped), for asserting a row's figures and flag together.
fn row_of(body: &str, group: &str) -> String {
    let start = body.find(&format!(">{group}<")).unwrap_or_else(|| panic!("no row {group}"));
    let row = &body[start..];
    let row = &row[..row.find("</tr>").unwrap()];
    let mut text = String::new();
    let mut tag = false;
    for c in row.chars() {
        match c {
            '<' => tag = true,
            '>' => {
                tag = false;
                text.push(' ');
            }
            c if !tag => text.push(c),
            _ => {}
        }
    }
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[test]
fn the_pages_show_the_released_figures_with_their_flags() {
    let fx = Fixture::new();
    let server = Server::start(&fx.app);
    let vic = fx.token("vic", Role::Viewer);

    // The overview: QMJ 10.0% (95% 9.0–11.1) against England 8.0: England
    // is outside the interval and lower is better, so "worse"; peer median
    // 9.5; the local total 300/3,000 = 10.0%; twelve equal months are
    // common-cause variation.
    let (status, body) = page(&server, &vic, "/overview");
    assert_eq!(status, 200, "{body}");
    let line = row_of(&body, haven_analytics::find(READMISSIONS).unwrap().title);
    assert_eq!(line, format!("{} 10.0 % 8.0 9.5 worse 10.0 % Common cause variation", haven_analytics::find(READMISSIONS).unwrap().title), "{body}");
    assert!(body.contains(&format!("/released/{}/chart/benchmark.spine.svg", fx.benchmark)), "the spine chart");

    // The indicator page: every breakdown, each row against the ICB's
    // 10.0% with the PHE funnel at its denominator (n = 1,000: 99.8%
    // limits 7.07–12.93%): A81001 15.0% worse, A81002 similar, A81003
    // 5.0% better, A81004's suppressed numerator not compared.
    let (status, body) = page(&server, &vic, &format!("/indicators/{READMISSIONS}"));
    assert_eq!(status, 200, "{body}");
    for (group, want) in [("A81001", "A81001 150 1000 15.0 – worse"), ("A81002", "A81002 100 1000 10.0 – similar"), ("A81003", "A81003 50 1000 5.0 – better"), ("A81004", "A81004 * 40 – – not compared")] {
        assert_eq!(row_of(&body, group), want);
    }
    for b in ["By month", "By sub-ICB", "By PCN", "By practice", "By provider", "By IMD quintile"] {
        assert!(body.contains(b), "{b}");
    }
    assert!(body.contains(&format!("/released/{}/chart/{READMISSIONS}.practice.funnel.svg", fx.indicators)));
    // Each table downloads as the released CSV (an audited download).
    let csv = format!("/released/{}/{READMISSIONS}.practice.csv", fx.indicators);
    assert!(body.contains(&format!("href=\"{csv}\"")), "{body}");
    let before = fx.audited("output.download");
    let (status, _, text) = read(agent().get(&format!("{}{csv}", server.base)).header("Cookie", &format!("haven_session={vic}")).call());
    assert_eq!(status, 200);
    assert!(text.contains("A81001,150,1000,15.0"), "{text}");
    assert_eq!(fx.audited("output.download"), before + 1);

    // The chart is served as an image; a held output's is not.
    let (status, _, svg) = read(agent().get(&format!("{}/released/{}/chart/{READMISSIONS}.practice.funnel.svg", server.base, fx.indicators)).header("Cookie", &format!("haven_session={vic}")).call());
    assert_eq!(status, 200);
    assert!(svg.starts_with("<svg") || svg.starts_with("<?xml"), "{}", &svg[..80.min(svg.len())]);
    let before = fx.audited("refusal");
    let (status, _) = page(&server, &vic, &format!("/released/{}/chart/table.csv", fx.held));
    assert_eq!(status, 403);
    assert_eq!(fx.audited("refusal"), before + 1);

    // Inequalities: the slope index as the output published it.
    let (_, body) = page(&server, &vic, "/inequalities");
    assert!(body.contains("Slope index of inequality: <strong>-5.0</strong> percentage points (95% -6.0 to -4.0)"), "{body}");

    // Benchmarking by provider: RXX 200/2,000 and RYY 100/1,000 are both
    // 10.0%, the ICB's value: similar.
    let (_, body) = page(&server, &vic, &format!("/benchmarking?indicator={READMISSIONS}&level=provider"));
    assert_eq!(row_of(&body, "RXX"), "RXX 200 2000 10.0 – similar");

    // Drill-down: the ICB's one sub-ICB; its PCNs (U1 250/2,000 = 12.5%:
    // above the 99.8% limits at n = 2,000, 7.93–12.07%, so worse); a PCN's
    // practices only.
    let (_, body) = page(&server, &vic, &format!("/areas?indicator={READMISSIONS}"));
    assert!(row_of(&body, "S1").starts_with("S1 300 3000 10.0"), "{body}");
    let (_, body) = page(&server, &vic, &format!("/areas/sub_icb/S1?indicator={READMISSIONS}"));
    assert_eq!(row_of(&body, "U1"), "U1 250 2000 12.5 worse");
    let (_, body) = page(&server, &vic, &format!("/areas/pcn/U1?indicator={READMISSIONS}"));
    assert!(body.contains(">A81001<") && body.contains(">A81002<") && !body.contains(">A81003<"), "{body}");
    let (status, _) = page(&server, &vic, "/areas/practice/A81001");
    assert_eq!(status, 404);

    // The practice dashboard.
    let (_, body) = page(&server, &vic, "/practices/A81003");
    assert!(body.contains("PCN U2, sub-ICB S1"), "{body}");
    assert!(row_of(&body, haven_analytics::find(READMISSIONS).unwrap().title).ends_with("50 1000 5.0 % 10.0 better"), "{body}");
}

#[test]
fn a_gp_sees_only_their_own_practice_and_the_refusal_is_audited() {
    let fx = Fixture::new();
    let server = Server::start(&fx.app);
    let gill = fx.token("gill", Role::Gp);
    // gill is registered to A81001 (15.0% against the ICB's 10.0%: worse).
    let (status, body) = page(&server, &gill, "/practices/A81001");
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("15.0 %") && body.contains(">worse<"), "{body}");
    assert!(body.contains("href=\"/practices/A81001\""), "the navigation offers their practice");
    for path in ["/practices/A81002", "/practices/a81003"] {
        let before = fx.audited("refusal");
        let (status, body) = page(&server, &gill, path);
        assert_eq!(status, 403, "{path}: {body}");
        assert!(body.contains("only its own practice"), "{body}");
        assert_eq!(fx.audited("refusal"), before + 1, "{path}");
    }
    let (status, _) = api(&server, &gill, "/api/practices/A81002");
    assert_eq!(status, 403);
    // Nothing else of the analysts' pages.
    for path in ["/overview", &format!("/indicators/{READMISSIONS}"), "/benchmarking"] {
        assert_eq!(page(&server, &gill, path).0, 403, "{path}");
    }
}

#[test]
fn the_api_returns_the_same_tables_and_flags() {
    let fx = Fixture::new();
    let server = Server::start(&fx.app);
    let ana = fx.token("ana", Role::Analyst);
    let (status, v) = api(&server, &ana, "/api/indicators");
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["icb"], "QMJ");
    assert_eq!(v["indicators_output"], fx.indicators.as_str());
    let line = &v["lines"][0];
    assert_eq!(line["indicator"], READMISSIONS);
    assert_eq!(line["comparison"]["vs_england"], "worse");
    assert_eq!(line["local"]["numerator"], 300);
    assert_eq!(line["trend"]["signal"], "Common cause variation");

    let (status, v) = api(&server, &ana, &format!("/api/indicators/{READMISSIONS}"));
    assert_eq!(status, 200, "{v}");
    let practice = v["breakdowns"].as_array().unwrap().iter().find(|b| b["table"]["breakdown"] == "practice").unwrap();
    let flags: Vec<&str> = practice["flags"].as_array().unwrap().iter().map(|f| f.as_str().unwrap()).collect();
    assert_eq!(flags, ["worse", "similar", "better", "not_compared"]);
    assert_eq!(practice["table"]["rows"][3]["numerator"], "*");
    assert_eq!(api(&server, &ana, "/api/indicators/no.such").0, 404);

    let (_, v) = api(&server, &ana, "/api/practices/A81003");
    assert_eq!(v["area"]["pcn"], "U2");
    assert_eq!(v["lines"][0]["flag"], "better");

    // The pages keep what they found while the audit chain's head stands
    // still; a newly released output (its approvals audited) is picked up.
    let ana_actor = haven_app::Actor::Signed(Fixture::session("ana", Role::Analyst));
    let (newer, _) = common::insight_outputs(&fx.app, &ana_actor);
    assert_eq!(api(&server, &ana, "/api/indicators").1["indicators_output"], fx.indicators.as_str(), "held, not yet released");
    for reviewer in [("ben", Role::Analyst), ("aud", Role::Auditor)] {
        fx.app.review(&haven_app::Actor::Signed(Fixture::session(reviewer.0, reviewer.1)), &newer, true, "").unwrap();
    }
    assert_eq!(api(&server, &ana, "/api/indicators").1["indicators_output"], newer.as_str());
}
