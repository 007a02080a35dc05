//! `promtool test rules` input generated from the same [`SloConfig`] as the
//! rules, so every alert is shown to fire when its level is crossed and to
//! stay quiet otherwise.
//!
//! For each indicator and each level side, one test group feeds synthetic
//! series that hold a quiet value long enough for every window to fill,
//! then switch to a value that crosses the level. Checks:
//!
//! - at the end of the quiet phase no alert of the indicator fires;
//! - one minute before `for:` has elapsed after the switch, the tested
//!   alert is still silent (the condition cannot hold earlier than the switch);
//!   for indicators without a range window (gauges), it fires exactly when
//!   `for:` has elapsed; windowed indicators cross at a time inside the
//!   window that depends on the mix of old and new samples, so for them the
//!   `for:` check is this lower bound only;
//! - once the windows hold only the new value and every `for:` has elapsed,
//!   each level fires exactly when the value breaches it, with the labels
//!   and rendered annotations of the rule.
//!
//! Series are designed so that the indicator's PromQL value is known in
//! closed form: histogram buckets are filled so that `histogram_quantile`
//! interpolates to a chosen value (formula below), counter ratios use
//! integer counts per minute, gauges hold the value itself.

use super::alerts::{alert_name, description, Severity};
use super::indicators::Indicator;
use super::metrics::{self, Metric, JOB, LABEL_HORIZON};
use super::slo::{duration_seconds, Level, Objective, SloConfig};
use super::MonitorError;
use serde::Serialize;
use std::collections::BTreeMap;

/// Observations (or requests) per minute in designed series.
const PER_MINUTE: f64 = 10_000.0;
/// The horizon label value used for per-horizon indicators.
const TEST_HORIZON: &str = "10";
/// Memory limit used to express memory utilisation, in bytes.
const TEST_MEMORY_LIMIT: f64 = 1e9;

/// A promtool unit-test file.
#[derive(Debug, Serialize)]
pub struct RuleTestFile {
    pub rule_files: Vec<String>,
    pub evaluation_interval: String,
    pub tests: Vec<TestGroup>,
}

/// One test group: input series and the alerts expected at given times.
#[derive(Debug, Serialize)]
pub struct TestGroup {
    pub interval: String,
    pub input_series: Vec<InputSeries>,
    pub alert_rule_test: Vec<AlertTest>,
}

#[derive(Debug, Serialize)]
pub struct InputSeries {
    pub series: String,
    pub values: String,
}

#[derive(Debug, Serialize)]
pub struct AlertTest {
    pub eval_time: String,
    pub alertname: String,
    pub exp_alerts: Vec<ExpectedAlert>,
}

#[derive(Debug, Serialize)]
pub struct ExpectedAlert {
    pub exp_labels: BTreeMap<String, String>,
    pub exp_annotations: BTreeMap<String, String>,
}

/// The unit-test file for the rules of `slo`, which live at `rules_file`
/// relative to the test file.
pub fn rule_tests_yaml(slo: &SloConfig, rules_file: &str) -> Result<String, MonitorError> {
    let mut tests = Vec::new();
    for indicator in Indicator::ALL {
        tests.extend(indicator_groups(slo, indicator)?);
    }
    let file = RuleTestFile {
        rule_files: vec![rules_file.to_string()],
        evaluation_interval: "1m".into(),
        tests,
    };
    Ok(serde_yaml::to_string(&file).expect("rule tests always serialize"))
}

/// One series of a design: a counter growing by `step` per minute, or a
/// gauge holding `step`.
#[derive(Clone, Debug, PartialEq)]
struct Track {
    selector: String,
    counter: bool,
    step: f64,
}

/// Series that make an indicator evaluate to `value`.
#[derive(Clone, Debug, PartialEq)]
struct Design {
    tracks: Vec<Track>,
    value: f64,
}

