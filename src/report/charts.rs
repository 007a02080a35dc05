//! The report's two data charts besides the heat maps: the per-bucket
//! dot-and-whisker plot of test accuracy ([`bucket_chart`]) and the event
//! timeline over price ([`timeline_chart`], with [`timeline_legend`]).
//!
//! Both are plain SVG from [`super::svg`]. Axis ranges come from the data
//! with fixed rounding rules, so the same inputs draw the same chart.

use super::html::fmt_fixed;
use super::inputs::{BucketInputs, Timeline, TimelineEvent};
#[cfg(test)]
use super::svg::px;
use super::svg::{path_through, Anchor, Linear, Paint, Svg};
use crate::core::TsNs;
use std::collections::BTreeMap;

/// The x range of the bucket chart: every finite accuracy, interval end
/// and base rate, plus 0.5, widened to multiples of 0.05 inside [0, 1].
fn accuracy_domain(values: &[f64]) -> (f64, f64) {
    let finite = values.iter().copied().filter(|v| v.is_finite());
    let (lo, hi) = finite.fold((0.5f64, 0.5f64), |(lo, hi), v| (lo.min(v), hi.max(v)));
    let lo = ((lo / 0.05 + 1e-9).floor() * 0.05).max(0.0);
    let hi = ((hi / 0.05 - 1e-9).ceil() * 0.05).min(1.0);
    if hi - lo < 0.1 {
        ((lo - 0.05).max(0.0), (hi + 0.05).min(1.0))
    } else {
        (lo, hi)
    }
}

/// Tick positions every 0.05 on narrow ranges and 0.1 on wide ones.
fn accuracy_ticks((lo, hi): (f64, f64)) -> Vec<f64> {
    let step = if hi - lo <= 0.4 { 0.05 } else { 0.1 };
    let first = (lo / step - 1e-9).ceil() as i64;
    let last = (hi / step + 1e-9).floor() as i64;
    (first..=last).map(|k| k as f64 * step).collect()
}

const ROW_H: f64 = 24.0;
const PLOT_W: f64 = 420.0;
const TEXT_W: f64 = 120.0;

/// Test accuracy with its Wilson interval for every bucket at `horizon`:
/// a filled dot for a bucket's own point, a hollow one for a fallback,
/// an orange tick at the bucket's base rate and a dashed line at the
/// global chosen point's test accuracy (`global_acc`, skipped when NaN).
pub fn bucket_chart(buckets: &[BucketInputs], horizon: usize, global_acc: f64) -> String {
    let rows: Vec<(&BucketInputs, Option<&super::inputs::BucketHorizon>)> =
        buckets.iter().map(|b| (b, b.test.iter().find(|t| t.horizon == horizon))).collect();
    let mut values = vec![global_acc];
    for t in rows.iter().filter_map(|r| r.1) {
        values.extend([t.accuracy, t.wilson_lo, t.wilson_hi, t.base_rate]);
    }
    let domain = accuracy_domain(&values);
    let longest = buckets.iter().map(|b| b.label.chars().count()).max().unwrap_or(0);
    let left = 12.0 + (longest as f64 * 6.4).min(380.0);
    let top = 10.0;
    let height = top + ROW_H * rows.len() as f64 + 34.0;
    let x = Linear::new(domain, (left, left + PLOT_W));
    let mut svg =
        Svg::new(left + PLOT_W + TEXT_W, height, &format!("bucket accuracy, horizon {horizon}"));

    // Grid and reference lines under the data.
    let bottom = top + ROW_H * rows.len() as f64;
    for t in accuracy_ticks(domain) {
        let dash = if (t - 0.5).abs() < 1e-9 { None } else { Some("2 3") };
        let colour = if dash.is_none() { "#888" } else { "#ddd" };
        svg.line((x.map(t), top), (x.map(t), bottom), colour, dash);
        svg.text((x.map(t), bottom + 14.0), 10.0, Anchor::Middle, "#333", &fmt_fixed(t, 2));
    }
    svg.text((left + PLOT_W / 2.0, bottom + 29.0), 11.0, Anchor::Middle, "#111", "test accuracy");
    if global_acc.is_finite() {
        let gx = x.map(global_acc);
        svg.line((gx, top), (gx, bottom), "#2166ac", Some("6 3"));
    }

    // One row per bucket.
    for (i, (bucket, figures)) in rows.iter().enumerate() {
        let cy = top + ROW_H * (i as f64 + 0.5);
        svg.text((left - 8.0, cy + 4.0), 11.0, Anchor::End, "#111", &bucket.label);
        match figures {
            Some(t) => bucket_row(&mut svg, &x, (left + PLOT_W + 8.0, cy), bucket, t),
            None => svg.text((left + 4.0, cy + 4.0), 10.0, Anchor::Start, "#888", "no figures"),
        }
    }
    svg.finish()
}

