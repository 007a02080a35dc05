//! Loading Parquet ticks through the data stage against a bare polars read
//! of the same columns of the same files. The data stage adds validation,
//! side decoding, merging and segmenting; the target is within 1.5 times
//! the bare read. Uses the shipped sample (data/); throughput is in rows.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use divtune::data::{self, DataConfig};
use polars::prelude::*;
use std::path::PathBuf;

fn bench(c: &mut Criterion) {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("data");
    let plan = data::plan(&[root], &DataConfig::default()).expect("the shipped sample");
    let files: Vec<(PathBuf, Vec<String>)> = plan
        .units
        .iter()
        .flat_map(|u| &u.files)
        .map(|f| (f.file.path.clone(), f.columns.fields.values().cloned().collect()))
        .collect();
    let rows: usize = plan
        .units
        .iter()
        .map(|u| {
            data::load_unit(&plan, u)
                .expect("loads")
                .segments
                .iter()
                .map(|s| s.rows())
                .sum::<usize>()
        })
        .sum();

    let mut group = c.benchmark_group("load");
    group.throughput(Throughput::Elements(rows as u64));
    group.sample_size(20);
    group.bench_function("bare_polars_read", |b| {
        b.iter(|| {
            files
                .iter()
                .map(|(path, columns)| {
                    let file = std::fs::File::open(path).unwrap();
                    ParquetReader::new(file)
                        .with_columns(Some(columns.clone()))
                        .finish()
                        .unwrap()
                        .height()
                })
                .sum::<usize>()
        })
    });
    group.bench_function("data_stage", |b| {
        b.iter(|| {
            plan.units
                .iter()
                .map(|u| data::load_unit(&plan, u).unwrap().segments.len())
                .sum::<usize>()
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
