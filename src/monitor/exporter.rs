//! A small Prometheus exporter for replays: [`ExporterState`] collects the
//! catalogue's metrics as the replay loop reports events, and [`serve`]
//! answers `GET /metrics` in the text exposition format 0.0.4 on a plain
//! `std::net::TcpListener`.
//!
//! The server handles one connection at a time with read and write
//! timeouts, polls a shared stop flag between connections, and exits
//! within one poll interval after the flag is set. Scrapes are rare and
//! small, so no HTTP crate or thread pool is needed.

use super::metrics::{self, Metric, MetricType};
use crate::detector::{EventKind, Side};
use crate::tune::buckets::Source;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

/// Distinct horizons the exporter keeps; more would mean a mislabelled input.
pub const MAX_HORIZONS: usize = 16;
const POLL: Duration = Duration::from_millis(25);
const IO_TIMEOUT: Duration = Duration::from_secs(2);
const MAX_REQUEST_BYTES: usize = 8 * 1024;

/// One detector event as the exporter records it.
#[derive(Clone, Debug, PartialEq)]
pub struct ExportEvent {
    pub source: Source,
    pub side: Side,
    pub kind: EventKind,
    /// Score in [0, 100].
    pub score: f64,
    /// Time the detector spent on the bar that emitted the event.
    pub detection_latency_s: f64,
    /// Bars between the two pivots compared.
    pub pairing_gap_bars: usize,
    /// `(horizon in bars, return in the event's direction, hit)`; `None`
    /// where the label is empty. Only `Some(hit)` counts as labelled.
    pub forward_returns: Vec<(usize, Option<f64>, Option<bool>)>,
}

/// A histogram with fixed bounds: per-bucket counts (last is +Inf), sum, count.
#[derive(Clone, Debug)]
struct Histogram {
    bounds: &'static [f64],
    counts: Vec<u64>,
    sum: f64,
}

impl Histogram {
    fn new(metric: &Metric) -> Histogram {
        Histogram { bounds: metric.buckets, counts: vec![0; metric.buckets.len() + 1], sum: 0.0 }
    }

    /// Adds one observation; NaN cannot be placed in a bucket and is skipped.
    fn observe(&mut self, v: f64) {
        if v.is_nan() {
            return;
        }
        let i = self.bounds.iter().position(|&b| v <= b).unwrap_or(self.bounds.len());
        self.counts[i] += 1;
        self.sum += v;
    }

    fn count(&self) -> u64 {
        self.counts.iter().sum()
    }
}

/// Everything the exporter exposes. Label keys are `&'static str` from the
/// detector vocabulary, so cardinality is fixed.
#[derive(Debug)]
struct Registry {
    events: BTreeMap<(&'static str, &'static str, &'static str), u64>,
    detection: Histogram,
    event_latency: Histogram,
    pipeline: Histogram,
    score: Histogram,
    gap: Histogram,
    forward: BTreeMap<usize, Histogram>,
    hits: BTreeMap<usize, u64>,
    labelled: BTreeMap<usize, u64>,
    errors: u64,
    requests: u64,
    closure_error: Option<f64>,
    queue_backlog: Option<f64>,
    memory_limit: Option<f64>,
    config: Option<(String, String)>,
}

impl Registry {
    fn new() -> Registry {
        let mut events = BTreeMap::new();
        for source in metrics::sources() {
            for (side, kind) in metrics::side_kind_pairs() {
                events.insert((source, side.as_str(), kind.as_str()), 0);
            }
        }
        Registry {
            events,
            detection: Histogram::new(&metrics::DETECTION_LATENCY),
            event_latency: Histogram::new(&metrics::EVENT_LATENCY),
            pipeline: Histogram::new(&metrics::PIPELINE_LATENCY),
            score: Histogram::new(&metrics::SCORE),
            gap: Histogram::new(&metrics::PAIRING_GAP),
            forward: BTreeMap::new(),
            hits: BTreeMap::new(),
            labelled: BTreeMap::new(),
            errors: 0,
            requests: 0,
            closure_error: None,
            queue_backlog: None,
            memory_limit: None,
            config: None,
        }
    }

