//! Reading a run directory's saved artifacts into [`ReportInputs`], so the
//! report can be redrawn at any time without replaying a tick.

use super::inputs::*;
use crate::calibrate::{CalibrationReport, CALIBRATION_FILE};
use crate::deploy::run_files::GateFile;
use polars::prelude::*;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

/// Loads everything the report shows from `dir`.
pub fn load_inputs(dir: &Path) -> Result<ReportInputs, String> {
    let tuning: Value = read_json(dir, "tuning_report.json")?;
    let gate: GateFile = serde_json::from_value(read_json(dir, "gate.json")?)
        .map_err(|e| format!("{}: {e}", dir.join("gate.json").display()))?;
    let calibration: CalibrationReport = serde_json::from_value(read_json(dir, CALIBRATION_FILE)?)
        .map_err(|e| format!("{}: {e}", dir.join(CALIBRATION_FILE).display()))?;
    let quality: Value = read_json(dir, "data_quality.json")?;
    let mut head = header(&tuning);
    if let Ok(manifest) = read_json(dir, "manifest.json") {
        head.created_at = manifest["started_at"].as_str().unwrap_or_default().to_string();
    }
    Ok(ReportInputs {
        header: head,
        gate: GateInputs {
            passed: gate.passed,
            rules: gate
                .rules
                .iter()
                .map(|r| GateRule {
                    name: r.name.clone(),
                    value: r.value.unwrap_or(f64::NAN),
                    threshold: r.threshold.clone(),
                    passed: r.passed,
                    detail: r.detail.clone(),
                })
                .collect(),
        },
        grid: grid(dir, &tuning)?,
        chosen: chosen(&tuning["global"]),
        buckets: tuning["buckets"]
            .as_array()
            .map(|b| b.iter().map(bucket).collect())
            .unwrap_or_default(),
        calibration: calibration_inputs(dir, &calibration),
        timelines: timelines(dir)?,
        quality: quality_inputs(&quality),
    })
}

fn read_json(dir: &Path, name: &str) -> Result<Value, String> {
    let path = dir.join(name);
    let text = std::fs::read_to_string(&path).map_err(|e| {
        format!("{}: {e}; is this a run directory written by `divtune nightly`?", path.display())
    })?;
    serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
}

fn num(v: &Value) -> f64 {
    v.as_f64().unwrap_or(f64::NAN)
}

fn int(v: &Value) -> u64 {
    v.as_u64().unwrap_or(0)
}

fn header(t: &Value) -> Header {
    let run = &t["run"];
    let strings = |v: &Value| -> Vec<String> {
        v.as_array()
            .map(|a| a.iter().filter_map(|s| s.as_str().map(str::to_string)).collect())
            .unwrap_or_default()
    };
    Header {
        run_id: run["run_id"].as_str().unwrap_or_default().to_string(),
        data_start: run["data_start"].as_str().unwrap_or_default().to_string(),
        data_end: run["data_end"].as_str().unwrap_or_default().to_string(),
        symbols: strings(&run["symbols"]),
        input_rows: int(&run["input_rows"]),
        bars: int(&run["bars"]),
        events: int(&t["chosen_events"]),
        grid_points: int(&t["grid"]["points_tried"]) as usize,
        horizons: t["grid"]["horizons"]
            .as_array()
            .map(|a| a.iter().map(|h| int(h) as usize).collect())
            .unwrap_or_default(),
        elapsed_s: num(&t["timings"]["total_s"]),
        created_at: String::new(),
    }
}

fn figures(v: &Value) -> Vec<HorizonFigures> {
    let list = v.as_array().cloned().unwrap_or_default();
    list.iter()
        .map(|f| HorizonFigures {
            horizon: int(&f["horizon"]) as usize,
            accuracy: num(&f["accuracy"]),
            wilson_lo: num(&f["wilson_lo"]),
            wilson_hi: num(&f["wilson_hi"]),
            base_rate: num(&f["base_rate"]),
            labelled: int(&f["labelled"]),
            p_value: num(&f["p_value"]),
            p_corrected: num(&f["p_corrected"]),
            events_per_hour: num(&f["events_per_hour"]),
            median_score: num(&f["median_score"]),
        })
        .collect()
}

