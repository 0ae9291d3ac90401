//! `haven bench serve` (issue 16 §6): builds the demo's store at a stated
//! scale in a scratch folder, signs in one user per client (password and
//! second factor, as the web app does), then drives the overview, an
//! indicator's page (its charts and every breakdown), the review page of a
//! held output and the API's indicator endpoint from
//! `--clients` concurrent clients on loopback, each for `--seconds`.
//! Reports p50/p95/p99 latency, throughput, errors and the process's
//! resident memory sampled through the run.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use haven_app::sign_in::{Channel, Request};
use haven_app::{Actor, App};
use haven_governance::outputs::Status;

use crate::bench::Scratch;
use crate::cli::{BenchServeArgs, Cli};

/// One measured page: its name, path and whether it is an API call.
struct Target {
    name: &'static str,
    path: String,
    api: bool,
}

/// Latencies of one target, in milliseconds.
struct Measured {
    name: &'static str,
    latencies: Vec<f64>,
    errors: u64,
    seconds: f64,
}

fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

/// Resident memory now (Linux `VmRSS`), MiB.
fn rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmRSS:")).and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok()))
        .map_or(f64::NAN, |kib| kib / 1024.0)
}

pub fn bench_serve(cli: &Cli, a: &BenchServeArgs) -> Result<()> {
    haven_synth::Scale::parse(&a.scale).ok_or_else(|| anyhow!("--scale must be small, icb, quarter or national, not {:?}", a.scale))?;
    if a.clients == 0 || a.seconds == 0 {
        bail!("--clients and --seconds must be at least 1");
    }
    let scratch = Scratch::create(a.scratch.as_deref(), "haven-bench-serve")?;
    let result = run(cli, a, &scratch);
    if a.scratch.is_none() {
        scratch.remove();
    }
    result
}

fn run(cli: &Cli, a: &BenchServeArgs, scratch: &Scratch) -> Result<()> {
    let t = Instant::now();
    // The demo runs as its own process on the scratch store: everything it
    // writes, audits and keys stays in the scratch folder, and its report
    // does not mix with this one.
    let out = std::process::Command::new(std::env::current_exe()?)
        .arg("--data-dir")
        .arg(scratch.data())
        .arg("--keys-dir")
        .arg(scratch.keys())
        .args(["demo", "--no-serve", "--scale", &a.scale, "--out"])
        .arg(scratch.root().join("synth"))
        .env_remove("HAVEN_SESSION")
        .output()
        .context("running the demo")?;
    if !out.status.success() {
        bail!("building the demo store failed: {}", String::from_utf8_lossy(&out.stderr).lines().last().unwrap_or_default());
    }
    eprintln!("haven: built the {} demo store in {:.0} s", a.scale, t.elapsed().as_secs_f64());
    let app = App::new(scratch.data(), scratch.keys());
    let tokens = sign_in_clients(&app, a.clients)?;
    let targets = targets(&app)?;
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))?;
    let base = format!("http://{}", listener.local_addr()?);
    runtime.spawn(haven_server::serve(app.clone(), listener));
    let rss_before = rss_mib();
    let mut results = Vec::new();
    let mut rss_peak = rss_before;
    for target in &targets {
        let (m, peak) = drive(&base, target, &tokens, a.seconds);
        rss_peak = rss_peak.max(peak);
        // Resident memory after each page: flat from page to page is what
        // issue 16 §6 asks, a rise on every page would be a leak.
        results.push((m, rss_mib()));
    }
    let rss_after = rss_mib();
    report(cli, a, &results, (rss_before, rss_peak, rss_after));
    Ok(())
}

/// One user per client, each signed in with password and current code;
/// returns their session tokens.
fn sign_in_clients(app: &App, clients: usize) -> Result<Vec<String>> {
    let host = Actor::host();
    let password = "bench serve passphrase";
    let mut tokens = Vec::new();
    for i in 0..clients {
        let user = format!("bench.client{i:03}");
        app.add_user(&host, &user, "analyst", None, password)?;
        app.enrol_mfa(&host, &user)?;
        let code = haven_governance::mfa::Mfa::open(app.data_dir())?.code_for(&user, haven_governance::session::now())?;
        let req = Request { user: &user, password, code: code.as_deref(), purpose: Some("commissioning"), dsa: Some("DSA-HAVEN-DEMO"), hours: 2, channel: Channel::Remote };
        tokens.push(app.sign_in(&req)?.1);
    }
    Ok(tokens)
}