    fn record(&mut self, e: &ExportEvent) {
        *self.events.entry((e.source.as_str(), e.side.as_str(), e.kind.as_str())).or_default() += 1;
        self.score.observe(e.score);
        self.detection.observe(e.detection_latency_s);
        self.gap.observe(e.pairing_gap_bars as f64);
        for &(horizon, ret, hit) in &e.forward_returns {
            self.record_outcome(horizon, ret, hit);
        }
    }

    /// A horizon beyond [`MAX_HORIZONS`] distinct ones counts as an error.
    fn record_outcome(&mut self, horizon: usize, ret: Option<f64>, hit: Option<bool>) {
        if !self.forward.contains_key(&horizon) && self.forward.len() >= MAX_HORIZONS {
            self.errors += 1;
            return;
        }
        let histogram =
            self.forward.entry(horizon).or_insert_with(|| Histogram::new(&metrics::FORWARD_RETURN));
        if let Some(r) = ret {
            histogram.observe(r);
        }
        if let Some(hit) = hit {
            *self.labelled.entry(horizon).or_default() += 1;
            *self.hits.entry(horizon).or_default() += u64::from(hit);
        }
    }
}

/// Shared, cloneable handle on the exporter's metrics.
#[derive(Clone, Debug)]
pub struct ExporterState {
    inner: Arc<Mutex<Registry>>,
}

impl Default for ExporterState {
    fn default() -> Self {
        ExporterState { inner: Arc::new(Mutex::new(Registry::new())) }
    }
}

impl ExporterState {
    pub fn new() -> ExporterState {
        ExporterState::default()
    }

    fn lock(&self) -> MutexGuard<'_, Registry> {
        // A panic elsewhere cannot leave counters half-updated in a way that
        // matters more than losing the exporter, so a poisoned lock is reused.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Counts an event and observes its score, latency, gap and outcomes.
    pub fn record_event(&self, event: &ExportEvent) {
        self.lock().record(event);
    }

    pub fn observe_event_latency(&self, seconds: f64) {
        self.lock().event_latency.observe(seconds);
    }

    pub fn observe_pipeline_latency(&self, seconds: f64) {
        self.lock().pipeline.observe(seconds);
    }

    pub fn add_requests(&self, n: u64) {
        self.lock().requests += n;
    }

    pub fn add_errors(&self, n: u64) {
        self.lock().errors += n;
    }

    /// Replaces the `divergence_config_info` series.
    pub fn set_config_info(&self, run_id: &str, version: &str) {
        self.lock().config = Some((run_id.to_string(), version.to_string()));
    }

    pub fn set_closure_error(&self, relative_difference: f64) {
        self.lock().closure_error = Some(relative_difference);
    }

    pub fn set_queue_backlog(&self, bars: f64) {
        self.lock().queue_backlog = Some(bars);
    }

    pub fn set_memory_limit_bytes(&self, bytes: f64) {
        self.lock().memory_limit = Some(bytes);
    }