fn indicator_groups(slo: &SloConfig, ind: Indicator) -> Result<Vec<TestGroup>, MonitorError> {
    let fail = |message: String| MonitorError::RuleTest { indicator: ind.key(), message };
    let objective = ind.objective(slo);
    let quiet_value =
        quiet(objective).ok_or_else(|| fail("no quiet value between the levels".into()))?;
    let quiet_design = design(slo, ind, quiet_value).map_err(fail)?;
    if breached(objective, quiet_design.value).next().is_some() {
        return Err(fail(format!("the quiet value {} breaches a level", quiet_design.value)));
    }
    let timeline = Timeline::new(slo, ind);
    let mut groups = Vec::new();
    for (severity, value) in crossing_values(objective) {
        let crossing = design(slo, ind, value).map_err(fail)?;
        groups.push(test_group(slo, ind, severity, &quiet_design, &crossing, &timeline));
    }
    Ok(groups)
}

/// Sample times in minutes: the quiet phase, the checks and the series end.
struct Timeline {
    switch: u64,
    fire: u64,
    end: u64,
}

impl Timeline {
    fn new(slo: &SloConfig, ind: Indicator) -> Timeline {
        let minutes = |d: &str| duration_seconds(d).unwrap_or(0).div_ceil(60);
        let window = ind.window(slo).map_or(0, minutes);
        let o = ind.objective(slo);
        let longest_for = [&o.warning, &o.rollback]
            .into_iter()
            .flatten()
            .map(|l| minutes(&l.for_duration))
            .max()
            .unwrap_or(0);
        let switch = window + longest_for + 10;
        let fire = switch + window + longest_for + 2;
        Timeline { switch, fire, end: fire + 5 }
    }
}

fn test_group(
    slo: &SloConfig,
    ind: Indicator,
    tested: Severity,
    quiet: &Design,
    crossing: &Design,
    t: &Timeline,
) -> TestGroup {
    let mut checks = quiet_checks(slo, ind, t);
    checks.extend(pending_checks(slo, ind, tested, crossing, t));
    checks.extend(firing_checks(slo, ind, crossing, t));
    TestGroup {
        interval: "1m".into(),
        input_series: input_series(quiet, crossing, t),
        alert_rule_test: checks,
    }
}

/// Every level of the indicator is silent at the end of the quiet phase.
fn quiet_checks(slo: &SloConfig, ind: Indicator, t: &Timeline) -> Vec<AlertTest> {
    let objective = ind.objective(slo);
    let set = Severity::ALL.into_iter().filter(|s| s.level(objective).is_some());
    set.map(|severity| alert_test(ind, severity, t.switch - 1, vec![])).collect()
}

/// The tested level is silent until `for:` has elapsed after the switch, and
/// (without a range window) fires exactly then.
fn pending_checks(
    slo: &SloConfig,
    ind: Indicator,
    tested: Severity,
    crossing: &Design,
    t: &Timeline,
) -> Vec<AlertTest> {
    let level = tested.level(ind.objective(slo)).expect("crossing values exist for set levels");
    let for_minutes = duration_seconds(&level.for_duration).unwrap_or(0).div_ceil(60);
    let mut checks = Vec::new();
    if for_minutes > 0 {
        checks.push(alert_test(ind, tested, t.switch + for_minutes - 1, vec![]));
    }
    if ind.window(slo).is_none() {
        // Without a window the condition holds from the switch on.
        let expected = vec![expected_alert(slo, ind, tested, level, crossing.value)];
        checks.push(alert_test(ind, tested, t.switch + for_minutes, expected));
    }
    checks
}

/// Once the windows hold only the crossing value, each level fires exactly
/// when the value breaches it.
fn firing_checks(
    slo: &SloConfig,
    ind: Indicator,
    crossing: &Design,
    t: &Timeline,
) -> Vec<AlertTest> {
    let mut checks = Vec::new();
    for severity in Severity::ALL {
        let Some(level) = severity.level(ind.objective(slo)) else { continue };
        let expected = if level.breached_by(crossing.value) {
            vec![expected_alert(slo, ind, severity, level, crossing.value)]
        } else {
            vec![]
        };
        checks.push(alert_test(ind, severity, t.fire, expected));
    }
    checks
}

