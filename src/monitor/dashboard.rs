//! Generation of `dashboards/divergence_overview.json`, a Grafana dashboard
//! (schema version 39) over the catalogue's metrics: headline stats with the
//! SLO levels as colour thresholds, event rate by type and source, latency
//! quantiles, the score distribution, forward return and hit rate by
//! horizon, resources, and the active config from `divergence_config_info`.
//!
//! Every query is a plain PromQL expression from [`super::queries`] or
//! [`super::indicators`] (no Grafana variables inside expressions), so
//! [`expressions`] can hand each one to a real Prometheus to check.

use super::indicators::Indicator;
use super::metrics::{self, LABEL_HORIZON, LABEL_KIND, LABEL_SIDE, LABEL_SOURCE};
use super::queries;
use super::slo::{Objective, SloConfig};
use serde_json::{json, Value};

/// Dashboard uid, stable so that re-imports replace the dashboard.
pub const UID: &str = "divergence-overview";
/// Window of the dashboard's rate queries.
const RATE_WINDOW: &str = "5m";

#[derive(Copy, Clone, PartialEq)]
enum Kind {
    Stat,
    Timeseries,
    Table,
}

/// A panel before layout: what it shows and how wide it is.
struct Panel<'a> {
    title: &'static str,
    kind: Kind,
    unit: &'static str,
    width: u32,
    targets: Vec<(String, &'static str)>,
    thresholds: Option<&'a Objective>,
}

fn panel<'a>(title: &'static str, kind: Kind, unit: &'static str, width: u32) -> Panel<'a> {
    Panel { title, kind, unit, width, targets: Vec::new(), thresholds: None }
}

impl<'a> Panel<'a> {
    fn query(mut self, expr: String, legend: &'static str) -> Self {
        self.targets.push((expr, legend));
        self
    }

    fn levels(mut self, objective: &'a Objective) -> Self {
        self.thresholds = Some(objective);
        self
    }
}

/// The panels in reading order.
fn panels(slo: &SloConfig) -> Vec<Panel<'_>> {
    let mut list = headline_stats(slo);
    list.extend(event_panels());
    list.extend(latency_and_score_panels());
    list.extend(outcome_panels());
    list.extend(service_panels(slo));
    list
}

fn headline_stats(slo: &SloConfig) -> Vec<Panel<'_>> {
    let stat = |ind: Indicator, title, unit| {
        let legend = if ind.group_labels().is_empty() { "" } else { "h={{horizon}}" };
        panel(title, Kind::Stat, unit, 4).query(ind.expr(slo), legend).levels(ind.objective(slo))
    };
    vec![
        stat(Indicator::EventsPerHour, "Events per hour", "short"),
        stat(Indicator::MedianScore, "Median score", "short"),
        stat(Indicator::HitRate, "Hit rate", "percentunit"),
        stat(Indicator::Availability, "Availability", "percentunit"),
        stat(Indicator::ErrorRate, "Error rate", "percentunit"),
        stat(Indicator::ClosureError, "Metric closure error", "percentunit"),
    ]
}

fn event_panels<'a>() -> Vec<Panel<'a>> {
    let ev = &metrics::EVENTS_TOTAL;
    vec![
        panel("Event rate by type (per hour)", Kind::Timeseries, "short", 12).query(
            queries::per_hour(ev, RATE_WINDOW, &[LABEL_KIND, LABEL_SIDE]),
            "{{kind}} {{side}}",
        ),
        panel("Event rate by source (per hour)", Kind::Timeseries, "short", 12)
            .query(queries::per_hour(ev, RATE_WINDOW, &[LABEL_SOURCE]), "{{source}}"),
    ]
}

fn latency_and_score_panels<'a>() -> Vec<Panel<'a>> {
    let p95 = |m| queries::quantile(0.95, m, RATE_WINDOW, &[]);
    let score_buckets = format!("sum by (le) (increase({}[1h]))", metrics::SCORE.bucket());
    vec![
        panel("Latency p95", Kind::Timeseries, "s", 12)
            .query(p95(&metrics::DETECTION_LATENCY), "detection (compute)")
            .query(p95(&metrics::EVENT_LATENCY), "event (bar close to emit)")
            .query(p95(&metrics::PIPELINE_LATENCY), "pipeline"),
        panel(
            "Score distribution (events per hour at or below score)",
            Kind::Timeseries,
            "short",
            12,
        )
        .query(score_buckets, "score <= {{le}}")
        .query(queries::quantile(0.5, &metrics::SCORE, "1h", &[]), "median"),
    ]
}