    /// The exposition text (format 0.0.4), including this process's CPU
    /// and memory where `/proc` provides them.
    pub fn render(&self) -> String {
        let mut out = String::new();
        render_registry(&mut out, &self.lock());
        render_process(&mut out, read_process_stats());
        out
    }
}

fn render_registry(out: &mut String, r: &Registry) {
    header(out, &metrics::EVENTS_TOTAL);
    for ((source, side, kind), n) in &r.events {
        let labels = [("source", *source), ("side", *side), ("kind", *kind)];
        sample(out, metrics::EVENTS_TOTAL.name, &labels, *n as f64);
    }
    histogram(out, &metrics::DETECTION_LATENCY, &[], &r.detection);
    histogram(out, &metrics::EVENT_LATENCY, &[], &r.event_latency);
    histogram(out, &metrics::PIPELINE_LATENCY, &[], &r.pipeline);
    histogram(out, &metrics::SCORE, &[], &r.score);
    histogram(out, &metrics::PAIRING_GAP, &[], &r.gap);
    render_horizons(out, r);
    scalar(out, &metrics::ERRORS_TOTAL, Some(r.errors as f64));
    scalar(out, &metrics::REQUESTS_TOTAL, Some(r.requests as f64));
    scalar(out, &metrics::CLOSURE_ERROR, r.closure_error);
    scalar(out, &metrics::QUEUE_BACKLOG, r.queue_backlog);
    if let Some((run_id, version)) = &r.config {
        header(out, &metrics::CONFIG_INFO);
        sample(out, metrics::CONFIG_INFO.name, &[("run_id", run_id), ("version", version)], 1.0);
    }
    scalar(out, &metrics::MEMORY_LIMIT, r.memory_limit);
}

fn render_horizons(out: &mut String, r: &Registry) {
    if r.forward.is_empty() {
        return;
    }
    let horizons: Vec<String> = r.forward.keys().map(usize::to_string).collect();
    header(out, &metrics::FORWARD_RETURN);
    for (h, hist) in horizons.iter().zip(r.forward.values()) {
        histogram_samples(out, &metrics::FORWARD_RETURN, &[("horizon", h)], hist);
    }
    for (metric, counts) in
        [(&metrics::HITS_TOTAL, &r.hits), (&metrics::LABELLED_TOTAL, &r.labelled)]
    {
        header(out, metric);
        for h in r.forward.keys() {
            let n = counts.get(h).copied().unwrap_or(0);
            sample(out, metric.name, &[("horizon", &h.to_string())], n as f64);
        }
    }
}

fn header(out: &mut String, m: &Metric) {
    let _ = writeln!(out, "# HELP {} {}", m.name, escape_help(m.help));
    let _ = writeln!(out, "# TYPE {} {}", m.name, m.kind.as_str());
}

fn scalar(out: &mut String, m: &Metric, value: Option<f64>) {
    if let Some(v) = value {
        header(out, m);
        sample(out, m.name, &[], v);
    }
}

fn histogram(out: &mut String, m: &Metric, labels: &[(&str, &str)], h: &Histogram) {
    debug_assert_eq!(m.kind, MetricType::Histogram);
    header(out, m);
    histogram_samples(out, m, labels, h);
}

fn histogram_samples(out: &mut String, m: &Metric, labels: &[(&str, &str)], h: &Histogram) {
    let mut cumulative = 0;
    let bucket = m.bucket();
    for (i, count) in h.counts.iter().enumerate() {
        cumulative += count;
        let le = h.bounds.get(i).map_or("+Inf".to_string(), |b| format_value(*b));
        let mut with_le = labels.to_vec();
        with_le.push(("le", &le));
        sample(out, &bucket, &with_le, cumulative as f64);
    }
    sample(out, &m.sum(), labels, h.sum);
    sample(out, &m.count(), labels, h.count() as f64);
}

fn sample(out: &mut String, name: &str, labels: &[(&str, &str)], value: f64) {
    out.push_str(name);
    if !labels.is_empty() {
        let parts: Vec<String> =
            labels.iter().map(|(k, v)| format!("{k}=\"{}\"", escape_label(v))).collect();
        let _ = write!(out, "{{{}}}", parts.join(","));
    }
    let _ = writeln!(out, " {}", format_value(value));
}

/// A sample value as the text format spells it (`+Inf`, `-Inf`, `NaN`).
pub(crate) fn format_value(v: f64) -> String {
    match v {
        v if v.is_nan() => "NaN".into(),
        v if v == f64::INFINITY => "+Inf".into(),
        v if v == f64::NEG_INFINITY => "-Inf".into(),
        v => format!("{v}"),
    }
}

fn escape_label(v: &str) -> String {
    v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

fn escape_help(v: &str) -> String {
    v.replace('\\', "\\\\").replace('\n', "\\n")
}

/// CPU seconds and resident bytes of this process, from Linux `/proc`.
struct ProcessStats {
    cpu_seconds: Option<f64>,
    resident_bytes: Option<f64>,
}

fn read_process_stats() -> ProcessStats {
    ProcessStats { cpu_seconds: proc_cpu_seconds(), resident_bytes: proc_resident_bytes() }
}

/// utime + stime (fields 14 and 15 of `/proc/self/stat`) in clock ticks of
/// USER_HZ, which Linux fixes at 100 for user space.
fn proc_cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The command name (field 2) may hold spaces; fields after it are plain.
    let after_name = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

/// `VmRSS` of `/proc/self/status`, which the kernel reports in kB (KiB).
fn proc_resident_bytes() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024.0)
}

