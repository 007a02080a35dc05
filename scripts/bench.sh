#!/usr/bin/env bash
# Scale benchmark: speed and peak memory of divtune on synthetic markets of
# 1, 10 and 50 million ticks (trade + quote rows).
#
# For each size it writes a seeded synthetic market with `divtune synth`
# (or reuses the one it wrote before), runs benches/scale.rs on it (every
# stage timed in one process on one thread, against a bare polars read of
# the same Parquet columns), then runs the whole `divtune nightly` under
# /usr/bin/time with 1 and with 2 threads for wall time and peak RSS.
# Every figure comes from this run; the sizes are targets and the actual
# row counts are reported. The share of the CPU that other processes took
# meanwhile is measured too (from /proc), with a warning above 5 %.
#
# Usage (from anywhere; it works in the repository root):
#   scripts/bench.sh
#   SIZES="1 10" BENCH_JSON=/tmp/bench.json scripts/bench.sh
#
# Environment:
#   SIZES          million-tick sizes to run            [1 10 50]
#   BENCH_JSON     where the figures go (a .md table goes next to it)
#                                                        [runs/bench/bench.json]
#   BENCH_DATA     where generated markets are kept      [runs/bench/data]
#   BENCH_WORK     nightly runs, logs, per-size figures  [runs/bench]
#   BENCH_CONFIG   config file for synth, bench and nightly [config/divtune.yaml]
#   BENCH_REPEATS  passes per cheap stage in the bench   [3]
#   BENCH_NIGHTLY_REPEATS  nightly runs per thread count; fastest counts [3]
#   CARGO_TARGET_DIR is honoured. Relative paths are taken from the
#   repository root, where the script runs.
#
# Needs bash, coreutils, awk and GNU time at /usr/bin/time. Exit status: 0
# when every size completed, 2 on any error.

set -euo pipefail

die() {
    echo "bench.sh: $*" >&2
    exit 2
}

case "${1:-}" in
    -h | --help)
        sed -n '2,/^$/p' "$0" | sed 's/^# \{0,1\}//'
        exit 0
        ;;
    "") ;;
    *) die "unknown argument '$1'; settings are environment variables (see --help)" ;;
esac

cd "$(dirname "$0")/.."
SIZES=${SIZES:-"1 10 50"}
BENCH_JSON=${BENCH_JSON:-runs/bench/bench.json}
BENCH_DATA=${BENCH_DATA:-runs/bench/data}
BENCH_WORK=${BENCH_WORK:-runs/bench}
BENCH_REPEATS=${BENCH_REPEATS:-3}
BENCH_NIGHTLY_REPEATS=${BENCH_NIGHTLY_REPEATS:-3}
TARGET_DIR=${CARGO_TARGET_DIR:-target}
CONFIG_ARGS=()
if [[ -n "${BENCH_CONFIG:-}" ]]; then
    [[ -f "$BENCH_CONFIG" ]] || die "BENCH_CONFIG=$BENCH_CONFIG: no such file"
    CONFIG_ARGS=(--config "$BENCH_CONFIG")
fi

# Sizing only: the default synthetic market has 4-hour sessions at 1.5
# trades and 1.8 quotes per second, about 47,520 rows per symbol-day. The
# actual rows are counted by the bench and reported.
ROWS_PER_SYMBOL_DAY=47520
# At most this many days per symbol (about a month of weekdays); more
# ticks come from more symbols.
MAX_DAYS=21

# --- Checks ------------------------------------------------------------------

check_tools() {
    [[ -x /usr/bin/time ]] || die "/usr/bin/time (GNU time) is missing; install the 'time' package"
    /usr/bin/time -f '%e %M' true 2>/dev/null ||
        die "/usr/bin/time does not take -f '%e %M'; GNU time is needed"
    command -v awk >/dev/null || die "awk is missing"
    command -v cargo >/dev/null || die "cargo is not on PATH"
    for size in $SIZES; do
        [[ "$size" =~ ^[1-9][0-9]*$ ]] || die "SIZES: '$size' is not a whole number of millions"
    done
    [[ "$BENCH_REPEATS" =~ ^[1-9][0-9]*$ ]] || die "BENCH_REPEATS: '$BENCH_REPEATS' is not >= 1"
    [[ "$BENCH_NIGHTLY_REPEATS" =~ ^[1-9][0-9]*$ ]] ||
        die "BENCH_NIGHTLY_REPEATS: '$BENCH_NIGHTLY_REPEATS' is not >= 1"
}

# --- Build -------------------------------------------------------------------

