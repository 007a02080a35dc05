//! Monitoring files against the real tools: `promtool` checks the generated
//! config and rules and runs the generated rule unit tests; a real
//! `prometheus` scrapes the exporter and evaluates every expression of the
//! rules and the dashboard. Tests that need a tool missing from PATH print
//! why they skipped and return (CI installs the Debian `prometheus` package).

use divtune::detector::{EventKind, Side};
use divtune::monitor::metrics::side_kind_pairs;
use divtune::monitor::prometheus::config_yaml;
use divtune::monitor::{self, alerts, dashboard, rule_tests, serve, ExportEvent, ExporterState};
use divtune::monitor::{Level, RunFigures, ScrapeSettings, SloConfig};
use divtune::tune::buckets::Source;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn tool_available(name: &str) -> bool {
    let found = Command::new(name).arg("--version").output().is_ok();
    if !found {
        // Past the test harness's capture, so that the skip shows in CI logs.
        use std::io::Write;
        let _ =
            writeln!(std::io::stderr(), "skipped: {name} not found (apt-get install prometheus)");
    }
    found
}

fn promtool(args: &[&str], dir: &Path) -> Output {
    Command::new("promtool").args(args).current_dir(dir).output().unwrap()
}

fn assert_ok(out: &Output, what: &str) {
    assert!(
        out.status.success(),
        "{what} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn promtool_accepts_the_generated_config_and_rules() {
    if !tool_available("promtool") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    monitor::write_monitoring(dir.path(), &SloConfig::default(), "localhost:8003").unwrap();
    let out = promtool(&["check", "config", monitor::CONFIG_FILE], dir.path());
    assert_ok(&out, "promtool check config");
    let out = promtool(&["check", "rules", monitor::RULES_FILE], dir.path());
    assert_ok(&out, "promtool check rules");
    let rules = alerts::alert_rules(&SloConfig::default()).len();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains(&format!("SUCCESS: {rules} rules found")), "{text}");
}

#[test]
fn generated_rule_tests_pass_for_the_default_and_a_run_derived_slo() {
    if !tool_available("promtool") {
        return;
    }
    let figures = RunFigures { events_per_hour: 42.0, median_score: 61.0, hit_rate: 0.57 };
    for slo in [SloConfig::default(), SloConfig::from_run_figures(&figures).unwrap()] {
        let dir = tempfile::tempdir().unwrap();
        monitor::write_monitoring(dir.path(), &slo, "localhost:8003").unwrap();
        let out = promtool(&["test", "rules", monitor::RULE_TESTS_FILE], dir.path());
        assert_ok(&out, "promtool test rules");
    }
}

#[test]
fn rule_tests_fail_when_the_rules_disagree_with_the_levels_they_were_made_for() {
    if !tool_available("promtool") {
        return;
    }
    // Rules with a stricter error-rate rollback level than the tests expect:
    // the warning scenario (1.25 %) now crosses it and promtool must object.
    let dir = tempfile::tempdir().unwrap();
    let slo = SloConfig::default();
    let mut stricter = slo.clone();
    stricter.error_rate.rollback =
        Some(Level { below: None, above: Some(0.01), for_duration: "5m".into() });
    std::fs::create_dir_all(dir.path().join("alerting_rules")).unwrap();
    let rules = dir.path().join(monitor::RULES_FILE);
    std::fs::write(&rules, alerts::rules_yaml(&stricter)).unwrap();
    let tests = dir.path().join(monitor::RULE_TESTS_FILE);
    std::fs::write(&tests, rule_tests::rule_tests_yaml(&slo, "divergence_alerts.yaml").unwrap())
        .unwrap();
    let out = promtool(&["test", "rules", monitor::RULE_TESTS_FILE], dir.path());
    assert!(!out.status.success(), "promtool accepted rules that contradict the tests");
    let text = String::from_utf8_lossy(&out.stdout) + String::from_utf8_lossy(&out.stderr);
    assert!(text.contains("alertname: DivergenceErrorRateRollback"), "{text}");
}

/// Kills and reaps the Prometheus child however the test ends.
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A minimal HTTP/1.0 GET; returns the status code and body.
fn http_get(addr: SocketAddr, path: &str) -> std::io::Result<(u16, String)> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2))?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")?;
    let mut text = String::new();
    stream.read_to_string(&mut text)?;
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let code = head.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    Ok((code, body.to_string()))
}

fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Runs an instant query; returns Prometheus' whole JSON answer.
fn query(prom: SocketAddr, expr: &str) -> serde_json::Value {
    let (_, body) = http_get(prom, &format!("/api/v1/query?query={}", percent_encode(expr)))
        .unwrap_or((0, String::new()));
    serde_json::from_str(&body).unwrap_or(serde_json::Value::Null)
}