fn params_map(v: &Value) -> BTreeMap<String, f64> {
    v.as_object().map(|o| o.iter().map(|(k, v)| (k.clone(), num(v))).collect()).unwrap_or_default()
}

fn chosen(g: &Value) -> ChosenInputs {
    ChosenInputs {
        point: g["point"].as_u64().map(|p| p as usize),
        params: params_map(&g["params"]),
        train: figures(&g["train"]),
        test: figures(&g["test"]),
    }
}

fn bucket(b: &Value) -> BucketInputs {
    BucketInputs {
        label: b["bucket"].as_str().unwrap_or_default().to_string(),
        point: b["point"].as_u64().map(|p| p as usize),
        fallback: b["fallback"].as_str().map(str::to_string),
        test: figures(&b["test"])
            .into_iter()
            .zip(b["test"].as_array().cloned().unwrap_or_default())
            .map(|(f, raw)| BucketHorizon {
                horizon: f.horizon,
                accuracy: f.accuracy,
                wilson_lo: f.wilson_lo,
                wilson_hi: f.wilson_hi,
                base_rate: f.base_rate,
                labelled: f.labelled,
                events: int(&raw["events"]),
            })
            .collect(),
    }
}

fn read_parquet(path: &Path) -> Result<DataFrame, String> {
    let file = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    ParquetReader::new(file).finish().map_err(|e| format!("{}: {e}", path.display()))
}

/// Typed column access that names the file and column on failure.
struct Frame<'a> {
    df: &'a DataFrame,
    path: &'a Path,
}

impl Frame<'_> {
    fn err(&self, name: &str, e: PolarsError) -> String {
        format!("{}: column {name}: {e}", self.path.display())
    }

    fn f64s(&self, name: &str) -> Result<Vec<f64>, String> {
        let col = self.df.column(name).map_err(|e| self.err(name, e))?;
        let col = col.cast(&DataType::Float64).map_err(|e| self.err(name, e))?;
        Ok(col
            .f64()
            .map_err(|e| self.err(name, e))?
            .iter()
            .map(|v| v.unwrap_or(f64::NAN))
            .collect())
    }

    fn i64s(&self, name: &str) -> Result<Vec<i64>, String> {
        let col = self.df.column(name).map_err(|e| self.err(name, e))?;
        Ok(col.i64().map_err(|e| self.err(name, e))?.iter().map(|v| v.unwrap_or(0)).collect())
    }

    fn strs(&self, name: &str) -> Result<Vec<String>, String> {
        let col = self.df.column(name).map_err(|e| self.err(name, e))?;
        Ok(col
            .str()
            .map_err(|e| self.err(name, e))?
            .iter()
            .map(|v| v.unwrap_or_default().to_string())
            .collect())
    }
}

fn grid(dir: &Path, tuning: &Value) -> Result<GridInputs, String> {
    let path = dir.join("summary.parquet");
    let df = read_parquet(&path)?;
    let f = Frame { df: &df, path: &path };
    let parameters: Vec<String> = tuning["grid"]["parameters"]
        .as_array()
        .map(|a| a.iter().filter_map(|s| s.as_str().map(str::to_string)).collect())
        .unwrap_or_default();
    let param_cols: Vec<Vec<f64>> =
        parameters.iter().map(|p| f.f64s(p)).collect::<Result<_, _>>()?;
    let (point, fold, horizon) = (f.i64s("point")?, f.i64s("fold")?, f.i64s("horizon")?);
    let (period, session, liquidity, source) =
        (f.strs("period")?, f.strs("session")?, f.strs("liquidity")?, f.strs("source")?);
    let (events, labelled, hits) = (f.i64s("events")?, f.i64s("labelled")?, f.i64s("hits")?);
    let (accuracy, lo, hi, base) =
        (f.f64s("accuracy")?, f.f64s("wilson_lo")?, f.f64s("wilson_hi")?, f.f64s("base_rate")?);
    let (p, rate, score) =
        (f.f64s("p_value")?, f.f64s("events_per_hour")?, f.f64s("median_score")?);
    let cells = (0..df.height())
        .map(|i| GridCell {
            point: point[i] as usize,
            params: parameters.iter().zip(&param_cols).map(|(n, c)| (n.clone(), c[i])).collect(),
            period: Period::parse(&period[i]).unwrap_or_default(),
            fold: fold[i] as usize,
            bucket: BucketKey {
                session: session[i].clone(),
                liquidity: liquidity[i].clone(),
                source: source[i].clone(),
            },
            horizon: horizon[i] as usize,
            events: events[i] as u64,
            labelled: labelled[i] as u64,
            hits: hits[i] as u64,
            accuracy: accuracy[i],
            wilson_lo: lo[i],
            wilson_hi: hi[i],
            base_rate: base[i],
            p_value: p[i],
            events_per_hour: rate[i],
            median_score: score[i],
        })
        .collect();
    Ok(GridInputs { parameters, cells })
}