fn alert_test(ind: Indicator, sev: Severity, minute: u64, exp: Vec<ExpectedAlert>) -> AlertTest {
    AlertTest { eval_time: format!("{minute}m"), alertname: alert_name(ind, sev), exp_alerts: exp }
}

fn expected_alert(
    slo: &SloConfig,
    ind: Indicator,
    severity: Severity,
    level: &Level,
    value: f64,
) -> ExpectedAlert {
    let mut labels = BTreeMap::from([
        ("severity".to_string(), severity.as_str().to_string()),
        ("slo".to_string(), ind.key().to_string()),
    ]);
    for label in ind.group_labels() {
        labels.insert(label.to_string(), TEST_HORIZON.to_string());
    }
    let rule = super::alerts::alert_rules(slo)
        .into_iter()
        .find(|r| r.alert == alert_name(ind, severity))
        .expect("every level has a rule");
    let text = description(slo, ind, severity, level, &format_g3(value))
        .replace("{{ $labels.horizon }}", TEST_HORIZON);
    let annotations = BTreeMap::from([
        ("summary".to_string(), rule.annotations["summary"].clone()),
        ("description".to_string(), text),
    ]);
    ExpectedAlert { exp_labels: labels, exp_annotations: annotations }
}

/// Quiet phase then crossing phase, sample by sample.
fn input_series(quiet: &Design, crossing: &Design, t: &Timeline) -> Vec<InputSeries> {
    let (first, second) = (t.switch, t.end + 1 - t.switch);
    quiet
        .tracks
        .iter()
        .zip(&crossing.tracks)
        .map(|(a, b)| InputSeries {
            series: a.selector.clone(),
            values: if a.counter {
                let start = (first - 1) as f64 * a.step + b.step;
                format!("0+{}x{} {start}+{}x{}", a.step, first - 1, b.step, second - 1)
            } else {
                format!("{}+0x{} {}+0x{}", a.step, first - 1, b.step, second - 1)
            },
        })
        .collect()
}

/// A value that breaches no level: between the lower and upper warning bounds.
fn quiet(o: &Objective) -> Option<f64> {
    let bound = |f: fn(&Level) -> Option<f64>| {
        [&o.warning, &o.rollback].into_iter().flatten().filter_map(f)
    };
    let lo = bound(|l| l.below).reduce(f64::max);
    let hi = bound(|l| l.above).reduce(f64::min);
    let floor_gap = |l: f64| bound(|l| l.below).map(|r| l - r).fold(0.0, f64::max);
    match (lo, hi) {
        (Some(l), Some(h)) if l > 0.0 => Some((l * h).sqrt()),
        (Some(l), Some(h)) => Some((l + h) / 2.0),
        (None, Some(h)) => Some(if h > 0.0 { h / 2.0 } else { h - 1.0 }),
        (Some(l), None) => Some(l + non_zero(floor_gap(l) / 2.0, l)),
        (None, None) => None,
    }
}

/// `gap`, or a step scaled to `x` when the gap is zero.
fn non_zero(gap: f64, x: f64) -> f64 {
    if gap > 0.0 {
        gap
    } else if x != 0.0 {
        x.abs() * 0.5
    } else {
        1.0
    }
}