/// The single scalar value of an instant query, if it has one.
fn scalar(prom: SocketAddr, expr: &str) -> Option<f64> {
    let answer = query(prom, expr);
    let value = &answer["data"]["result"][0]["value"][1];
    value.as_str().and_then(|v| v.parse().ok())
}

fn wait_until(limit: Duration, mut ready: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if ready() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    false
}

/// The events fed to the exporter, and the offline counts they should give.
struct Feed {
    events: Vec<ExportEvent>,
    total: f64,
    hits_10: f64,
    labelled_10: f64,
}

fn feed() -> Feed {
    let mut events = Vec::new();
    let (mut hits_10, mut labelled_10) = (0.0, 0.0);
    for i in 0..300usize {
        let (side, kind) = side_kind_pairs()[i % 5];
        let directional = side != Side::None;
        let hit = directional.then_some(i % 3 == 0);
        if directional {
            labelled_10 += 1.0;
            hits_10 += f64::from(u8::from(i % 3 == 0));
        }
        events.push(ExportEvent {
            source: Source::ALL[i % 3],
            side,
            kind,
            score: (i * 37 % 100) as f64 + 0.5,
            detection_latency_s: 0.0005 * (i % 20) as f64,
            pairing_gap_bars: i % 13,
            forward_returns: vec![(10, Some(0.0001 * (i % 7) as f64), hit), (20, None, None)],
        });
    }
    Feed { total: events.len() as f64, events, hits_10, labelled_10 }
}

/// Writes the monitoring files, then a config scraping `exporter` every second.
fn prometheus_dir(exporter: SocketAddr) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    monitor::write_monitoring(dir.path(), &SloConfig::default(), "localhost:8003").unwrap();
    let settings = ScrapeSettings {
        target: exporter.to_string(),
        scrape_interval: "1s".into(),
        evaluation_interval: "1s".into(),
    };
    std::fs::write(dir.path().join(monitor::CONFIG_FILE), config_yaml(&settings)).unwrap();
    dir
}

fn start_prometheus(dir: &Path, port: u16) -> KillOnDrop {
    let log = std::fs::File::create(dir.join("prometheus.log")).unwrap();
    let child = Command::new("prometheus")
        .arg(format!("--config.file={}", dir.join(monitor::CONFIG_FILE).display()))
        .arg(format!("--storage.tsdb.path={}", dir.join("data").display()))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap();
    KillOnDrop(child)
}

fn log_tail(dir: &Path) -> String {
    let text = std::fs::read_to_string(dir.join("prometheus.log")).unwrap_or_default();
    text.lines().rev().take(20).collect::<Vec<_>>().into_iter().rev().collect::<Vec<_>>().join("\n")
}

fn close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * b.abs().max(1e-12)
}

#[test]
fn prometheus_scrapes_the_exporter_and_accepts_every_expression() {
    if !tool_available("prometheus") {
        return;
    }
    // Exporter with a known set of events.
    let state = ExporterState::new();
    let fed = feed();
    fed.events.iter().for_each(|e| state.record_event(e));
    state.set_config_info("r1", "0001-r1");
    state.add_requests(1000);
    let stop = Arc::new(AtomicBool::new(false));
    let (exporter, server) = serve("127.0.0.1:0", state, stop.clone()).unwrap();

    // A real Prometheus scraping it every second.
    let dir = prometheus_dir(exporter);
    let prom: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let guard = start_prometheus(dir.path(), prom.port());
    let scraped = wait_until(Duration::from_secs(30), || {
        scalar(prom, "sum(divergence_events_total)").is_some()
    });
    assert!(scraped, "no scrape within 30 s; prometheus log:\n{}", log_tail(dir.path()));

    check_counts(prom, &fed);
    check_expressions(prom);
    check_rules_loaded(prom);

    drop(guard);
    stop.store(true, Ordering::Relaxed);
    server.join().unwrap();
}