fn outcome_panels<'a>() -> Vec<Panel<'a>> {
    let by = &[LABEL_HORIZON];
    let ret = &metrics::FORWARD_RETURN;
    vec![
        panel("Forward return by horizon (event direction)", Kind::Timeseries, "percentunit", 12)
            .query(queries::mean(ret, "1h", by), "mean h={{horizon}}")
            .query(queries::quantile(0.5, ret, "1h", by), "median h={{horizon}}"),
        panel("Hit rate by horizon", Kind::Timeseries, "percentunit", 12).query(
            queries::ratio(&metrics::HITS_TOTAL, &metrics::LABELLED_TOTAL, "1h", by),
            "h={{horizon}}",
        ),
    ]
}

fn service_panels(slo: &SloConfig) -> Vec<Panel<'_>> {
    vec![
        panel("Resources", Kind::Timeseries, "percentunit", 8)
            .query(Indicator::CpuUtilisation.expr(slo), "CPU")
            .query(Indicator::MemoryUtilisation.expr(slo), "memory"),
        panel("Queue backlog (bars)", Kind::Timeseries, "short", 8)
            .query(Indicator::QueueBacklog.expr(slo), "backlog"),
        panel("Active config", Kind::Table, "short", 8)
            .query(metrics::CONFIG_INFO.name.to_string(), "{{run_id}} {{version}}"),
    ]
}

/// The dashboard as pretty JSON with a trailing newline.
pub fn dashboard_json(slo: &SloConfig) -> String {
    let mut text = serde_json::to_string_pretty(&dashboard(slo)).expect("json always serializes");
    text.push('\n');
    text
}

/// Every PromQL expression the dashboard queries, in panel order.
pub fn expressions(slo: &SloConfig) -> Vec<String> {
    panels(slo).into_iter().flat_map(|p| p.targets.into_iter().map(|(e, _)| e)).collect()
}

fn dashboard(slo: &SloConfig) -> Value {
    json!({
        "annotations": {"list": []},
        "editable": true,
        "panels": layout(&panels(slo)),
        "refresh": "1m",
        "schemaVersion": 39,
        "tags": ["divergence", "divtune"],
        "templating": {"list": [{
            "name": "datasource",
            "label": "Prometheus",
            "type": "datasource",
            "query": "prometheus",
        }]},
        "time": {"from": "now-24h", "to": "now"},
        "timezone": "utc",
        "title": "Divergence overview",
        "uid": UID,
        "version": 1,
    })
}

/// Places panels left to right in rows of 24 columns.
fn layout(panels: &[Panel]) -> Vec<Value> {
    let (mut x, mut y, mut row_height) = (0, 0, 0);
    let mut out = Vec::new();
    for (i, p) in panels.iter().enumerate() {
        let height = if p.kind == Kind::Stat { 4 } else { 8 };
        if x + p.width > 24 {
            (x, y, row_height) = (0, y + row_height, 0);
        }
        out.push(panel_json(i as u32 + 1, p, json!({"h": height, "w": p.width, "x": x, "y": y})));
        x += p.width;
        row_height = row_height.max(height);
    }
    out
}

fn panel_json(id: u32, p: &Panel, grid: Value) -> Value {
    let kind = match p.kind {
        Kind::Stat => "stat",
        Kind::Timeseries => "timeseries",
        Kind::Table => "table",
    };
    let targets: Vec<Value> = p
        .targets
        .iter()
        .enumerate()
        .map(|(i, (expr, legend))| target_json(i, expr, legend, p.kind))
        .collect();
    let mut defaults = json!({"unit": p.unit});
    if let Some(objective) = p.thresholds {
        defaults["thresholds"] = json!({"mode": "absolute", "steps": threshold_steps(objective)});
    }
    json!({
        "datasource": {"type": "prometheus", "uid": "${datasource}"},
        "fieldConfig": {"defaults": defaults, "overrides": []},
        "gridPos": grid,
        "id": id,
        "options": options_json(p.kind),
        "targets": targets,
        "title": p.title,
        "type": kind,
    })
}