fn bucket_row(
    svg: &mut Svg,
    x: &Linear,
    (text_x, cy): (f64, f64),
    bucket: &BucketInputs,
    t: &super::inputs::BucketHorizon,
) {
    if t.wilson_lo.is_finite() && t.wilson_hi.is_finite() {
        svg.line((x.map(t.wilson_lo), cy), (x.map(t.wilson_hi), cy), "#333", None);
        for end in [t.wilson_lo, t.wilson_hi] {
            svg.line((x.map(end), cy - 4.0), (x.map(end), cy + 4.0), "#333", None);
        }
    }
    if t.base_rate.is_finite() {
        svg.line((x.map(t.base_rate), cy - 7.0), (x.map(t.base_rate), cy + 7.0), "#e66101", None);
    }
    let title = format!(
        "{}: accuracy {} [{}, {}], base rate {}, {} labelled of {} events{}",
        bucket.label,
        fmt_fixed(t.accuracy, 3),
        fmt_fixed(t.wilson_lo, 3),
        fmt_fixed(t.wilson_hi, 3),
        fmt_fixed(t.base_rate, 3),
        t.labelled,
        t.events,
        bucket.fallback.as_ref().map_or(String::new(), |f| format!("; fallback: {f}"))
    );
    if t.accuracy.is_finite() {
        let paint = match bucket.fallback {
            Some(_) => Paint { fill: Some("#fff"), stroke: Some(("#333", 1.5)) },
            None => Paint { fill: Some("#333"), stroke: None },
        };
        svg.circle((x.map(t.accuracy), cy), 4.5, paint, Some(&title));
    }
    let text = format!("{} n={}", fmt_fixed(t.accuracy, 3), t.labelled);
    svg.text((text_x, cy + 4.0), 10.0, Anchor::Start, "#333", &text);
}

/// How one event kind is drawn.
struct Marker {
    kind: &'static str,
    label: &'static str,
    colour: &'static str,
    shape: Shape,
    filled: bool,
}

#[derive(Copy, Clone)]
enum Shape {
    Up,
    Down,
    Diamond,
    Circle,
}

const MARKERS: [Marker; 5] = [
    Marker {
        kind: "regular_bull",
        label: "regular bull",
        colour: "#1a9850",
        shape: Shape::Up,
        filled: true,
    },
    Marker {
        kind: "hidden_bull",
        label: "hidden bull",
        colour: "#1a9850",
        shape: Shape::Up,
        filled: false,
    },
    Marker {
        kind: "regular_bear",
        label: "regular bear",
        colour: "#d73027",
        shape: Shape::Down,
        filled: true,
    },
    Marker {
        kind: "hidden_bear",
        label: "hidden bear",
        colour: "#d73027",
        shape: Shape::Down,
        filled: false,
    },
    Marker {
        kind: "conflict",
        label: "OFI-CVD conflict",
        colour: "#7b3294",
        shape: Shape::Diamond,
        filled: true,
    },
];

const OTHER: Marker =
    Marker { kind: "other", label: "other", colour: "#888888", shape: Shape::Circle, filled: true };

fn marker_of(kind: &str) -> &'static Marker {
    MARKERS.iter().find(|m| m.kind == kind).unwrap_or(&OTHER)
}

fn draw_marker(svg: &mut Svg, m: &Marker, (cx, cy): (f64, f64), title: Option<&str>) {
    let r = 6.0;
    let paint = if m.filled {
        Paint { fill: Some(m.colour), stroke: Some(("#fff", 0.8)) }
    } else {
        Paint { fill: Some("#fff"), stroke: Some((m.colour, 1.8)) }
    };
    match m.shape {
        Shape::Up => svg.polygon(
            &[(cx, cy - r), (cx + r, cy + r * 0.8), (cx - r, cy + r * 0.8)],
            paint,
            title,
        ),
        Shape::Down => svg.polygon(
            &[(cx, cy + r), (cx + r, cy - r * 0.8), (cx - r, cy - r * 0.8)],
            paint,
            title,
        ),
        Shape::Diamond => {
            svg.polygon(&[(cx, cy - r), (cx + r, cy), (cx, cy + r), (cx - r, cy)], paint, title)
        }
        Shape::Circle => svg.circle((cx, cy), r * 0.8, paint, title),
    }
}