/// For each set level side, a value that crosses it: between warning and
/// rollback for the warning level, past rollback by half that gap for the
/// rollback level.
fn crossing_values(o: &Objective) -> Vec<(Severity, f64)> {
    let mut out = Vec::new();
    let (w, r) = (o.warning.as_ref(), o.rollback.as_ref());
    for side in [-1.0, 1.0] {
        let pick = |l: Option<&Level>| l.and_then(|l| if side < 0.0 { l.below } else { l.above });
        let (wb, rb) = (pick(w), pick(r));
        if let Some(wb) = wb {
            out.push((
                Severity::Warning,
                rb.map_or(wb + side * non_zero(0.0, wb), |rb| (wb + rb) / 2.0),
            ));
        }
        if let Some(rb) = rb {
            let past = rb + side * non_zero(wb.map_or(0.0, |wb| (rb - wb).abs() / 2.0), rb);
            let past = if side < 0.0 && past < 0.0 && rb > 0.0 { rb / 2.0 } else { past };
            out.push((Severity::Rollback, past));
        }
    }
    out
}

fn breached(o: &Objective, value: f64) -> impl Iterator<Item = &Level> {
    [&o.warning, &o.rollback].into_iter().flatten().filter(move |l| l.breached_by(value))
}

/// Series that make `ind` evaluate to (about) `value`; the design reports
/// the exact value its integer counts produce.
fn design(slo: &SloConfig, ind: Indicator, value: f64) -> Result<Design, String> {
    let job = format!("job=\"{JOB}\",instance=\"svc\"");
    let gauge = |selector: String, step: f64| Track { selector, counter: false, step };
    let counter = |selector: String, step: f64| Track { selector, counter: true, step };
    let exact = |tracks: Vec<Track>| Ok(Design { tracks, value });
    match ind {
        Indicator::EventLatencyP95 => histogram(&metrics::EVENT_LATENCY, 0.95, value),
        Indicator::PipelineLatencyP95 => histogram(&metrics::PIPELINE_LATENCY, 0.95, value),
        Indicator::ComputeLatencyP95 => histogram(&metrics::DETECTION_LATENCY, 0.95, value),
        Indicator::MedianScore => histogram(&metrics::SCORE, 0.5, value),
        Indicator::ClosureError => exact(vec![gauge(metrics::CLOSURE_ERROR.name.into(), value)]),
        Indicator::QueueBacklog => exact(vec![gauge(metrics::QUEUE_BACKLOG.name.into(), value)]),
        Indicator::Availability => {
            exact(vec![gauge(format!("{}{{{job}}}", metrics::UP.name), value)])
        }
        Indicator::ErrorRate => {
            Ok(ratio(&metrics::ERRORS_TOTAL, &metrics::REQUESTS_TOTAL, "", value))
        }
        Indicator::HitRate => {
            let horizon = format!("{LABEL_HORIZON}=\"{TEST_HORIZON}\"");
            Ok(ratio(&metrics::HITS_TOTAL, &metrics::LABELLED_TOTAL, &horizon, value))
        }
        Indicator::EventsPerHour => {
            let labels = "source=\"FUSION\",side=\"bull\",kind=\"regular\"";
            exact(vec![counter(
                format!("{}{{{labels}}}", metrics::EVENTS_TOTAL.name),
                value / 60.0,
            )])
        }
        Indicator::CpuUtilisation => {
            let step = value * slo.cpu_cores * 60.0;
            exact(vec![counter(format!("{}{{{job}}}", metrics::PROCESS_CPU.name), step)])
        }
        Indicator::MemoryUtilisation => exact(vec![
            gauge(format!("{}{{{job}}}", metrics::PROCESS_RSS.name), value * TEST_MEMORY_LIMIT),
            gauge(format!("{}{{{job}}}", metrics::MEMORY_LIMIT.name), TEST_MEMORY_LIMIT),
        ]),
    }
}

/// Two counters whose rate ratio is `k / PER_MINUTE`, `k` the nearest integer.
fn ratio(num: &Metric, den: &Metric, labels: &str, value: f64) -> Design {
    let k = (value * PER_MINUTE).round();
    let track = |m: &Metric, step| Track {
        selector: format!("{}{{{labels}}}", m.name),
        counter: true,
        step,
    };
    Design { tracks: vec![track(num, k), track(den, PER_MINUTE)], value: k / PER_MINUTE }
}