fn target_json(i: usize, expr: &str, legend: &str, kind: Kind) -> Value {
    let ref_id = char::from(b'A' + i as u8).to_string();
    let mut target = json!({
        "datasource": {"type": "prometheus", "uid": "${datasource}"},
        "expr": expr,
        "legendFormat": legend,
        "refId": ref_id,
    });
    if kind == Kind::Table {
        target["format"] = json!("table");
        target["instant"] = json!(true);
    }
    target
}

fn options_json(kind: Kind) -> Value {
    match kind {
        Kind::Stat => json!({"colorMode": "background", "graphMode": "area",
            "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": false}}),
        Kind::Timeseries => json!({"legend": {"displayMode": "list", "placement": "bottom"},
            "tooltip": {"mode": "multi"}}),
        Kind::Table => json!({"showHeader": true}),
    }
}

/// Grafana colour steps from an objective: each interval between level
/// bounds is red when it breaches the rollback level, yellow when it
/// breaches the warning level, green otherwise.
fn threshold_steps(o: &Objective) -> Vec<Value> {
    let levels: Vec<_> = [&o.warning, &o.rollback].into_iter().flatten().collect();
    let mut bounds: Vec<f64> = levels.iter().flat_map(|l| [l.below, l.above]).flatten().collect();
    bounds.sort_by(f64::total_cmp);
    bounds.dedup();
    let color = |v: f64| match (&o.rollback, &o.warning) {
        (Some(r), _) if r.breached_by(v) => "red",
        (_, Some(w)) if w.breached_by(v) => "yellow",
        _ => "green",
    };
    let first = bounds.first().map_or(0.0, |b| b - b.abs().max(1.0));
    let mut steps = vec![json!({"color": color(first), "value": null})];
    for (i, b) in bounds.iter().enumerate() {
        let next = bounds.get(i + 1).map_or(b + b.abs().max(1.0), |n| (b + n) / 2.0);
        steps.push(json!({"color": color(next), "value": b}));
    }
    steps
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dashboard_is_grafana_json_with_typed_panels_and_prometheus_targets() {
        let value: Value = serde_json::from_str(&dashboard_json(&SloConfig::default())).unwrap();
        assert_eq!(value["schemaVersion"], 39);
        let panels = value["panels"].as_array().unwrap();
        assert_eq!(panels.len(), 15);
        for p in panels {
            let kind = p["type"].as_str().unwrap();
            assert!(["stat", "timeseries", "table"].contains(&kind), "{kind}");
            assert!(!p["targets"].as_array().unwrap().is_empty());
            let grid = &p["gridPos"];
            assert!(grid["x"].as_u64().unwrap() + grid["w"].as_u64().unwrap() <= 24);
        }
        let ids: Vec<u64> = panels.iter().map(|p| p["id"].as_u64().unwrap()).collect();
        assert_eq!(ids, (1..=15).collect::<Vec<u64>>());
    }

    #[test]
    fn the_active_config_panel_is_an_instant_table_of_config_info() {
        let value: Value = serde_json::from_str(&dashboard_json(&SloConfig::default())).unwrap();
        let table =
            value["panels"].as_array().unwrap().iter().find(|p| p["type"] == "table").unwrap();
        assert_eq!(table["targets"][0]["expr"], "divergence_config_info");
        assert_eq!(table["targets"][0]["instant"], true);
    }

    #[test]
    fn thresholds_colour_the_bands_of_an_objective() {
        let slo = SloConfig::default();
        let colours = |o| -> Vec<(String, Value)> {
            threshold_steps(o)
                .iter()
                .map(|s| (s["color"].as_str().unwrap().into(), s["value"].clone()))
                .collect()
        };
        assert_eq!(
            colours(&slo.events_per_hour),
            [
                ("red".into(), Value::Null),
                ("yellow".into(), json!(1.0)),
                ("green".into(), json!(5.0)),
                ("yellow".into(), json!(200.0)),
                ("red".into(), json!(500.0)),
            ]
        );
        assert_eq!(
            colours(&slo.error_rate),
            [
                ("green".into(), Value::Null),
                ("yellow".into(), json!(0.005)),
                ("red".into(), json!(0.02))
            ]
        );
    }

    #[test]
    fn the_output_is_byte_identical_between_calls_and_lists_every_query() {
        let slo = SloConfig::default();
        assert_eq!(dashboard_json(&slo), dashboard_json(&slo));
        let exprs = expressions(&slo);
        assert_eq!(exprs.len(), 6 + 2 + 5 + 3 + 4);
        assert!(exprs.iter().all(|e| !e.contains('$')), "no Grafana variables in PromQL");
    }
}