/// Scraped counts against the offline counts, and the label identities.
fn check_counts(prom: SocketAddr, fed: &Feed) {
    let total = scalar(prom, "sum(divergence_events_total)").unwrap();
    assert!(close(total, fed.total, 0.10), "scraped {total}, fed {}", fed.total);
    let hits = scalar(prom, "sum(divergence_hits_total{horizon=\"10\"})").unwrap();
    let labelled = scalar(prom, "sum(divergence_labelled_total{horizon=\"10\"})").unwrap();
    assert!(close(hits, fed.hits_10, 0.10) && close(labelled, fed.labelled_10, 0.10));

    let sum = |sel: &str| scalar(prom, &format!("sum(divergence_events_total{{{sel}}})")).unwrap();
    let directional = sum("side!=\"none\"");
    assert_eq!(sum("side=\"bull\"") + sum("side=\"bear\""), directional);
    let divergences = sum("kind!=\"conflict\"");
    assert_eq!(sum("kind=\"regular\"") + sum("kind=\"hidden\""), divergences);
    assert_eq!(directional, fed.total * 4.0 / 5.0);
    let sources: f64 = Source::ALL.iter().map(|s| sum(&format!("source=\"{}\"", s.as_str()))).sum();
    assert_eq!(sources, total);
    assert_eq!(sum(&format!("kind=\"{}\"", EventKind::Conflict.as_str())), fed.total / 5.0);

    let info = query(prom, "divergence_config_info");
    assert_eq!(info["data"]["result"][0]["metric"]["run_id"], "r1");
    let count = scalar(prom, "sum(divergence_score_count)").unwrap();
    assert_eq!(count, fed.total);
}

/// Every PromQL expression of the rules and the dashboard parses and runs.
fn check_expressions(prom: SocketAddr) {
    let slo = SloConfig::default();
    let mut exprs = alerts::expressions(&slo);
    exprs.extend(dashboard::expressions(&slo));
    assert!(exprs.len() > 40);
    for expr in exprs {
        let answer = query(prom, &expr);
        assert_eq!(answer["status"], "success", "{expr}\n{answer}");
    }
}

/// Prometheus loaded every generated rule and evaluates each without error.
fn check_rules_loaded(prom: SocketAddr) {
    let expected = alerts::alert_rules(&SloConfig::default()).len();
    let healthy = wait_until(Duration::from_secs(15), || {
        let (_, body) = http_get(prom, "/api/v1/rules").unwrap_or_default();
        let answer: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
        let rules: Vec<&serde_json::Value> = answer["data"]["groups"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|g| g["rules"].as_array().into_iter().flatten())
            .collect();
        rules.len() == expected && rules.iter().all(|r| r["health"] == "ok")
    });
    assert!(healthy, "not all {expected} rules loaded and healthy");
}

#[test]
fn write_monitoring_paths_are_inside_the_metrics_directory() {
    let dir = tempfile::tempdir().unwrap();
    let metrics: PathBuf = dir.path().join("runs/r1/metrics");
    let paths = monitor::write_monitoring(&metrics, &SloConfig::default(), "svc:8003").unwrap();
    let rel: Vec<String> = paths
        .iter()
        .map(|p| p.strip_prefix(&metrics).unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        rel,
        [
            "prometheus_divergence.yml",
            "alerting_rules/divergence_alerts.yaml",
            "alerting_rules/divergence_alerts.test.yaml",
            "dashboards/divergence_overview.json",
        ]
    );
}

/// `divtune ARGS` from the repository root; panics unless it succeeds.
fn divtune_ok(args: &[&str]) {
    let out = Command::new(env!("CARGO_BIN_EXE_divtune"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert_ok(&out, &format!("divtune {args:?}"));
}

#[test]
fn the_monitor_section_sets_the_scrape_target_and_where_alert_levels_come_from() {
    let work = tempfile::tempdir().unwrap();
    let runs = work.path().join("runs");
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("data");
    let (data, runs_s) = (data.to_str().unwrap(), runs.to_str().unwrap());
    divtune_ok(&["-q", "tune", "--data", data, "--out", runs_s, "--run-id", "R"]);
    let run = runs.join("R");
    let metrics = |config: &str| {
        let path = work.path().join("monitor.yaml");
        std::fs::write(&path, config).unwrap();
        divtune_ok(&[
            "-q",
            "monitoring",
            "--run",
            run.to_str().unwrap(),
            "--config",
            path.to_str().unwrap(),
        ]);
        let read = |rel: &str| std::fs::read_to_string(run.join("metrics").join(rel)).unwrap();
        (read("prometheus_divergence.yml"), read("alerting_rules/divergence_alerts.yaml"))
    };
    let (scrape_a, rules_run) =
        metrics("monitor:\n  target: svc-a:9100\n  levels_from_run: true\n");
    let (_, rules_cfg) = metrics("monitor:\n  target: svc-a:9100\n  levels_from_run: false\n");
    let (scrape_b, rules_b) = metrics("monitor:\n  target: svc-b:9200\n  levels_from_run: true\n");
    assert!(scrape_a.contains("svc-a:9100") && !scrape_a.contains("svc-b"));
    assert!(scrape_b.contains("svc-b:9200"));
    // Event-rate, score and hit-rate levels follow the run's test figures
    // in one case and the config's defaults in the other; the target does
    // not touch the rules.
    assert_ne!(rules_run, rules_cfg);
    assert_eq!(rules_run, rules_b);
}
