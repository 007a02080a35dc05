# Recipes for people who have `just`; every one is a plain cargo command,
# so nothing here is needed to build, run or test divtune.

# Run the nightly job on the sample data in data/.
nightly *ARGS:
    cargo run --release -- nightly {{ARGS}}

# Run the whole test suite (optimised, as CI does).
test:
    cargo test --release

# Criterion benchmarks.
bench:
    cargo bench

# Speed and peak memory at 1, 10 and 50 M synthetic ticks (runs/bench/).
bench-scale SIZES="1 10 50":
    SIZES="{{SIZES}}" scripts/bench.sh

# Tune in N shards and merge them, as a batch engine would (docs/scale.md).
sharded N="4" RUN="sharded":
    for k in $(seq 0 $(({{N}} - 1))); do cargo run --release -q -- tune --shard $k/{{N}} --out runs/shards-{{RUN}}; done
    cargo run --release -q -- merge runs/shards-{{RUN}} --run-id {{RUN}}

# Formatting and lints, as CI expects them.
lint:
    cargo fmt --check
    cargo clippy --all-targets --release -- -D warnings

# Redraw a run's report from its saved artifacts.
report RUN:
    cargo run --release -- report --run {{RUN}}

# Re-apply the acceptance gate to a saved run (exit 1 when it fails).
gate RUN:
    cargo run --release -- gate --run {{RUN}}

# Inspect a data tree (default: the shipped sample).
inspect PATH="data":
    cargo run --release -- inspect {{PATH}}

# Regenerate the shipped sample from its seed.
sample:
    cargo run --release -- synth --out data
