//! The report's sections other than the heat maps, in page order: header
//! and banner, gate table (with the chosen point's figures), per-bucket
//! accuracy, calibration plots, event timelines and data quality.
//!
//! Each function returns ready HTML for one section; all text from the
//! inputs is escaped here, at the point where it enters markup.

use super::charts;
use super::html::{
    self, escape, fmt_count, fmt_elapsed, fmt_fixed, fmt_p, fmt_param, fmt_value, table, tr,
};
use super::inputs::{
    BucketInputs, ChosenInputs, GateInputs, GateRule, Header, HorizonFigures, QualityInputs,
    Timeline,
};
use crate::core::TsNs;
use std::collections::BTreeSet;
use std::fmt::Write as _;

/// `a`, `a and b`, `a, b and c`.
fn join_and(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => one.to_string(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// One plain-text sentence naming the failed rules, e.g.
/// `2 of 7 rules failed: acc@20 and p@20.`
pub fn failed_rules_sentence(rules: &[GateRule]) -> String {
    let failed: Vec<&str> = rules.iter().filter(|r| !r.passed).map(|r| r.name.as_str()).collect();
    match (rules.len(), failed.len()) {
        (0, _) => "The gate checked no rules.".to_string(),
        (1, 0) => "The only rule passed.".to_string(),
        (n, 0) => format!("All {n} rules passed."),
        (n, k) => format!("{k} of {n} rules failed: {}.", join_and(&failed)),
    }
}

/// Section 1: title, the PASS/FAIL banner and the run's facts.
pub fn header(h: &Header, gate: &GateInputs) -> String {
    let (class, word) = if gate.passed { ("pass", "PASS") } else { ("fail", "FAIL") };
    let mut out = format!(
        "<h1>divtune run {}</h1>\n<div class=\"banner {class}\">{word}\
         <small>{}</small></div>\n",
        escape(&h.run_id),
        escape(&failed_rules_sentence(&gate.rules))
    );
    let any_failed = gate.rules.iter().any(|r| !r.passed);
    if gate.passed == any_failed && !gate.rules.is_empty() {
        out.push_str(
            "<p class=\"warn\">The gate's overall verdict disagrees with its rules; \
             trust neither until the gate stage is checked.</p>\n",
        );
    }
    out.push_str(&facts(h));
    out
}

fn facts(h: &Header) -> String {
    let horizons: Vec<String> = h.horizons.iter().map(|x| x.to_string()).collect();
    let rows = [
        ("Run id", escape(&h.run_id)),
        ("Created", escape(&h.created_at)),
        ("Data", format!("{} → {}", escape(&h.data_start), escape(&h.data_end))),
        ("Symbols", format!("{} ({})", h.symbols.len(), escape(&h.symbols.join(", ")))),
        ("Input rows", fmt_count(h.input_rows)),
        ("Bars", fmt_count(h.bars)),
        ("Events (chosen parameters)", fmt_count(h.events)),
        ("Grid", format!("{} points tried", fmt_count(h.grid_points as u64))),
        ("Horizons", format!("{} bars", horizons.join(", "))),
        ("Elapsed", fmt_elapsed(h.elapsed_s)),
    ];
    let mut out = String::from("<dl class=\"facts\">\n");
    for (name, value) in rows {
        let _ = writeln!(out, "<dt>{name}</dt><dd>{value}</dd>");
    }
    out.push_str("</dl>\n");
    out
}

/// Section 2: one row per gate rule, the failed-rules sentence, and the
/// chosen point's training and test figures.
pub fn gate(gate: &GateInputs, chosen: &ChosenInputs, gridded: &[String]) -> String {
    let rows: Vec<String> = gate
        .rules
        .iter()
        .map(|r| {
            let verdict = if r.passed {
                "<span class=\"verdict-pass\">pass</span>"
            } else {
                "<span class=\"verdict-fail\">FAIL</span>"
            };
            let cells = [
                escape(&r.name),
                fmt_value(r.value),
                escape(&r.threshold),
                verdict.to_string(),
                escape(&r.detail),
            ];
            tr((!r.passed).then_some("failed"), &cells)
        })
        .collect();
    let mut body = format!("<p><b>{}</b></p>\n", escape(&failed_rules_sentence(&gate.rules)));
    body.push_str(&table("gate", &["Rule", "Value", "Threshold", "Verdict", "Detail"], &rows));
    body.push_str(&chosen_block(chosen, gridded));
    html::section("gate", "2. Acceptance gate", &body)
}

const CHOSEN_HEAD: [&str; 11] = [
    "Period",
    "Horizon",
    "Accuracy",
    "Wilson interval",
    "Base rate",
    "Lift",
    "Labelled",
    "p",
    "p corrected",
    "Events/hour",
    "Median score",
];

fn chosen_block(chosen: &ChosenInputs, gridded: &[String]) -> String {
    let point = chosen.point.map_or("none chosen".to_string(), |p| format!("point {p}"));
    let mut out = format!(
        "<h3>Chosen parameters ({point})</h3>\n<p class=\"note\">{} \
         (gridded parameters in bold)</p>\n",
        params_line(chosen, gridded)
    );
    let mut rows = Vec::new();
    for (period, figures) in [("train", &chosen.train), ("test", &chosen.test)] {
        rows.extend(figures.iter().map(|f| chosen_row(period, f)));
    }
    out.push_str(&table("chosen", &CHOSEN_HEAD, &rows));
    out.push_str(
        "<p class=\"note\">Lift = accuracy − base rate. Training p is Šidák-corrected for the \
         grid size; test p is Holm-adjusted over every test hypothesis of the run.</p>\n",
    );
    out
}

/// `cooldown=5, <b>swing_l=13</b>, ...` with the gridded parameters bold.
fn params_line(chosen: &ChosenInputs, gridded: &[String]) -> String {
    let params: Vec<String> = chosen
        .params
        .iter()
        .map(|(k, v)| {
            let text = format!("{}={}", escape(k), fmt_param(*v));
            if gridded.contains(k) {
                format!("<b>{text}</b>")
            } else {
                text
            }
        })
        .collect();
    params.join(", ")
}

fn chosen_row(period: &str, f: &HorizonFigures) -> String {
    let cells = [
        period.to_string(),
        f.horizon.to_string(),
        fmt_fixed(f.accuracy, 3),
        format!("[{}, {}]", fmt_fixed(f.wilson_lo, 3), fmt_fixed(f.wilson_hi, 3)),
        fmt_fixed(f.base_rate, 3),
        fmt_fixed(f.accuracy - f.base_rate, 3),
        fmt_count(f.labelled),
        fmt_p(f.p_value),
        fmt_p(f.p_corrected),
        fmt_fixed(f.events_per_hour, 1),
        fmt_fixed(f.median_score, 1),
    ];
    tr(None, &cells)
}

/// Section 4: a dot-and-whisker chart per horizon and a table of every
/// bucket's test figures. `chosen` gives the dashed global reference.
pub fn buckets(buckets: &[BucketInputs], chosen: &ChosenInputs) -> String {
    if buckets.is_empty() {
        let body = "<p class=\"note\">This run tuned no buckets.</p>\n";
        return html::section("buckets", "4. Accuracy per bucket (test)", body);
    }
    let horizons: BTreeSet<usize> =
        buckets.iter().flat_map(|b| &b.test).map(|t| t.horizon).collect();
    let mut body = String::from(BUCKET_CAPTION);
    for &h in &horizons {
        let global = chosen.test.iter().find(|f| f.horizon == h).map_or(f64::NAN, |f| f.accuracy);
        let _ = write!(
            body,
            "<figure>\n{}<figcaption>Horizon {h} bars: test accuracy per bucket with its Wilson \
             interval.</figcaption>\n</figure>\n",
            charts::bucket_chart(buckets, h, global)
        );
    }
    let horizons: Vec<usize> = horizons.into_iter().collect();
    body.push_str(&bucket_table(buckets, &horizons));
    html::section("buckets", "4. Accuracy per bucket (test)", &body)
}

const BUCKET_CAPTION: &str = "<p class=\"note\">Filled dot: the bucket's own parameters; hollow \
dot: the bucket falls back to the global parameters (reason in the table). Whiskers: Wilson \
interval on the effective sample size. Orange tick: the bucket's base rate. Dashed blue line: \
the global chosen point's test accuracy. Grey line: 0.5.</p>\n";

fn bucket_table(buckets: &[BucketInputs], horizons: &[usize]) -> String {
    let mut head = vec!["Bucket".to_string(), "Parameters".to_string()];
    for h in horizons {
        head.extend([
            format!("Accuracy @{h}"),
            format!("Interval @{h}"),
            format!("Labelled / events @{h}"),
        ]);
    }
    let rows: Vec<String> = buckets
        .iter()
        .map(|b| {
            let params = match (&b.fallback, b.point) {
                (Some(reason), _) => format!("global (fallback: {})", escape(reason)),
                (None, Some(p)) => format!("own: point {p}"),
                (None, None) => "global".to_string(),
            };
            let mut cells = vec![escape(&b.label), params];
            for h in horizons {
                cells.extend(bucket_cells(b, *h));
            }
            tr(b.fallback.as_ref().map(|_| "fallback"), &cells)
        })
        .collect();
    let head: Vec<&str> = head.iter().map(String::as_str).collect();
    table("buckets", &head, &rows)
}

fn bucket_cells(b: &BucketInputs, horizon: usize) -> [String; 3] {
    match b.test.iter().find(|t| t.horizon == horizon) {
        Some(t) => [
            fmt_fixed(t.accuracy, 3),
            format!("[{}, {}]", fmt_fixed(t.wilson_lo, 3), fmt_fixed(t.wilson_hi, 3)),
            format!("{} / {}", fmt_count(t.labelled), fmt_count(t.events)),
        ],
        None => ["—".to_string(), "—".to_string(), "—".to_string()],
    }
}

/// Section 5: the calibration stage's PNGs, already encoded as data URIs,
/// each with its verdict. `images` pairs each input with its URI.
pub fn calibration(images: &[(&super::inputs::CalibrationInputs, String)]) -> String {
    if images.is_empty() {
        let body = "<p class=\"note\">No calibration plots in this run.</p>\n";
        return html::section("calibration", "5. Score calibration", body);
    }
    let mut body = String::from(
        "<p class=\"note\">Plots drawn by the calibration stage: does a higher score go with a \
         better forward return? Spearman rho of score against forward return on test events, \
         with its one-sided p-value (rho &gt; 0).</p>\n",
    );
    for (c, uri) in images {
        let _ = write!(
            body,
            "<h3>Horizon {h} bars</h3>\n<figure>\n<img class=\"calibration\" src=\"{uri}\" \
             alt=\"score monotonicity at horizon {h}\">\n<figcaption><b>{}</b> — Spearman rho \
             = {}, p = {}</figcaption>\n</figure>\n",
            escape(&c.verdict),
            fmt_fixed(c.rho, 3),
            fmt_p(c.p),
            h = c.horizon,
        );
    }
    html::section("calibration", "5. Score calibration", &body)
}

/// Section 6: a price line with event markers for each symbol's window.
pub fn timelines(timelines: &[Timeline]) -> String {
    if timelines.is_empty() {
        let body = "<p class=\"note\">No sample windows were saved.</p>\n";
        return html::section("timelines", "6. Events over price (sample windows)", body);
    }
    let mut body = String::from(
        "<p class=\"note\">A sample window per symbol: the bar price and every event of the \
         chosen parameters, dated when the detector could have known it. Hover a marker for \
         its time and score.</p>\n",
    );
    body.push_str(&charts::timeline_legend(timelines));
    for t in timelines {
        let window = match (t.ts_ns.first(), t.ts_ns.last()) {
            (Some(&a), Some(&b)) => {
                format!("{} → {}", TsNs(a).to_rfc3339(), TsNs(b).to_rfc3339())
            }
            _ => "no bars".to_string(),
        };
        let _ = write!(
            body,
            "<h3>{}</h3>\n<figure>\n{}<figcaption>{}; {} bars; {}.</figcaption>\n</figure>\n",
            escape(&t.symbol),
            charts::timeline_chart(t),
            escape(&window),
            fmt_count(t.ts_ns.len() as u64),
            escape(&charts::event_counts(t))
        );
    }
    html::section("timelines", "6. Events over price (sample windows)", &body)
}

/// Section 7: rows read, kept and dropped per file (a column per drop
/// reason, in the order first seen), then segments and gap splits per unit.
pub fn quality(q: &QualityInputs) -> String {
    let mut reasons: Vec<&str> = Vec::new();
    for (reason, _) in q.files.iter().flat_map(|f| &f.dropped) {
        if !reasons.contains(&reason.as_str()) {
            reasons.push(reason);
        }
    }
    let rows: Vec<String> = q.files.iter().map(|f| file_row(f, &reasons)).collect();
    let mut head = vec!["File", "Role", "Rows read", "Rows kept", "Kept %"];
    head.extend(reasons.iter().copied());
    let mut body = table("quality", &head, &rows);
    let units: Vec<String> = q
        .units
        .iter()
        .map(|u| {
            let cells = [
                escape(&u.symbol),
                escape(&u.channels),
                u.segments.to_string(),
                u.gap_splits.to_string(),
            ];
            tr(None, &cells)
        })
        .collect();
    body.push_str(&table("units", &["Symbol", "Channels", "Segments", "Gap splits"], &units));
    html::section("quality", "7. Data quality", &body)
}

fn file_row(f: &super::inputs::FileQuality, reasons: &[&str]) -> String {
    let kept =
        if f.rows_read == 0 { f64::NAN } else { 100.0 * f.rows_kept as f64 / f.rows_read as f64 };
    let mut cells = vec![
        escape(&f.file),
        escape(&f.role),
        fmt_count(f.rows_read),
        fmt_count(f.rows_kept),
        fmt_fixed(kept, 2),
    ];
    for reason in reasons {
        let n: u64 = f.dropped.iter().filter(|(r, _)| r == reason).map(|(_, n)| n).sum();
        cells.push(fmt_count(n));
    }
    tr(None, &cells)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(name: &str, passed: bool) -> GateRule {
        GateRule { name: name.into(), passed, ..Default::default() }
    }

    #[test]
    fn sentence_names_every_failed_rule_in_order() {
        let rules = [rule("acc@10", true), rule("acc@20", false), rule("p@20", false)];
        assert_eq!(failed_rules_sentence(&rules), "2 of 3 rules failed: acc@20 and p@20.");
        let three = [rule("a", false), rule("b", false), rule("c", false)];
        assert_eq!(failed_rules_sentence(&three), "3 of 3 rules failed: a, b and c.");
        assert_eq!(failed_rules_sentence(&three[..1]), "1 of 1 rules failed: a.");
    }

    #[test]
    fn sentence_says_so_when_everything_passed_or_nothing_was_checked() {
        assert_eq!(
            failed_rules_sentence(&[rule("a", true), rule("b", true)]),
            "All 2 rules passed."
        );
        assert_eq!(failed_rules_sentence(&[rule("a", true)]), "The only rule passed.");
        assert_eq!(failed_rules_sentence(&[]), "The gate checked no rules.");
    }

    #[test]
    fn failed_rules_get_a_marked_row_and_rule_names_are_escaped() {
        let g =
            GateInputs { passed: false, rules: vec![rule("acc<@10>", false), rule("ok", true)] };
        let html = gate(&g, &ChosenInputs::default(), &[]);
        assert!(html.contains("<tr class=\"failed\"><td>acc&lt;@10&gt;</td>"));
        assert!(html.contains("<tr><td>ok</td>"));
        assert!(html.contains("<b>1 of 2 rules failed: acc&lt;@10&gt;.</b>"));
    }

    #[test]
    fn banner_warns_when_the_verdict_contradicts_the_rules() {
        let g = GateInputs { passed: true, rules: vec![rule("a", false)] };
        let html = header(&Header::default(), &g);
        assert!(html.contains("banner pass\">PASS"));
        assert!(html.contains("disagrees with its rules"));
        let honest = GateInputs { passed: false, rules: vec![rule("a", false)] };
        assert!(!header(&Header::default(), &honest).contains("disagrees"));
    }

    #[test]
    fn quality_table_has_a_column_per_drop_reason_with_zeros_filled() {
        let q = QualityInputs {
            files: vec![
                super::super::inputs::FileQuality {
                    file: "a.parquet".into(),
                    role: "trades".into(),
                    rows_read: 10,
                    rows_kept: 7,
                    dropped: vec![("bad_px".into(), 3)],
                },
                super::super::inputs::FileQuality {
                    file: "b.parquet".into(),
                    role: "quotes".into(),
                    rows_read: 0,
                    rows_kept: 0,
                    dropped: vec![("duplicate".into(), 0)],
                },
            ],
            units: vec![],
        };
        let html = quality(&q);
        assert!(html.contains("<th>bad_px</th><th>duplicate</th>"));
        let row = "<td>a.parquet</td><td>trades</td><td>10</td><td>7</td><td>70.00</td>\
                   <td>3</td><td>0</td>";
        assert!(html.contains(row));
        assert!(html.contains("<td>b.parquet</td><td>quotes</td><td>0</td><td>0</td><td>—</td>"));
    }

    #[test]
    fn fallback_buckets_are_marked_with_their_reason() {
        let b = BucketInputs {
            label: "session=night".into(),
            fallback: Some("fewer than 30 labelled <events>".into()),
            ..Default::default()
        };
        let html = buckets(&[b], &ChosenInputs::default());
        assert!(html.contains("<tr class=\"fallback\">"));
        assert!(html.contains("global (fallback: fewer than 30 labelled &lt;events&gt;)"));
    }
}
