//! Detector benchmarks: per-bar `update` latency, `replay` throughput at 100k, 1M
//! and 10M bars (flat cost per bar means equal elements/s), and the stage-2 filter
//! over stored candidates, which the grid search runs once per threshold set.
//!
//! Input is a seeded random walk whose indicators are approximately standard normal
//! (sum of four uniforms), like the z-scores the feature stage emits; generated once
//! (10M bars, about 560 MB) by an inline LCG so the benches need no extra crates.

use std::hint::black_box;
use std::sync::OnceLock;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use divtune::core::{Bar, Channels, TsNs};
use divtune::detector::{self, ConflictFloor, Detector, DetectorParams};

const MAX_BARS: usize = 10_000_000;

/// Knuth's MMIX LCG.
struct Lcg(u64);

impl Lcg {
    /// Uniform in [-1, 1), variance 1/3.
    fn sym(&mut self) -> f64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((self.0 >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
    }

    /// Sum of four uniforms scaled to variance 1: close to a standard normal.
    fn z(&mut self) -> f64 {
        (self.sym() + self.sym() + self.sym() + self.sym()) * (0.75f64).sqrt()
    }
}

fn bars() -> &'static [Bar] {
    static BARS: OnceLock<Vec<Bar>> = OnceLock::new();
    BARS.get_or_init(|| {
        let mut r = Lcg(42);
        let mut px = 100.0;
        (0..MAX_BARS)
            .map(|i| {
                px += 0.05 * r.sym();
                Bar {
                    ts: TsNs(i as i64 * 1_000_000_000),
                    price: px,
                    z_ofi: r.z(),
                    z_cvd: r.z(),
                    fusion: r.z(),
                    consistency: 0.5 + 0.5 * r.sym(),
                    activity: 1.0,
                }
            })
            .collect()
    })
}

fn update_latency(c: &mut Criterion) {
    let bars = bars();
    for (name, ch) in [("all", Channels::ALL), ("cvd_only", Channels::CVD_ONLY)] {
        let mut d = Detector::new(DetectorParams::default(), ch).unwrap();
        let mut i = 0;
        c.bench_function(&format!("detector/update/{name}"), |b| {
            b.iter(|| {
                let ev = d.update(black_box(&bars[i]));
                i = if i + 1 == bars.len() { 0 } else { i + 1 };
                ev
            })
        });
    }
}

/// The distribution of single `update` calls, which criterion's mean hides:
/// each of 2M calls is timed on its own, the clock's own cost (measured on
/// empty intervals) is subtracted, and p50/p95/p99/max are printed.
fn update_latency_distribution(_: &mut Criterion) {
    use std::time::Instant;
    let bars = &bars()[..2_000_000];
    let mut d = Detector::new(DetectorParams::default(), Channels::ALL).unwrap();
    let clock: Vec<u64> = (0..100_000)
        .map(|_| {
            let t = Instant::now();
            t.elapsed().as_nanos() as u64
        })
        .collect();
    let overhead = percentile(clock, 0.5);
    let mut ns: Vec<u64> = bars
        .iter()
        .map(|b| {
            let t = Instant::now();
            black_box(d.update(black_box(b)));
            (t.elapsed().as_nanos() as u64).saturating_sub(overhead)
        })
        .collect();
    ns.sort_unstable();
    let at = |q: f64| ns[((ns.len() - 1) as f64 * q) as usize];
    println!(
        "detector/update latency over {} calls (clock overhead {overhead} ns removed): p50 {} ns, p95 {} ns, p99 {} ns, max {} ns",
        ns.len(),
        at(0.5),
        at(0.95),
        at(0.99),
        ns[ns.len() - 1]
    );
}

fn percentile(mut v: Vec<u64>, q: f64) -> u64 {
    v.sort_unstable();
    v[((v.len() - 1) as f64 * q) as usize]
}

fn replay_scaling(c: &mut Criterion) {
    let bars = bars();
    let mut g = c.benchmark_group("detector/replay");
    g.sample_size(10).measurement_time(Duration::from_secs(20));
    for n in [100_000, 1_000_000, MAX_BARS] {
        g.throughput(Throughput::Elements(n as u64));
        g.bench_function(format!("all/{n}"), |b| {
            let p = DetectorParams::default();
            b.iter(|| detector::replay(black_box(&bars[..n]), p.clone(), Channels::ALL).unwrap())
        });
    }
    g.finish();
}

fn shared_stage2(c: &mut Criterion) {
    let bars = &bars()[..MAX_BARS];
    let sets: Vec<DetectorParams> = [1.2, 1.6, 2.0]
        .iter()
        .map(|&z_hi| DetectorParams { z_hi, z_mid: 0.4, ..Default::default() })
        .collect();
    let key = sets[0].pivot_key();
    let floor = ConflictFloor::for_sets(&sets);
    let mut g = c.benchmark_group("detector/two_stage");
    g.sample_size(10).measurement_time(Duration::from_secs(20));
    g.throughput(Throughput::Elements(MAX_BARS as u64));
    g.bench_function("stage1_candidates/10000000", |b| {
        b.iter(|| detector::candidates(black_box(bars), key, Channels::ALL, floor).unwrap())
    });
    let cands = detector::candidates(bars, key, Channels::ALL, floor).unwrap();
    eprintln!("stage 1 kept {} candidates of {MAX_BARS} bars", cands.len());
    g.bench_function("stage2_filter/10000000", |b| {
        b.iter_batched(
            || sets[1].clone(),
            |p| detector::filter_candidates(black_box(&cands), &p, Channels::ALL).unwrap(),
            BatchSize::SmallInput,
        )
    });
    g.finish();
}

criterion_group!(
    benches,
    update_latency,
    update_latency_distribution,
    replay_scaling,
    shared_stage2
);
criterion_main!(benches);