/// Event kinds outside [`MARKERS`] with their counts, sorted by name.
fn unknown_kinds(events: &[TimelineEvent]) -> BTreeMap<&str, usize> {
    let mut counts = BTreeMap::new();
    for e in events.iter().filter(|e| MARKERS.iter().all(|m| m.kind != e.kind)) {
        *counts.entry(e.kind.as_str()).or_default() += 1;
    }
    counts
}

/// The marker key: the five known kinds, then any other kind seen in
/// `timelines` (drawn grey), by name in sorted order.
pub fn timeline_legend(timelines: &[Timeline]) -> String {
    let all: Vec<TimelineEvent> = timelines.iter().flat_map(|t| t.events.clone()).collect();
    let others: Vec<String> = unknown_kinds(&all).into_keys().map(str::to_string).collect();
    let entries = MARKERS.len() + others.len();
    let mut svg = Svg::new(
        150.0 * entries.min(6) as f64,
        24.0 * entries.div_ceil(6) as f64,
        "event marker key",
    );
    for i in 0..entries {
        let (col, row) = ((i % 6) as f64, (i / 6) as f64);
        let (m, label) = match MARKERS.get(i) {
            Some(m) => (m, m.label),
            None => (&OTHER, others[i - MARKERS.len()].as_str()),
        };
        draw_marker(&mut svg, m, (12.0 + 150.0 * col, 12.0 + 24.0 * row), None);
        svg.text((24.0 + 150.0 * col, 16.0 + 24.0 * row), 11.0, Anchor::Start, "#111", label);
    }
    svg.finish()
}

const TL_W: f64 = 960.0;
const TL_H: f64 = 280.0;
const TL_LEFT: f64 = 72.0;
const TL_RIGHT: f64 = 16.0;
const TL_TOP: f64 = 12.0;
const TL_BOTTOM: f64 = 40.0;

/// The pixel mapping of one timeline: time as ns offsets from `t0`.
struct TimeFrame {
    t0: i64,
    span_ns: i64,
    x: Linear,
    y: Linear,
    /// The unpadded price range, for the axis labels.
    prices: (f64, f64),
    digits: usize,
}

impl TimeFrame {
    /// Spans every bar and event, with 5 % of the price range as margin.
    fn of(t: &Timeline) -> TimeFrame {
        let times = || t.ts_ns.iter().chain(t.events.iter().map(|e| &e.ts_ns)).copied();
        let (t0, t1) = (times().min().unwrap_or(0), times().max().unwrap_or(0));
        let (p0, p1) =
            finite_range(t.price.iter().chain(t.events.iter().map(|e| &e.price)).copied());
        let pad = (p1 - p0) * 0.05;
        TimeFrame {
            t0,
            span_ns: t1 - t0,
            x: Linear::new((0.0, (t1 - t0) as f64), (TL_LEFT, TL_W - TL_RIGHT)),
            y: Linear::new((p0 - pad, p1 + pad), (TL_H - TL_BOTTOM, TL_TOP)),
            prices: (p0, p1),
            digits: price_digits(p1 - p0),
        }
    }

    fn at(&self, ts_ns: i64, price: f64) -> (f64, f64) {
        (self.x.map((ts_ns - self.t0) as f64), self.y.map(price))
    }
}

/// Price over the sample window with one marker per event.
pub fn timeline_chart(t: &Timeline) -> String {
    let frame = TimeFrame::of(t);
    let mut svg = Svg::new(TL_W, TL_H, &format!("{} price and events", t.symbol));
    let plot_h = TL_H - TL_BOTTOM - TL_TOP;
    svg.rect(TL_LEFT, TL_TOP, TL_W - TL_LEFT - TL_RIGHT, plot_h, Paint::stroke("#ccc", 1.0), None);
    price_axis(&mut svg, &frame);
    time_axis(&mut svg, &frame);

    // The price line, then the events on top of it.
    let points: Vec<(f64, f64)> =
        t.ts_ns.iter().zip(&t.price).map(|(ts, p)| frame.at(*ts, *p)).collect();
    svg.path(&path_through(&points), "#4a6b8a", 1.2);
    for e in t.events.iter().filter(|e| e.price.is_finite()) {
        let title = event_title(e, frame.digits);
        draw_marker(&mut svg, marker_of(&e.kind), frame.at(e.ts_ns, e.price), Some(&title));
    }
    svg.finish()
}