fn render_process(out: &mut String, stats: ProcessStats) {
    scalar(out, &metrics::PROCESS_CPU, stats.cpu_seconds);
    scalar(out, &metrics::PROCESS_RSS, stats.resident_bytes);
}

/// Serves `state` on `addr` until `stop` is set. Returns the bound address
/// (useful with port 0) and the server thread.
pub fn serve(
    addr: impl ToSocketAddrs,
    state: ExporterState,
    stop: Arc<AtomicBool>,
) -> io::Result<(SocketAddr, JoinHandle<()>)> {
    let listener = TcpListener::bind(addr)?;
    listener.set_nonblocking(true)?;
    let local = listener.local_addr()?;
    let handle = std::thread::Builder::new()
        .name("divergence-exporter".into())
        .spawn(move || accept_loop(&listener, &state, &stop))?;
    Ok((local, handle))
}

fn accept_loop(listener: &TcpListener, state: &ExporterState, stop: &AtomicBool) {
    while !stop.load(Ordering::Relaxed) {
        match listener.accept() {
            // A client that misbehaves only loses its own response.
            Ok((stream, _)) => drop(handle_connection(stream, state)),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => std::thread::sleep(POLL),
            Err(_) => std::thread::sleep(POLL),
        }
    }
}

fn handle_connection(mut stream: TcpStream, state: &ExporterState) -> io::Result<()> {
    stream.set_nonblocking(false)?;
    stream.set_read_timeout(Some(IO_TIMEOUT))?;
    stream.set_write_timeout(Some(IO_TIMEOUT))?;
    let head = read_head(&mut stream)?;
    let request_line = head.lines().next().unwrap_or_default();
    let mut parts = request_line.split_whitespace();
    let (method, path) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let path = path.split('?').next().unwrap_or("");
    let (status, content_type, body) = match (method, path) {
        ("GET", "/metrics") => ("200 OK", CONTENT_TYPE, state.render()),
        ("GET", "/") => ("200 OK", "text/plain; charset=utf-8", "metrics at /metrics\n".into()),
        ("GET", _) => ("404 Not Found", "text/plain; charset=utf-8", "not found\n".into()),
        _ => ("405 Method Not Allowed", "text/plain; charset=utf-8", "GET only\n".into()),
    };
    let response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(response.as_bytes())?;
    stream.flush()
}