/// Cumulative bucket counters per minute whose `q` quantile is about `value`.
///
/// With bucket `(lo, hi]` holding `value`, `f = (value - lo) / (hi - lo)`,
/// `N` observations per minute, `c` of them at or below `lo` and `n` in the
/// bucket, Prometheus interpolates `lo + (hi - lo) * (q*N - c) / n`. For
/// `f <= q` all observations sit at or below `hi` and `c = N (q - f) / (1 - f)`;
/// otherwise `c = 0`, `n = q N / f` and the rest sit above `hi`. Counts are
/// rounded to integers and the value recomputed from them. The first bucket
/// (lower edge 0) and values past the last finite bound cannot be designed.
fn histogram(m: &Metric, q: f64, value: f64) -> Result<Design, String> {
    let bounds = m.buckets;
    let k = bounds.iter().position(|&b| value <= b).filter(|&k| k > 0).ok_or_else(|| {
        let (first, last) = (bounds[0], bounds[bounds.len() - 1]);
        format!(
            "value {value} is outside ({first}, {last}] of {}'s buckets; \
             a level there cannot be told apart",
            m.name
        )
    })?;
    let (lo, hi) = (bounds[k - 1], bounds[k]);
    let (below, inside) = split_counts((value - lo) / (hi - lo), q);
    let exact = lo + (hi - lo) * (q * PER_MINUTE - below) / inside;
    Ok(Design { tracks: bucket_tracks(m, k, below, inside), value: exact })
}

/// `(c, n)`: observations at or below the bucket's lower edge and inside it,
/// for a quantile `q` at fraction `f` of the bucket (see [`histogram`]).
fn split_counts(f: f64, q: f64) -> (f64, f64) {
    if f <= q {
        let c = (PER_MINUTE * (q - f) / (1.0 - f)).round();
        (c, PER_MINUTE - c)
    } else {
        (0.0, (q * PER_MINUTE / f).round())
    }
}

/// Cumulative per-minute counts of every bucket: `below` in bucket `k - 1`,
/// `inside` in bucket `k`, the rest above it.
fn bucket_tracks(m: &Metric, k: usize, below: f64, inside: f64) -> Vec<Track> {
    let cumulative = |j: usize| match j {
        j if j + 1 == k => below,
        j if j < k => 0.0,
        j if j == k => below + inside,
        _ => PER_MINUTE,
    };
    let les = m.buckets.iter().map(|b| b.to_string()).chain(["+Inf".to_string()]);
    les.enumerate()
        .map(|(j, le)| Track {
            selector: format!("{}{{le=\"{le}\"}}", m.bucket()),
            counter: true,
            step: cumulative(j),
        })
        .collect()
}

/// Go's `%.3g`: three significant digits, trailing zeros removed, exponent
/// form (`1.5e+03`) when the exponent is below -4 or at least 3.
pub(crate) fn format_g3(x: f64) -> String {
    if x == 0.0 || !x.is_finite() {
        return match x {
            v if v.is_nan() => "NaN".into(),
            v if v == f64::INFINITY => "+Inf".into(),
            v if v == f64::NEG_INFINITY => "-Inf".into(),
            _ => "0".into(),
        };
    }
    let sci = format!("{x:.2e}");
    let (mantissa, exp) = sci.split_once('e').expect("LowerExp has an exponent");
    let exp: i32 = exp.parse().expect("LowerExp exponent is an integer");
    if !(-4..3).contains(&exp) {
        let sign = if exp < 0 { '-' } else { '+' };
        return format!("{}e{sign}{:02}", trim_fraction(mantissa), exp.abs());
    }
    trim_fraction(&format!("{x:.*}", (2 - exp) as usize))
}