/// Ticks at the lowest, middle and highest price.
fn price_axis(svg: &mut Svg, frame: &TimeFrame) {
    let (p0, p1) = frame.prices;
    for k in 0..3 {
        let price = p0 + (p1 - p0) * k as f64 / 2.0;
        let y = frame.y.map(price);
        svg.line((TL_LEFT - 4.0, y), (TL_LEFT, y), "#333", None);
        let label = fmt_fixed(price, frame.digits);
        svg.text((TL_LEFT - 6.0, y + 4.0), 10.0, Anchor::End, "#333", &label);
    }
}

/// Five evenly spaced time ticks; the end labels are anchored inwards so
/// they stay inside the chart.
fn time_axis(svg: &mut Svg, frame: &TimeFrame) {
    let bottom = TL_H - TL_BOTTOM;
    for k in 0..5 {
        let offset = frame.span_ns / 4 * k;
        let x = frame.x.map(offset as f64);
        svg.line((x, bottom), (x, bottom + 4.0), "#333", None);
        let anchor = match k {
            0 => Anchor::Start,
            4 => Anchor::End,
            _ => Anchor::Middle,
        };
        let label = time_label(frame.t0 + offset, frame.span_ns);
        svg.text((x, bottom + 16.0), 10.0, anchor, "#333", &label);
    }
    let centre = TL_LEFT + (TL_W - TL_LEFT - TL_RIGHT) / 2.0;
    svg.text((centre, TL_H - 6.0), 11.0, Anchor::Middle, "#111", "time (UTC)");
}

fn event_title(e: &TimelineEvent, digits: usize) -> String {
    format!(
        "{} at {}, price {}, score {}",
        e.kind,
        TsNs(e.ts_ns).to_rfc3339(),
        fmt_fixed(e.price, digits),
        fmt_fixed(e.score, 1)
    )
}

/// Min and max of the finite values; (0, 1) when there are none.
fn finite_range(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = values
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)));
    if lo <= hi {
        (lo, hi)
    } else {
        (0.0, 1.0)
    }
}

/// Decimals that show a tenth of the price range: 2 for a range of 0.5,
/// 0 for a range of 50, at most 6 (and 2 for a flat price).
fn price_digits(span: f64) -> usize {
    if !(span > 0.0 && span.is_finite()) {
        return 2;
    }
    (-(span / 10.0).log10()).ceil().clamp(0.0, 6.0) as usize
}

/// `HH:MM:SS` within a day, `MM-DD HH:MM` for longer windows.
fn time_label(ts: i64, span_ns: i64) -> String {
    let format = if span_ns > 86_400 * TsNs::NS_PER_SEC { "%m-%d %H:%M" } else { "%H:%M:%S" };
    TsNs(ts).to_utc().format(format).to_string()
}