fn calibration_inputs(dir: &Path, report: &CalibrationReport) -> Vec<CalibrationInputs> {
    report
        .horizons
        .iter()
        .map(|h| CalibrationInputs {
            horizon: h.horizon,
            png_path: dir.join(crate::plots::calibration::file_name(h.horizon)),
            verdict: format!("{:?}: {}", h.verdict, h.reasons.join(" ")),
            rho: h.spearman_return.rho,
            p: h.spearman_return.p_greater,
        })
        .collect()
}

/// Price windows from timeline.parquet with the chosen events inside them.
fn timelines(dir: &Path) -> Result<Vec<Timeline>, String> {
    let path = dir.join("timeline.parquet");
    let df = read_parquet(&path)?;
    let f = Frame { df: &df, path: &path };
    let (symbol, ts, price) = (f.strs("symbol")?, f.i64s("ts_ns")?, f.f64s("price")?);
    let mut out: Vec<Timeline> = Vec::new();
    for i in 0..df.height() {
        if out.last().is_none_or(|t| t.symbol != symbol[i]) {
            out.push(Timeline { symbol: symbol[i].clone(), ..Default::default() });
        }
        let t = out.last_mut().expect("just pushed");
        t.ts_ns.push(ts[i]);
        t.price.push(price[i]);
    }
    let events_path = dir.join("events.parquet");
    let edf = read_parquet(&events_path)?;
    let e = Frame { df: &edf, path: &events_path };
    let (esym, ets, eprice, etype, escore) =
        (e.strs("symbol")?, e.i64s("ts_ns")?, e.f64s("price")?, e.strs("type")?, e.f64s("score")?);
    for t in &mut out {
        let (Some(&first), Some(&last)) = (t.ts_ns.first(), t.ts_ns.last()) else { continue };
        for k in
            (0..edf.height()).filter(|&k| esym[k] == t.symbol && ets[k] >= first && ets[k] <= last)
        {
            t.events.push(TimelineEvent {
                ts_ns: ets[k],
                price: eprice[k],
                kind: etype[k].clone(),
                score: escore[k],
            });
        }
    }
    Ok(out)
}

fn quality_inputs(q: &Value) -> QualityInputs {
    let units = q["units"].as_array().cloned().unwrap_or_default();
    let mut files = Vec::new();
    for u in &units {
        for f in u["files"].as_array().cloned().unwrap_or_default() {
            let dropped = f["dropped"]
                .as_object()
                .map(|o| {
                    o.iter().map(|(k, v)| (k.clone(), int(v))).filter(|(_, n)| *n > 0).collect()
                })
                .unwrap_or_default();
            files.push(FileQuality {
                file: f["path"].as_str().unwrap_or_default().to_string(),
                role: f["role"].as_str().unwrap_or_default().to_string(),
                rows_read: int(&f["rows_read"]),
                rows_kept: int(&f["rows_kept"]),
                dropped,
            });
        }
    }
    let units = units
        .iter()
        .map(|u| UnitGaps {
            symbol: u["symbol"].as_str().unwrap_or_default().to_string(),
            channels: u["channels"].as_str().unwrap_or_default().to_string(),
            segments: int(&u["segments"]) as usize,
            gap_splits: int(&u["gap_splits"]) as usize,
        })
        .collect();
    QualityInputs { files, units }
}
