//! HTML building blocks: escaping, number formatting, tables and the page
//! shell (inline CSS and the image-check script).
//!
//! Every number on the page goes through one of the `fmt_*` functions, so
//! the same inputs always give the same text: fixed precision, `—` for NaN,
//! `inf`/`-inf` for infinities, and never a negative zero.

use std::fmt::Write as _;

/// Escapes text for HTML and XML content and for attribute values in double
/// or single quotes.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// `x` with `digits` decimals; `—` for NaN, `inf`/`-inf` for infinities,
/// and `0.000` rather than `-0.000` when a tiny negative rounds to zero.
pub fn fmt_fixed(x: f64, digits: usize) -> String {
    if x.is_nan() {
        return "—".to_string();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf" } else { "-inf" }.to_string();
    }
    let text = format!("{x:.digits$}");
    match text.strip_prefix('-') {
        Some(rest) if rest.bytes().all(|b| b == b'0' || b == b'.') => rest.to_string(),
        _ => text,
    }
}

/// A p-value: four decimals, or scientific notation below 0.001 so that
/// tiny values do not all read `0.0000`.
pub fn fmt_p(p: f64) -> String {
    if p.is_finite() && p > 0.0 && p < 1e-3 {
        format!("{p:.2e}")
    } else {
        fmt_fixed(p, 4)
    }
}

/// A rule's value, whose scale depends on the rule: accuracies and
/// p-values keep four decimals, rates and scores one or two.
pub fn fmt_value(x: f64) -> String {
    match x.abs() {
        a if a.is_finite() && a >= 100.0 => fmt_fixed(x, 1),
        a if a.is_finite() && a >= 1.0 => fmt_fixed(x, 2),
        _ => fmt_p(x),
    }
}

/// A grid parameter's value: no decimals for whole numbers, else up to
/// four with trailing zeros removed (`0.75`, `1.2`).
pub fn fmt_param(x: f64) -> String {
    if x.is_finite() && x == x.round() && x.abs() < 1e15 {
        return fmt_fixed(x, 0);
    }
    let text = fmt_fixed(x, 4);
    if !text.contains('.') {
        return text;
    }
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// Seconds as `12.3 s`, `4m 05s` or `2h 03m 04s`.
pub fn fmt_elapsed(seconds: f64) -> String {
    if !seconds.is_finite() || seconds < 0.0 {
        return "—".to_string();
    }
    if seconds < 60.0 {
        return format!("{} s", fmt_fixed(seconds, 1));
    }
    let whole = seconds.round() as u64;
    let (h, m, s) = (whole / 3600, whole / 60 % 60, whole % 60);
    if h == 0 {
        format!("{m}m {s:02}s")
    } else {
        format!("{h}h {m:02}m {s:02}s")
    }
}

/// An integer with thin groups of three digits: `1 234 567`.
pub fn fmt_count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push('\u{2009}');
        }
        out.push(c);
    }
    out
}

/// A table with an escaped header row. `rows` are already-built `<tr>`s.
pub fn table(class: &str, head: &[&str], rows: &[String]) -> String {
    let mut out = format!("<table class=\"{}\">\n<thead><tr>", escape(class));
    for h in head {
        let _ = write!(out, "<th>{}</th>", escape(h));
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for row in rows {
        out.push_str(row);
        out.push('\n');
    }
    out.push_str("</tbody></table>\n");
    out
}

/// A `<tr>` of already-escaped cells, with an optional class.
pub fn tr(class: Option<&str>, cells: &[String]) -> String {
    let mut out = match class {
        Some(c) => format!("<tr class=\"{}\">", escape(c)),
        None => "<tr>".to_string(),
    };
    for cell in cells {
        let _ = write!(out, "<td>{cell}</td>");
    }
    out.push_str("</tr>");
    out
}

/// A section with an id, a heading and a body of ready HTML.
pub fn section(id: &str, title: &str, body: &str) -> String {
    format!("<section id=\"{}\">\n<h2>{}</h2>\n{body}</section>\n", escape(id), escape(title))
}

/// The whole document around the sections' HTML.
pub fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n<style>\n{CSS}</style>\n</head>\n<body>\n<main>\n{body}</main>\n\
         <script>\n{CHECK_SCRIPT}</script>\n</body>\n</html>\n",
        escape(title)
    )
}