/// Events per kind in the order of the legend, as `3 regular bull, 1 conflict`.
pub fn event_counts(t: &Timeline) -> String {
    let mut parts = Vec::new();
    for m in &MARKERS {
        let n = t.events.iter().filter(|e| e.kind == m.kind).count();
        if n > 0 {
            parts.push(format!("{n} {}", m.label));
        }
    }
    for (kind, n) in unknown_kinds(&t.events) {
        parts.push(format!("{n} {kind}"));
    }
    if parts.is_empty() {
        "no events".to_string()
    } else {
        parts.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::inputs::BucketHorizon;

    fn event(kind: &str, ts_ns: i64, price: f64) -> TimelineEvent {
        TimelineEvent { ts_ns, price, kind: kind.into(), score: 60.0 }
    }

    #[test]
    fn accuracy_domain_rounds_out_to_twentieths_and_always_holds_one_half() {
        // 0.52..0.61 with 0.5 included -> [0.50, 0.65].
        let (lo, hi) = accuracy_domain(&[0.52, 0.61, f64::NAN]);
        assert!((lo - 0.5).abs() < 1e-12 && (hi - 0.65).abs() < 1e-12, "{lo} {hi}");
        // Only 0.5: widened to a tenth either side.
        let (lo, hi) = accuracy_domain(&[]);
        assert!((lo - 0.45).abs() < 1e-12 && (hi - 0.55).abs() < 1e-12, "{lo} {hi}");
        // Clamped to [0, 1].
        assert_eq!(accuracy_domain(&[-0.2, 1.3]), (0.0, 1.0));
    }

    #[test]
    fn ticks_are_every_twentieth_on_narrow_ranges_and_tenth_on_wide_ones() {
        let narrow: Vec<String> =
            accuracy_ticks((0.45, 0.6)).iter().map(|t| fmt_fixed(*t, 2)).collect();
        assert_eq!(narrow, ["0.45", "0.50", "0.55", "0.60"]);
        assert_eq!(accuracy_ticks((0.0, 1.0)).len(), 11);
    }

    #[test]
    fn price_decimals_show_a_tenth_of_the_range() {
        assert_eq!(price_digits(0.5), 2);
        assert_eq!(price_digits(50.0), 0);
        assert_eq!(price_digits(1e-9), 6);
        assert_eq!(price_digits(0.0), 2);
        assert_eq!(price_digits(f64::NAN), 2);
    }

    #[test]
    fn time_labels_switch_to_dates_past_one_day() {
        let ts = 1_704_247_384_000_000_000; // 2024-01-03T02:03:04Z
        assert_eq!(time_label(ts, 3_600 * TsNs::NS_PER_SEC), "02:03:04");
        assert_eq!(time_label(ts, 2 * 86_400 * TsNs::NS_PER_SEC), "01-03 02:03");
    }

    #[test]
    fn event_counts_follow_the_legend_order_and_name_unknown_kinds() {
        let t = Timeline {
            events: vec![
                event("conflict", 0, 1.0),
                event("regular_bull", 1, 1.0),
                event("zeta", 2, 1.0),
                event("alpha", 3, 1.0),
                event("alpha", 4, 1.0),
            ],
            ..Default::default()
        };
        assert_eq!(event_counts(&t), "1 regular bull, 1 OFI-CVD conflict, 2 alpha, 1 zeta");
        assert_eq!(event_counts(&Timeline::default()), "no events");
    }

    #[test]
    fn legend_lists_the_five_kinds_then_unknown_ones_in_grey() {
        let t = Timeline { events: vec![event("mystery", 0, 1.0)], ..Default::default() };
        let svg = timeline_legend(&[t]);
        assert_eq!(svg.matches("</text>").count(), 6);
        assert!(svg.contains(">mystery</text>"));
        assert!(svg.contains("fill=\"#888888\""));
    }

    #[test]
    fn timeline_breaks_the_price_line_at_nan_and_skips_events_without_price() {
        let t = Timeline {
            symbol: "X".into(),
            ts_ns: vec![0, 1, 2, 3],
            price: vec![1.0, 2.0, f64::NAN, 3.0],
            events: vec![event("regular_bull", 1, 2.0), event("hidden_bear", 2, f64::NAN)],
        };
        let svg = timeline_chart(&t);
        let d = svg.split("d=\"").nth(1).unwrap().split('"').next().unwrap();
        assert_eq!(d.matches('M').count(), 2);
        assert_eq!(svg.matches("<polygon").count(), 1);
        assert!(svg.contains("regular_bull at 1970-01-01T00:00:00.000Z"));
    }

    #[test]
    fn a_flat_price_still_draws_inside_the_plot() {
        let t = Timeline { ts_ns: vec![0, 10], price: vec![5.0, 5.0], ..Default::default() };
        let svg = timeline_chart(&t);
        // The constant domain maps to the middle of the plot height.
        let mid = px(TL_TOP + (TL_H - TL_BOTTOM - TL_TOP) / 2.0);
        assert!(svg.contains(&format!("M{},{mid}", px(TL_LEFT))), "{svg}");
    }

    #[test]
    fn fallback_buckets_get_a_hollow_dot_and_own_points_a_filled_one() {
        let h = |acc: f64| BucketHorizon {
            horizon: 10,
            accuracy: acc,
            wilson_lo: acc - 0.05,
            wilson_hi: acc + 0.05,
            base_rate: f64::NAN,
            labelled: 50,
            events: 55,
        };
        let own = BucketInputs {
            label: "a".into(),
            point: Some(1),
            test: vec![h(0.6)],
            ..Default::default()
        };
        let fallback = BucketInputs {
            label: "b".into(),
            fallback: Some("few events".into()),
            test: vec![h(0.55)],
            ..Default::default()
        };
        let svg = bucket_chart(&[own, fallback], 10, 0.57);
        assert!(svg.contains("fill=\"#333\"><title>a: accuracy 0.600 [0.550, 0.650]"));
        assert!(svg.contains("fill=\"#fff\" stroke=\"#333\" stroke-width=\"1.5\"><title>b:"));
        assert!(svg.contains("; fallback: few events</title>"));
        assert!(svg.contains("stroke-dasharray=\"6 3\""));
        assert!(!svg.contains("#e66101"), "NaN base rate draws no tick");
    }

    #[test]
    fn a_bucket_without_figures_at_the_horizon_says_so() {
        let b = BucketInputs { label: "a".into(), ..Default::default() };
        assert!(bucket_chart(&[b], 10, f64::NAN).contains(">no figures</text>"));
    }
}