# Builds the binary and the bench once; sets DIVTUNE and SCALE.
build() {
    local log="$BENCH_WORK/build.log"
    echo "bench.sh: building (release); log in $log" >&2
    { cargo build --release && cargo bench --bench scale --no-run; } >"$log" 2>&1 ||
        { tail -n 20 "$log" >&2; die "the build failed; see $log"; }
    DIVTUNE="$TARGET_DIR/release/divtune"
    SCALE=$(sed -n 's/^ *Executable benches\/scale\.rs (\(.*\))$/\1/p' "$log" | tail -n 1)
    [[ -x "$DIVTUNE" ]] || die "$DIVTUNE was not built"
    [[ -n "$SCALE" && -x "$SCALE" ]] || die "cannot find the scale bench executable in $log"
}

# --- Data --------------------------------------------------------------------

# Symbols and days for a size in millions: "SYMBOLS DAYS".
layout() {
    local symbol_days=$((($1 * 1000000 + ROWS_PER_SYMBOL_DAY / 2) / ROWS_PER_SYMBOL_DAY))
    local symbols=$(((symbol_days + MAX_DAYS - 1) / MAX_DAYS))
    ((symbols >= 3)) || symbols=3
    local days=$(((symbol_days + symbols / 2) / symbols))
    ((days >= 1)) || days=1
    echo "$symbols $days"
}

symbol_list() {
    local i list=""
    for ((i = 1; i <= $1; i++)); do list+="$(printf 'SYM%03d' "$i"),"; done
    echo "${list%,}"
}

# Writes the market for a size unless the same one is already there.
market() {
    local dir=$1 symbols=$2 days=$3
    local args=(synth -q "${CONFIG_ARGS[@]}" --symbols "$(symbol_list "$symbols")" --days "$days")
    local stamp="divtune ${args[*]}"
    if [[ -f "$dir/.bench-market" ]] && [[ "$(cat "$dir/.bench-market")" == "$stamp" ]]; then
        echo "bench.sh: reusing $dir ($symbols symbols x $days days)" >&2
        return
    fi
    if [[ -e "$dir" && ! -f "$dir/.bench-market" ]]; then
        die "$dir exists but was not written by bench.sh; remove it or set BENCH_DATA"
    fi
    echo "bench.sh: writing $dir ($symbols symbols x $days days)" >&2
    rm -rf "$dir.tmp"
    "$DIVTUNE" "${args[@]}" --out "$dir.tmp" >&2 || die "divtune synth failed for $dir"
    echo "$stamp" >"$dir.tmp/.bench-market"
    rm -rf "$dir"
    mv "$dir.tmp" "$dir"
}

# --- Measurements ------------------------------------------------------------

# A number from the bench's flat JSON (one key per line).
json_num() {
    local value
    value=$(sed -n "s/^  \"$1\": \([^,]*\),\{0,1\}\$/\1/p" "$2")
    [[ -n "$value" ]] || die "$2: no key '$1'"
    echo "$value"
}

# Runs the whole nightly job with $3 threads; prints "WALL_S PEAK_RSS_KIB EXIT".
nightly() {
    local data=$1 dir=$2 threads=$3 status=0
    rm -rf "$dir"
    mkdir -p "$dir"
    RAYON_NUM_THREADS=$threads POLARS_MAX_THREADS=$threads \
        /usr/bin/time -f '%e %M' -o "$dir/time.txt" \
        "$DIVTUNE" nightly -q "${CONFIG_ARGS[@]}" --data "$data" \
        --out "$dir/runs" --reports "$dir/reports" >"$dir/stdout.txt" 2>"$dir/stderr.txt" ||
        status=$?
    # 0: gate passed, 1: gate failed; both are completed runs.
    if ((status > 1)); then
        tail -n 20 "$dir/stderr.txt" >&2
        die "divtune nightly exited with $status on $data; see $dir/stderr.txt"
    fi
    # GNU time puts "Command exited with non-zero status" before the figures.
    echo "$(tail -n 1 "$dir/time.txt") $status"
}

# 1 when x < y, else 0.
less_than() {
    awk -v x="$1" -v y="$2" 'BEGIN { print (x + 0 < y + 0) ? 1 : 0 }'
}

# CPU clock ticks spent so far by the whole machine (busy, not idle or
# iowait) and by this script with every child it waited for. Their
# difference over a span is what other processes used: contention that
# would skew every figure. Prints "MACHINE OWN", or nothing without /proc.
cpu_ticks() {
    [[ -r /proc/stat && -r /proc/$$/stat ]] || return 0
    echo "$(awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9 }' /proc/stat)" \
        "$(awk '{ print $14 + $15 + $16 + $17 }' "/proc/$$/stat")"
}