/// The Content-Type of the text exposition format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Reads the request head (up to the blank line), at most 8 KiB.
fn read_head(stream: &mut TcpStream) -> io::Result<String> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") && buf.len() < MAX_REQUEST_BYTES {
        let n = stream.read(&mut chunk)?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    Ok(String::from_utf8_lossy(&buf).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(side: Side, kind: EventKind, score: f64) -> ExportEvent {
        ExportEvent {
            source: Source::Fusion,
            side,
            kind,
            score,
            detection_latency_s: 0.003,
            pairing_gap_bars: 4,
            forward_returns: vec![(10, Some(0.002), Some(true)), (20, Some(-0.001), Some(false))],
        }
    }

    fn line<'a>(text: &'a str, prefix: &str) -> &'a str {
        text.lines().find(|l| l.starts_with(prefix)).unwrap_or_else(|| panic!("{prefix}\n{text}"))
    }

    #[test]
    fn events_are_counted_by_source_side_and_kind_from_zero() {
        let state = ExporterState::new();
        let text = state.render();
        assert_eq!(text.lines().filter(|l| l.starts_with("divergence_events_total{")).count(), 15);
        state.record_event(&event(Side::Bull, EventKind::Regular, 55.0));
        state.record_event(&event(Side::Bull, EventKind::Regular, 65.0));
        let text = state.render();
        assert_eq!(
            line(
                &text,
                "divergence_events_total{source=\"FUSION\",side=\"bull\",kind=\"regular\"}"
            ),
            "divergence_events_total{source=\"FUSION\",side=\"bull\",kind=\"regular\"} 2"
        );
    }

    #[test]
    fn histograms_are_cumulative_with_sum_and_count() {
        let state = ExporterState::new();
        for score in [5.0, 55.0, 65.0, 100.0, 150.0, f64::NAN] {
            state.record_event(&event(Side::Bear, EventKind::Hidden, score));
        }
        let text = state.render();
        assert_eq!(
            line(&text, "divergence_score_bucket{le=\"10\"}"),
            "divergence_score_bucket{le=\"10\"} 1"
        );
        assert_eq!(
            line(&text, "divergence_score_bucket{le=\"60\"}"),
            "divergence_score_bucket{le=\"60\"} 2"
        );
        assert_eq!(
            line(&text, "divergence_score_bucket{le=\"100\"}"),
            "divergence_score_bucket{le=\"100\"} 4"
        );
        assert_eq!(
            line(&text, "divergence_score_bucket{le=\"+Inf\"}"),
            "divergence_score_bucket{le=\"+Inf\"} 5"
        );
        assert_eq!(line(&text, "divergence_score_sum"), "divergence_score_sum 375");
        assert_eq!(
            line(&text, "divergence_score_count"),
            "divergence_score_count 5",
            "NaN skipped"
        );
    }

    #[test]
    fn outcomes_are_kept_per_horizon_with_hits_over_labelled() {
        let state = ExporterState::new();
        let mut e = event(Side::Bull, EventKind::Regular, 50.0);
        state.record_event(&e);
        e.forward_returns = vec![(10, None, None), (20, Some(0.004), Some(true))];
        state.record_event(&e);
        let text = state.render();
        assert_eq!(
            line(&text, "divergence_hits_total{horizon=\"10\"}"),
            "divergence_hits_total{horizon=\"10\"} 1"
        );
        assert_eq!(
            line(&text, "divergence_labelled_total{horizon=\"10\"}"),
            "divergence_labelled_total{horizon=\"10\"} 1"
        );
        assert_eq!(
            line(&text, "divergence_hits_total{horizon=\"20\"}"),
            "divergence_hits_total{horizon=\"20\"} 1"
        );
        assert_eq!(
            line(&text, "divergence_labelled_total{horizon=\"20\"}"),
            "divergence_labelled_total{horizon=\"20\"} 2"
        );
        assert_eq!(
            line(&text, "divergence_forward_return_count{horizon=\"20\"}"),
            "divergence_forward_return_count{horizon=\"20\"} 2"
        );
    }

    #[test]
    fn horizons_past_the_cap_are_counted_as_errors() {
        let state = ExporterState::new();
        let mut e = event(Side::Bull, EventKind::Regular, 50.0);
        e.forward_returns = (1..=MAX_HORIZONS + 2).map(|h| (h, Some(0.0), Some(false))).collect();
        state.record_event(&e);
        let text = state.render();
        assert_eq!(text.matches("divergence_labelled_total{").count(), MAX_HORIZONS);
        assert_eq!(line(&text, "divergence_errors_total "), "divergence_errors_total 2");
    }

    #[test]
    fn config_info_is_replaced_and_label_values_are_escaped() {
        let state = ExporterState::new();
        state.set_config_info("old", "0001-old");
        state.set_config_info("r\"1", "0002-r\\1");
        let text = state.render();
        assert_eq!(text.matches("divergence_config_info{").count(), 1);
        assert!(
            text.contains("divergence_config_info{run_id=\"r\\\"1\",version=\"0002-r\\\\1\"} 1")
        );
    }

    #[test]
    fn gauges_appear_only_once_set() {
        let state = ExporterState::new();
        assert!(!state.render().contains("divergence_queue_backlog"));
        state.set_queue_backlog(12.0);
        state.set_closure_error(0.03);
        let text = state.render();
        assert_eq!(line(&text, "divergence_queue_backlog "), "divergence_queue_backlog 12");
        assert_eq!(
            line(&text, "divergence_metric_closure_error "),
            "divergence_metric_closure_error 0.03"
        );
    }

    #[test]
    fn every_family_has_help_and_type_before_its_samples() {
        let state = ExporterState::new();
        state.record_event(&event(Side::Bull, EventKind::Regular, 50.0));
        let text = state.render();
        let mut typed = std::collections::HashSet::new();
        for l in text.lines() {
            if let Some(rest) = l.strip_prefix("# TYPE ") {
                assert!(typed.insert(rest.split(' ').next().unwrap().to_string()), "duplicate {l}");
            } else if !l.starts_with('#') {
                let name = l.split(['{', ' ']).next().unwrap();
                let family = ["_bucket", "_sum", "_count"]
                    .iter()
                    .find_map(|s| name.strip_suffix(s).filter(|f| typed.contains(*f)))
                    .unwrap_or(name);
                assert!(typed.contains(family), "{l} before its TYPE");
            }
        }
    }

    #[test]
    fn process_stats_are_read_from_proc_on_linux() {
        if !std::path::Path::new("/proc/self/stat").exists() {
            eprintln!("skipped: no /proc");
            return;
        }
        let stats = read_process_stats();
        assert!(stats.cpu_seconds.unwrap() >= 0.0);
        assert!(stats.resident_bytes.unwrap() > 1024.0 * 1024.0, "a test binary uses over 1 MiB");
    }

    fn get(addr: SocketAddr, request: &str) -> String {
        let mut s = TcpStream::connect(addr).unwrap();
        s.write_all(request.as_bytes()).unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        out
    }

    #[test]
    fn the_server_answers_metrics_404_and_405_and_stops_on_the_flag() {
        let state = ExporterState::new();
        state.add_requests(7);
        let stop = Arc::new(AtomicBool::new(false));
        let (addr, handle) = serve("127.0.0.1:0", state, stop.clone()).unwrap();
        let ok = get(addr, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
        assert!(ok.starts_with("HTTP/1.1 200 OK\r\n"), "{ok}");
        assert!(ok.contains(&format!("Content-Type: {CONTENT_TYPE}\r\n")));
        assert!(ok.contains("\ndivergence_requests_total 7\n"));
        assert!(get(addr, "GET /nope HTTP/1.0\r\n\r\n").starts_with("HTTP/1.1 404"));
        assert!(get(addr, "POST /metrics HTTP/1.0\r\n\r\n").starts_with("HTTP/1.1 405"));
        stop.store(true, Ordering::Relaxed);
        handle.join().unwrap();
        assert!(TcpStream::connect(addr).is_err(), "listener closed");
    }

    #[test]
    fn a_silent_client_is_dropped_after_the_timeout_and_others_are_served() {
        let stop = Arc::new(AtomicBool::new(false));
        let (addr, handle) = serve("127.0.0.1:0", ExporterState::new(), stop.clone()).unwrap();
        let _silent = TcpStream::connect(addr).unwrap();
        let start = std::time::Instant::now();
        let reply = get(addr, "GET /metrics HTTP/1.0\r\n\r\n");
        assert!(reply.starts_with("HTTP/1.1 200"));
        assert!(start.elapsed() < IO_TIMEOUT + Duration::from_secs(2));
        stop.store(true, Ordering::Relaxed);
        handle.join().unwrap();
    }
}
