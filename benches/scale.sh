#!/usr/bin/env bash
# Runs the scale scenarios (scenarios/scale/*.yaml) on the sim engine in a release build, each
# under /usr/bin/time -v, and appends one dated section to reports/scale.md: wall time, peak
# RSS (and per client), events.jsonl size, virtual seconds per wall second, verdict.
#
# Not run by CI: it takes minutes and gigabytes (the 100,000-client herd peaks near 4 GB).
# Wall-clock figures depend on what else the machine runs; say so when you quote them.
#
#   benches/scale.sh                      # every scale scenario
#   benches/scale.sh herd-100k hour-1k    # some of them, by name
#
# The runs' reports and events.jsonl go to $SCALE_OUT (default: a fresh temporary folder),
# which the script prints; events.jsonl files are large (about 1.1 GB for the herd, 1.4 GB
# for the hour), so delete the folder when done.
set -euo pipefail
cd "$(dirname "$0")/.."

target="${CARGO_TARGET_DIR:-target}"
cargo build --release --quiet
binary="$target/release/wschaos"
out="${SCALE_OUT:-$(mktemp -d -t wschaos-scale.XXXXXX)}"
mkdir -p "$out"

names=("$@")
if [ ${#names[@]} -eq 0 ]; then
    for file in scenarios/scale/*.yaml; do names+=("$(basename "$file" .yaml)"); done
fi

rows=()
for name in "${names[@]}"; do
    file="scenarios/scale/$name.yaml"
    [ -f "$file" ] || { echo "no scenario $file" >&2; exit 2; }
    echo "== $name (reports in $out/$name)" >&2
    rm -rf "${out:?}/$name"
    status=0
    /usr/bin/time -v "$binary" run "$file" --engine sim --out "$out/$name" \
        >"$out/$name.summary.md" 2>"$out/$name.time" || status=$?
    rows+=("$(python3 - "$out/$name" "$out/$name.time" "$status" "$name" <<'PY'
import json, os, re, sys
folder, timing, status, name = sys.argv[1:]
text = open(timing).read()
def field(label):
    match = re.search(re.escape(label) + r": (.+)", text)
    return match.group(1).strip() if match else None
clock = field("Elapsed (wall clock) time (h:mm:ss or m:ss)") or "0:0"
wall = 0.0
for part in clock.split(":"):
    wall = wall * 60 + float(part)
rss_kib = int(field("Maximum resident set size (kbytes)") or 0)
try:
    report = json.load(open(os.path.join(folder, "report.json")))
except FileNotFoundError:
    print(f"| {name} | did not finish (exit {status}) | {wall:.1f} s | {rss_kib / 1024:.0f} MiB | | | | |")
    sys.exit(0)
strategies = len(report["strategies"])
virtual = (report["duration"] + report["quiet_period"]) * strategies
events = os.path.getsize(os.path.join(folder, "events.jsonl"))
per_client = rss_kib / report["clients"]
print(
    f"| {name} | {report['clients']:,} clients, {virtual:,.0f} s virtual | {wall:.1f} s | "
    f"{rss_kib / 1024:,.0f} MiB | {per_client:.1f} KiB | {events / 2**20:,.0f} MiB | "
    f"{virtual / wall:.1f} | {report['verdict']} (exit {status}) |"
)
PY
)")
    echo "${rows[-1]}" >&2
done

report=reports/scale.md
if [ ! -f "$report" ]; then
    cat >"$report" <<'EOF'
# Scale runs on the sim engine

Written by `benches/scale.sh` (release build, `wschaos run … --engine sim` under
`/usr/bin/time -v`); one section per run. Peak RSS is the whole process's "Maximum resident set
size"; per client it is that divided by the client count (README.md's Performance section
budgets 64 KiB for a client + proxy + server chain). Virtual seconds per wall second is the
run's duration plus quiet period over its wall time, including start-up, events.jsonl and the
reports. Wall-clock figures depend on what else the machine runs.
EOF
fi
{
    echo
    echo "## $(date -u '+%Y-%m-%d %H:%M') UTC, commit $(git rev-parse --short HEAD), $(nproc) CPUs, $(uname -m), load average $(cut -d' ' -f1-3 /proc/loadavg)"
    echo
    echo "| scenario | size | wall time | peak RSS | per client | events.jsonl | virtual s per wall s | verdict |"
    echo "|---|---|---:|---:|---:|---:|---:|---|"
    printf '%s\n' "${rows[@]}"
} >>"$report"
echo "appended to $report; run outputs in $out" >&2