# Share of the machine's CPU capacity that other processes used between two
# cpu_ticks readings taken SECONDS apart, in percent; "null" without /proc.
other_cpu_percent() {
    local before=$1 after=$2 seconds=$3
    [[ -n "$before" && -n "$after" ]] || { echo null; return; }
    awk -v b="$before" -v a="$after" -v s="$seconds" -v n="$(nproc)" -v hz="$(getconf CLK_TCK)" '
        BEGIN {
            split(b, x, " "); split(a, y, " ")
            other = (y[1] - x[1]) - (y[2] - x[2])
            if (other < 0) other = 0
            printf "%.1f", 100 * other / hz / (s * n)
        }'
}

# x / y to 3 decimals.
ratio() {
    awk -v x="$1" -v y="$2" 'BEGIN { if (y + 0 == 0) print "null"; else printf "%.3f", x / y }'
}

# One size: data, bench, nightly twice; appends a JSON object to ENTRIES
# and a table row to ROWS.
measure() {
    local size=$1 symbols days
    read -r symbols days <<<"$(layout "$size")"
    local data="$BENCH_DATA/${size}M" work="$BENCH_WORK/${size}M"
    market "$data" "$symbols" "$days"
    mkdir -p "$work"
    local ticks_before started=$EPOCHREALTIME
    ticks_before=$(cpu_ticks)

    echo "bench.sh: ${size}M: scale bench on 1 thread" >&2
    local figures="$work/scale.json"
    RAYON_NUM_THREADS=1 POLARS_MAX_THREADS=1 "$SCALE" "${CONFIG_ARGS[@]}" --data "$data" \
        --json "$figures" --repeats "$BENCH_REPEATS" >&2 2>"$work/scale.log" ||
        { tail -n 20 "$work/scale.log" >&2; die "the scale bench failed on $data"; }

    # 1 and 2 threads alternate, so that a change in background load hits
    # both; per thread count the fastest run counts, with the largest peak RSS.
    local i t run wall rss status
    local -A best_wall=() peak_rss=([1]=0 [2]=0) exit_code=() walls=()
    for ((i = 1; i <= BENCH_NIGHTLY_REPEATS; i++)); do
        for t in 1 2; do
            echo "bench.sh: ${size}M: nightly on $t thread(s), run $i" >&2
            run=$(nightly "$data" "$work/nightly-${t}t" "$t")
            read -r wall rss status <<<"$run"
            walls[$t]+="${walls[$t]:+, }$wall"
            if [[ -z "${best_wall[$t]:-}" ]] || (($(less_than "$wall" "${best_wall[$t]}"))); then
                best_wall[$t]=$wall
                exit_code[$t]=$status
            fi
            if ((rss > peak_rss[$t])); then peak_rss[$t]=$rss; fi
        done
    done
    local wall1=${best_wall[1]} wall2=${best_wall[2]} rss1=${peak_rss[1]} rss2=${peak_rss[2]}

    local other_cpu
    other_cpu=$(other_cpu_percent "$ticks_before" "$(cpu_ticks)" \
        "$(awk -v a="$started" -v b="$EPOCHREALTIME" 'BEGIN { print b - a }')")
    if [[ "$other_cpu" != null ]] && (($(less_than 5 "$other_cpu"))); then
        echo "bench.sh: warning: other processes used $other_cpu % of the CPU during ${size}M;" \
            "its figures are slowed by them" >&2
    fi

    local bare grid_ratio over_bare speedup
    bare=$(json_num bare_scan_s "$figures")
    grid_ratio=$(json_num grid_full_over_one "$figures")
    over_bare=$(ratio "$wall1" "$bare")
    speedup=$(ratio "$wall1" "$wall2")

    ENTRIES+=("$(
        cat <<EOF
    {
      "target_million_ticks": $size,
      "symbols": $symbols,
      "days": $days,
      "data": $(json_str "$data"),
      "scale": $(sed '1!s/^/      /' "$figures"),
      "other_processes_cpu_percent": $other_cpu,
      "nightly_1_thread": {
        "wall_s": $wall1, "wall_s_runs": [${walls[1]}],
        "peak_rss_kib": $rss1, "exit": ${exit_code[1]}
      },
      "nightly_2_threads": {
        "wall_s": $wall2, "wall_s_runs": [${walls[2]}],
        "peak_rss_kib": $rss2, "exit": ${exit_code[2]}
      },
      "nightly_1_thread_over_bare_scan": $over_bare,
      "speedup_2_threads_over_1": $speedup,
      "grid_full_over_one_set": $grid_ratio
    }
EOF
    )")
    ROWS+=("$(table_row "$figures" "$size" "$symbols x $days" "$wall1" "$over_bare" "$wall2" \
        "$speedup" "$rss1" "$rss2" "$other_cpu")")
}

