#!/usr/bin/env bash
# The listen-backlog benchmark (issue 13): runs benches/backlog.yaml live (2,000 clients by
# default, every link reset at 10 s, every client back 10 ms later) in a release build, reads
# the kernel's TcpExtListenOverflows and TcpExtListenDrops before and after (`nstat -azs`), and
# checks that the proxy's observed_recovery_time agrees with the clients' own recovery_time
# (within 50 ms or 5 %, per percentile). Appends one dated section to reports/backlog.md.
#
# Not run by CI: it takes about a minute and 4 descriptors per client (the client's socket,
# the proxy's two, the server's), so it raises `ulimit -n` to the hard limit first.
# The counters are the whole network namespace's: run it on an otherwise quiet machine.
#
#   benches/backlog.sh                 # 2,000 clients, this checkout's release build
#   benches/backlog.sh 4000            # more clients (needs `ulimit -Hn` above 16,000)
#   WSCHAOS=path/to/wschaos BACKLOG_LABEL="before the fix" benches/backlog.sh   # another build
#
# Reports and events.jsonl go to $BACKLOG_OUT (default: a fresh temporary folder).
set -euo pipefail
cd "$(dirname "$0")/.."

clients="${1:-2000}"
if [ -n "${WSCHAOS:-}" ]; then
    binary="$WSCHAOS"
else
    cargo build --release --quiet
    binary="${CARGO_TARGET_DIR:-target}/release/wschaos"
fi
out="${BACKLOG_OUT:-$(mktemp -d -t wschaos-backlog.XXXXXX)}"
mkdir -p "$out"
command -v nstat >/dev/null || { echo "backlog.sh: needs nstat (iproute2)" >&2; exit 2; }

ulimit -n "$(ulimit -Hn)"
need=$((clients * 4 + 256))
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt "$need" ]; then
    echo "backlog.sh: $clients clients need about $need descriptors; ulimit -Hn is $(ulimit -Hn)" >&2
    exit 2
fi

scenario="$out/backlog.yaml"
sed "s/^  count: 2000$/  count: $clients/" benches/backlog.yaml >"$scenario"
grep -q "^  count: $clients$" "$scenario"

counter() { nstat -azs "$1" | awk -v name="$1" '$1 == name { print $2 }'; }
overflows_before=$(counter TcpExtListenOverflows)
drops_before=$(counter TcpExtListenDrops)
status=0
# duration 20 s + quiet 10 s; the rest is start-up, shutdown and the reports.
timeout --signal=INT --kill-after=30 240 "$binary" run "$scenario" --engine live --out "$out/run" \
    >"$out/summary.md" 2>"$out/progress.txt" || status=$?
overflows=$(( $(counter TcpExtListenOverflows) - overflows_before ))
drops=$(( $(counter TcpExtListenDrops) - drops_before ))

row=$(python3 - "$out/run/report.json" "$status" "$clients" "$overflows" "$drops" <<'PY'
import json, sys
path, status, clients, overflows, drops = sys.argv[1:]
try:
    report = json.load(open(path))
except FileNotFoundError:
    print(f"| {clients} | {overflows} | {drops} | did not finish (exit {status}) | | | |")
    sys.exit(0)
strategy = report["strategies"][0]
metrics = strategy["metrics"]
def figures(name):
    m = metrics.get(name) or {}
    return [m.get(k) for k in ("count", "p50", "p90", "p99", "max")]
def ms(v):
    return "n/a" if v is None else f"{v * 1000:.1f}"
client, proxy = figures("recovery_time"), figures("observed_recovery_time")
agree = all(
    a is not None and b is not None and abs(a - b) <= max(0.050, 0.05 * abs(a))
    for a, b in zip(client[1:], proxy[1:])
) and client[0] == proxy[0]
def cell(f):
    return f"n={f[0]}, p50 {ms(f[1])} · p90 {ms(f[2])} · p99 {ms(f[3])} · max {ms(f[4])} ms"
print(
    f"| {clients} | {overflows} | {drops} | {cell(client)} | {cell(proxy)} | "
    f"{'yes' if agree else 'NO'} | {strategy['verdict']} (exit {status}) |"
)
PY
)
echo "$row"

report=reports/backlog.md
if [ ! -f "$report" ]; then
    cat >"$report" <<'EOF2'
# Listen backlog under a mass reset, live

Written by `benches/backlog.sh` (release build, `wschaos run benches/backlog.yaml --engine live`):
every client's link is reset at once and every client reconnects 10 ms later, so thousands of
SYNs reach the proxy's listener together. Overflows and drops are the kernel's
`TcpExtListenOverflows` and `TcpExtListenDrops` over the run (`nstat -azs`, the whole network
namespace). "agree" is whether the proxy's `observed_recovery_time` matches the clients'
`recovery_time` (same count; p50, p90, p99 and max within 50 ms or 5 %).
EOF2
fi
{
    echo
    label="${BACKLOG_LABEL:-${WSCHAOS:+$WSCHAOS}}"
    label="${label:-commit $(git describe --always --dirty)}"
    echo "## $label: $(date -u '+%Y-%m-%d %H:%M') UTC, somaxconn $(cat /proc/sys/net/core/somaxconn), $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"
    echo
    echo "| clients | listen overflows | listen drops | recovery_time (clients) | observed_recovery_time (proxy) | agree | verdict |"
    echo "|---:|---:|---:|---|---|---|---|"
    echo "$row"
} >>"$report"
echo "appended to $report; run outputs in $out" >&2