const CSS: &str = r#"body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif;
  color: #1b1b1b; background: #fff; margin: 0; }
main { max-width: 1240px; margin: 0 auto; padding: 16px 24px 48px; }
h1 { font-size: 22px; margin: 8px 0 4px; }
h2 { font-size: 18px; border-bottom: 1px solid #ccc; padding-bottom: 4px; margin-top: 32px; }
h3 { font-size: 15px; margin: 18px 0 6px; }
.banner { font-size: 30px; font-weight: 700; padding: 14px 20px; border-radius: 6px;
  margin: 12px 0; color: #fff; letter-spacing: 0.04em; }
.banner.pass { background: #1b7f3b; }
.banner.fail { background: #b3261e; }
.banner small { display: block; font-size: 15px; font-weight: 400; letter-spacing: 0; }
.facts { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 0; }
.facts dt { color: #555; }
.facts dd { margin: 0; }
table { border-collapse: collapse; margin: 6px 0 10px; }
th, td { border: 1px solid #d0d0d0; padding: 3px 8px; text-align: right; vertical-align: top; }
th { background: #f2f2f2; }
td:first-child, th:first-child { text-align: left; }
table.gate td:last-child, table.gate th:last-child, table.buckets td:nth-child(2),
table.quality td:nth-child(2), table.units td:nth-child(2),
table.quality th:nth-child(2), table.units th:nth-child(2) { text-align: left; }
td { white-space: nowrap; }
table.gate td:last-child, table.buckets td:nth-child(2) { white-space: normal; }
tr.failed td { background: #fde8e6; }
tr.failed td:first-child { border-left: 4px solid #b3261e; font-weight: 600; }
tr.fallback td { color: #6b4e00; }
.verdict-pass { color: #1b7f3b; font-weight: 600; }
.verdict-fail { color: #b3261e; font-weight: 700; }
.note { color: #444; max-width: 900px; }
.warn { color: #b3261e; font-weight: 600; }
.pair { display: flex; flex-wrap: wrap; gap: 16px; align-items: flex-start; }
figure { margin: 6px 0 14px; }
figcaption { color: #444; font-size: 13px; max-width: 640px; }
svg { max-width: 100%; height: auto; }
img.calibration { max-width: 100%; border: 1px solid #ddd; }
"#;

/// Runs once the page has loaded: every `<img>` must be decoded with a
/// non-zero natural width and every inline `<svg>` must have a non-zero
/// box. The outcome goes to `data-images-ok`, the counts to `data-images`
/// (all checked), `data-imgs`, `data-svgs` and `data-images-bad`.
const CHECK_SCRIPT: &str = r#"window.addEventListener("load", function () {
  var imgs = Array.prototype.slice.call(document.querySelectorAll("img"));
  var svgs = Array.prototype.slice.call(document.querySelectorAll("svg"));
  var bad = 0;
  imgs.forEach(function (img) {
    if (!(img.complete && img.naturalWidth > 0)) { bad += 1; }
  });
  svgs.forEach(function (svg) {
    var box = svg.getBoundingClientRect();
    if (!(box.width > 0 && box.height > 0)) { bad += 1; }
  });
  var data = document.body.dataset;
  data.imgs = String(imgs.length);
  data.svgs = String(svgs.length);
  data.images = String(imgs.length + svgs.length);
  data.imagesBad = String(bad);
  data.imagesOk = bad === 0 ? "true" : "false";
});
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_replaces_every_markup_character() {
        assert_eq!(
            escape(r#"<a href="x">Tom & 'Jerry'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;Tom &amp; &#39;Jerry&#39;&lt;/a&gt;"
        );
    }

    #[test]
    fn escape_leaves_plain_and_non_ascii_text_alone() {
        assert_eq!(escape("z_hi ≥ 1.5 — ok"), "z_hi ≥ 1.5 — ok");
        assert_eq!(escape(""), "");
    }

    #[test]
    fn fixed_format_shows_nan_as_dash_and_never_negative_zero() {
        assert_eq!(fmt_fixed(f64::NAN, 3), "—");
        assert_eq!(fmt_fixed(f64::INFINITY, 3), "inf");
        assert_eq!(fmt_fixed(f64::NEG_INFINITY, 3), "-inf");
        assert_eq!(fmt_fixed(-0.0001, 3), "0.000");
        assert_eq!(fmt_fixed(-0.0, 1), "0.0");
        assert_eq!(fmt_fixed(-1.25, 1), "-1.2");
        assert_eq!(fmt_fixed(0.57149, 3), "0.571");
    }

    #[test]
    fn p_values_below_a_thousandth_switch_to_scientific_notation() {
        assert_eq!(fmt_p(0.0123), "0.0123");
        assert_eq!(fmt_p(0.000123), "1.23e-4");
        assert_eq!(fmt_p(0.0), "0.0000");
        assert_eq!(fmt_p(1.0), "1.0000");
        assert_eq!(fmt_p(f64::NAN), "—");
    }

    #[test]
    fn rule_values_keep_precision_that_suits_their_scale() {
        assert_eq!(fmt_value(0.5712), "0.5712");
        assert_eq!(fmt_value(23.456), "23.46");
        assert_eq!(fmt_value(123.456), "123.5");
        assert_eq!(fmt_value(0.00002), "2.00e-5");
        assert_eq!(fmt_value(f64::NAN), "—");
    }

    #[test]
    fn parameters_print_whole_numbers_bare_and_fractions_trimmed() {
        assert_eq!(fmt_param(13.0), "13");
        assert_eq!(fmt_param(0.75), "0.75");
        assert_eq!(fmt_param(1.2), "1.2");
        assert_eq!(fmt_param(0.6000000000000001), "0.6");
        assert_eq!(fmt_param(-2.0), "-2");
        assert_eq!(fmt_param(f64::NAN), "—");
    }

    #[test]
    fn elapsed_time_reads_in_seconds_minutes_or_hours() {
        assert_eq!(fmt_elapsed(12.34), "12.3 s");
        assert_eq!(fmt_elapsed(245.0), "4m 05s");
        assert_eq!(fmt_elapsed(7384.4), "2h 03m 04s");
        assert_eq!(fmt_elapsed(f64::NAN), "—");
        assert_eq!(fmt_elapsed(-1.0), "—");
    }

    #[test]
    fn counts_are_grouped_in_threes() {
        assert_eq!(fmt_count(0), "0");
        assert_eq!(fmt_count(999), "999");
        assert_eq!(fmt_count(1000), "1\u{2009}000");
        assert_eq!(fmt_count(1234567), "1\u{2009}234\u{2009}567");
    }

    #[test]
    fn table_escapes_headers_but_not_prebuilt_rows() {
        let rows = vec![tr(Some("failed"), &["<b>x</b>".to_string()])];
        let html = table("gate", &["a<b"], &rows);
        assert!(html.contains("<th>a&lt;b</th>"));
        assert!(html.contains("<tr class=\"failed\"><td><b>x</b></td></tr>"));
    }

    #[test]
    fn page_title_is_escaped_and_the_check_script_is_included() {
        let html = page("run <1>", "<p>body</p>");
        assert!(html.contains("<title>run &lt;1&gt;</title>"));
        assert!(html.contains("data.imagesOk = bad === 0"));
        assert!(!html.contains("src=\"http"));
    }
}