# --- Output ------------------------------------------------------------------

json_str() {
    printf '"%s"' "$(printf '%s' "$1" | sed 's/\\/\\\\/g; s/"/\\"/g')"
}

machine_json() {
    local cpu mem_kib
    cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo 2>/dev/null | head -n 1)
    mem_kib=$(sed -n 's/^MemTotal: *\([0-9]*\) kB$/\1/p' /proc/meminfo 2>/dev/null)
    cat <<EOF
{
    "nproc": $(nproc),
    "mem_total_kib": ${mem_kib:-null},
    "cpu_model": $(json_str "${cpu:-unknown}"),
    "kernel": $(json_str "$(uname -sr)"),
    "rustc": $(json_str "$(rustc --version 2>/dev/null || echo unknown)"),
    "git_commit": $(json_str "$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"),
    "date_utc": $(json_str "$(date -u +%Y-%m-%dT%H:%M:%SZ)")
  }
EOF
}

# A table row, arguments in column order: FIGURES SIZE LAYOUT NIGHTLY_1T_S
# OVER_BARE NIGHTLY_2T_S SPEEDUP RSS_1T_KIB RSS_2T_KIB OTHER_CPU. The bench's
# columns come from its FIGURES file.
table_row() {
    local f=$1
    local cols=(
        "$2" "$(mticks "$(json_num ticks "$f")")" "$3"
        "$(json_num bare_scan_s "$f")"
        "$(mticks "$(json_num features_ticks_per_s "$f")")"
        "$(mticks "$(json_num detector_ticks_per_s "$f")")"
        "$(mticks "$(json_num grid_full_ticks_per_s "$f")")"
        "$(json_num grid_full_over_one "$f")"
        "$4" "$5" "$6" "$7" "$(mib "$8")" "$(mib "$9")" "${10}"
    )
    local row="|" c
    for c in "${cols[@]}"; do row+=" $(rounded "$c") |"; done
    echo "$row"
}

mticks() { awk -v r="$1" 'BEGIN { printf "%.2f", r / 1e6 }'; }
mib() { awk -v k="$1" 'BEGIN { printf "%.0f", k / 1024 }'; }

# Numbers with many decimals get 2; everything else passes through.
rounded() {
    if [[ "$1" =~ ^[0-9]+\.[0-9]{3,}$ ]]; then awk -v v="$1" 'BEGIN { printf "%.2f", v }'; else
        echo "$1"
    fi
}

table() {
    echo "| target M ticks | M ticks | symbols x days | bare scan s | features M ticks/s" \
        "| detector M ticks/s | full grid M ticks/s | full grid / one set" \
        "| nightly 1 thread s | nightly 1 thread / bare scan | nightly 2 threads s" \
        "| 2 threads / 1 | peak RSS 1 thread MiB | peak RSS 2 threads MiB" \
        "| other processes' CPU % |"
    echo "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    printf '%s\n' "${ROWS[@]}"
}

# Writes the JSON (all sizes so far) and the table, each through a
# temporary file, so a crash at a large size keeps the smaller ones.
write_out() {
    local json_tmp="$BENCH_JSON.tmp" md="${BENCH_JSON%.json}.md"
    {
        echo "{"
        echo "  \"schema\": \"divtune-bench/1\","
        echo "  \"machine\": $MACHINE,"
        echo "  \"sizes\": ["
        local i
        for ((i = 0; i < ${#ENTRIES[@]}; i++)); do
            ((i == 0)) || echo "    ,"
            echo "${ENTRIES[$i]}"
        done
        echo "  ]"
        echo "}"
    } >"$json_tmp"
    mv "$json_tmp" "$BENCH_JSON"
    { table; } >"$md.tmp"
    mv "$md.tmp" "$md"
}

# --- Main --------------------------------------------------------------------

check_tools
mkdir -p "$BENCH_WORK" "$BENCH_DATA" "$(dirname "$BENCH_JSON")"
build
MACHINE=$(machine_json)
ENTRIES=()
ROWS=()
started=$(date +%s)
for size in $SIZES; do
    measure "$size"
    write_out
done
echo "bench.sh: done in $(($(date +%s) - started)) s; figures in $BENCH_JSON" >&2
echo "Machine: $(sed -n 's/^ *"cpu_model": "\(.*\)",$/\1/p' <<<"$MACHINE"), $(nproc) cores," \
    "$(awk '/^MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo) RAM;" \
    "$(rustc --version 2>/dev/null); $(date -u +%Y-%m-%d)"
echo
table