fn targets(app: &App) -> Result<Vec<Target>> {
    app.released_indicators()?.ok_or_else(|| anyhow!("the demo released no indicators output"))?;
    // The newest output the clients (analysts signed in for commissioning)
    // may review: the demo also holds invoice-validation reports, which are
    // for the finance validators' purpose.
    let held = app
        .outputs()?
        .into_iter()
        .rev()
        .find(|o| o.status == Status::Pending && o.purpose == "commissioning")
        .ok_or_else(|| anyhow!("the demo held no commissioning output"))?;
    let indicator = "apc.emergency_readmission_30d";
    Ok(vec![
        Target { name: "overview", path: "/overview".into(), api: false },
        Target { name: "indicator page", path: format!("/indicators/{indicator}"), api: false },
        Target { name: "output review", path: format!("/outputs/{}", held.id), api: false },
        Target { name: "API indicator", path: format!("/api/indicators/{indicator}"), api: true },
    ])
}

/// Drives one target from every client for `seconds`; also samples the
/// resident memory each 100 ms and returns its peak.
fn drive(base: &str, target: &Target, tokens: &[String], seconds: u64) -> (Measured, f64) {
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let handles: Vec<_> = tokens
        .iter()
        .map(|token| {
            let (url, token, api, stop) = (format!("{base}{}", target.path), token.clone(), target.api, stop.clone());
            std::thread::spawn(move || {
                let http: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).max_redirects(0).build().into();
                let (mut lat, mut errors) = (Vec::new(), 0u64);
                while !stop.load(Ordering::Relaxed) {
                    let t = Instant::now();
                    let req = if api { http.get(&url).header("Authorization", &format!("Bearer {token}")) } else { http.get(&url).header("Cookie", &format!("haven_session={token}")) };
                    match req.call() {
                        Ok(mut r) if r.status() == 200 => {
                            let _ = r.body_mut().read_to_vec();
                            lat.push(t.elapsed().as_secs_f64() * 1000.0);
                        }
                        _ => errors += 1,
                    }
                }
                (lat, errors)
            })
        })
        .collect();
    let mut peak = rss_mib();
    while started.elapsed() < Duration::from_secs(seconds) {
        std::thread::sleep(Duration::from_millis(100));
        peak = peak.max(rss_mib());
    }
    stop.store(true, Ordering::Relaxed);
    let (mut latencies, mut errors) = (Vec::new(), 0);
    for h in handles {
        let (l, e) = h.join().unwrap_or_default();
        latencies.extend(l);
        errors += e;
    }
    latencies.sort_by(f64::total_cmp);
    (Measured { name: target.name, latencies, errors, seconds: started.elapsed().as_secs_f64() }, peak)
}

fn report(cli: &Cli, a: &BenchServeArgs, results: &[(Measured, f64)], (before, peak, after): (f64, f64, f64)) {
    let rows: Vec<serde_json::Value> = results
        .iter()
        .map(|(m, rss)| {
            serde_json::json!({"page": m.name, "requests": m.latencies.len(), "errors": m.errors, "per_second": m.latencies.len() as f64 / m.seconds,
                "p50_ms": quantile(&m.latencies, 0.5), "p95_ms": quantile(&m.latencies, 0.95), "p99_ms": quantile(&m.latencies, 0.99), "rss_after_mib": rss})
        })
        .collect();
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    if cli.json {
        println!("{}", serde_json::json!({"bench": "serve", "scale": a.scale, "clients": a.clients, "seconds": a.seconds, "threads": threads,
            "pages": rows, "rss_mib": {"before": before, "peak": peak, "after": after}}));
        return;
    }
    println!("haven bench serve: {} scale, {} signed-in clients, {} s per page, {threads} cores", a.scale, a.clients, a.seconds);
    println!("{:<30} {:>9} {:>7} {:>9} {:>9} {:>9} {:>9} {:>9}", "page", "requests", "errors", "req/s", "p50 ms", "p95 ms", "p99 ms", "RSS MiB");
    for ((m, rss), r) in results.iter().zip(&rows) {
        println!(
            "{:<30} {:>9} {:>7} {:>9.1} {:>9.1} {:>9.1} {:>9.1} {rss:>9.0}",
            m.name,
            m.latencies.len(),
            m.errors,
            r["per_second"].as_f64().unwrap_or(0.0),
            r["p50_ms"].as_f64().unwrap_or(f64::NAN),
            r["p95_ms"].as_f64().unwrap_or(f64::NAN),
            r["p99_ms"].as_f64().unwrap_or(f64::NAN)
        );
    }
    println!("resident memory: {before:.0} MiB before, {peak:.0} MiB peak, {after:.0} MiB after");
}