fn trim_fraction(s: &str) -> String {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_g3_matches_go_printf() {
        let cases = [
            (0.0275, "0.0275"),
            (650.0, "650"),
            (1500.0, "1.5e+03"),
            (0.5, "0.5"),
            (0.0000125, "1.25e-05"),
            (999.6, "1e+03"),
            (0.00012345, "0.000123"),
            (-3.0, "-3"),
            (0.0, "0"),
            (f64::NAN, "NaN"),
        ];
        for (x, want) in cases {
            assert_eq!(format_g3(x), want, "{x}");
        }
    }

    #[test]
    fn a_histogram_design_interpolates_to_the_requested_quantile() {
        // 0.0275 lies in (0.02, 0.05]: f = 0.25 <= 0.95, c = 10000 * 0.7 / 0.75 = 9333.
        let d = histogram(&metrics::DETECTION_LATENCY, 0.95, 0.0275).unwrap();
        let steps: Vec<f64> = d.tracks.iter().map(|t| t.step).collect();
        assert_eq!(steps, [0.0, 0.0, 0.0, 0.0, 9333.0, 10000.0, 10000.0, 10000.0, 10000.0]);
        assert!((d.value - (0.02 + 0.03 * (9500.0 - 9333.0) / 667.0)).abs() < 1e-15);
        assert_eq!(format_g3(d.value), "0.0275");
    }

    #[test]
    fn a_value_high_in_its_bucket_puts_the_rest_above_it() {
        // 0.001 in (0.0005, 0.001]: f = 1 > 0.95, n = 9500 inside, 500 above.
        let d = histogram(&metrics::EVENT_LATENCY, 0.95, 0.001).unwrap();
        assert_eq!(d.tracks[1].step, 9500.0);
        assert_eq!(d.tracks[2].step, 10000.0);
        assert_eq!(d.value, 0.001);
    }

    #[test]
    fn values_outside_the_buckets_cannot_be_designed() {
        assert!(histogram(&metrics::DETECTION_LATENCY, 0.95, 0.0005).is_err(), "first bucket");
        let err = histogram(&metrics::DETECTION_LATENCY, 0.95, 1.0).unwrap_err();
        assert!(err.contains("outside (0.001, 0.25]"), "{err}");
    }

    #[test]
    fn crossing_values_sit_between_and_past_the_levels() {
        let slo = SloConfig::default();
        assert_eq!(
            crossing_values(&slo.compute_latency_p95_seconds),
            [(Severity::Warning, 0.0125), (Severity::Rollback, 0.0275)]
        );
        assert_eq!(
            crossing_values(&slo.events_per_hour),
            [
                (Severity::Warning, 3.0),
                (Severity::Rollback, 0.5),
                (Severity::Warning, 350.0),
                (Severity::Rollback, 650.0)
            ]
        );
        assert_eq!(crossing_values(&slo.queue_backlog), [(Severity::Warning, 1500.0)]);
        assert_eq!(quiet(&slo.availability), Some(0.9975));
        assert_eq!(quiet(&slo.events_per_hour), Some(1000f64.sqrt()));
    }

    #[test]
    fn counters_continue_across_the_switch() {
        let t = Timeline { switch: 3, fire: 5, end: 6 };
        let a = Design {
            tracks: vec![Track { selector: "x".into(), counter: true, step: 2.0 }],
            value: 0.0,
        };
        let b = Design {
            tracks: vec![Track { selector: "x".into(), counter: true, step: 5.0 }],
            value: 0.0,
        };
        // Samples 0, 2, 4 then 9, 14, 19, 24 at minutes 3..6.
        assert_eq!(input_series(&a, &b, &t)[0].values, "0+2x2 9+5x3");
    }

    #[test]
    fn a_level_beyond_the_buckets_is_reported_as_untestable() {
        let mut slo = SloConfig::default();
        slo.compute_latency_p95_seconds.rollback =
            Some(Level { below: None, above: Some(0.3), for_duration: "10m".into() });
        let err = rule_tests_yaml(&slo, "r.yaml").unwrap_err().to_string();
        assert!(err.contains("compute_latency_p95_seconds") && err.contains("outside"), "{err}");
    }
}
