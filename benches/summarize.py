#!/usr/bin/env python3
"""Turns criterion's results into reports: `summarize.py` (or `summarize.py proxy`) after
`cargo bench --bench proxy` appends to reports/proxy-bench.md; `summarize.py backoff` after
`cargo bench --bench backoff` appends to reports/backoff-bench.md; `summarize.py observer`
after `cargo bench --bench observer` appends to reports/observer-bench.md; `summarize.py sim`
after `cargo bench --bench sim` appends to reports/sim-bench.md.

For the proxy:

Reads the median of each benchmark (criterion's estimate over its samples, with the 95 %
interval) from target/criterion/, computes proxy / direct ratios against the targets in
README.md's Performance section, and appends one dated section per run, so repeated runs on a
noisy machine stay visible side by side instead of overwriting each other.
"""

import json
import os
import platform
import subprocess
import sys
from datetime import datetime, timezone

BULK_BYTES = 8 * 1024 * 1024
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CRITERION = os.path.join(os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target")), "criterion")
REPORT = os.path.join(ROOT, "reports", "proxy-bench.md")
BACKOFF_REPORT = os.path.join(ROOT, "reports", "backoff-bench.md")
OBSERVER_REPORT = os.path.join(ROOT, "reports", "observer-bench.md")
SIM_REPORT = os.path.join(ROOT, "reports", "sim-bench.md")
SIM_SPEED_TARGET = 50


def median(group, name):
    path = os.path.join(CRITERION, group, name, "new", "estimates.json")
    with open(path) as file:
        estimate = json.load(file)["median"]
    interval = estimate["confidence_interval"]
    return estimate["point_estimate"], interval["lower_bound"], interval["upper_bound"]


def gib_per_s(nanoseconds):
    return BULK_BYTES / (nanoseconds / 1e9) / 2**30


def run_heading():
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT)
    return (
        f"## {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, commit {commit.stdout.strip() or '?'}, "
        f"{os.cpu_count()} CPUs, {platform.machine()}"
    )


def append(path, header, lines):
    existing = open(path).read() if os.path.exists(path) else header
    with open(path, "w") as file:
        file.write(existing + "\n".join(lines) + "\n")
    print("\n".join(lines))


def section(path, bench, header, rows):
    """Appends a dated section to `path` (starting it with `header`): the lines `rows()` builds
    from criterion's results, or advice to run `cargo bench --bench BENCH` when there are none."""
    try:
        body = rows()
    except FileNotFoundError as error:
        sys.exit(f"no criterion results ({error}); run `cargo bench --bench {bench}` first")
    append(path, header, [run_heading(), ""] + body + [""])


def backoff():
    lines = [run_heading(), "", "| group | strategy | median ns per delay (95% CI) |", "|---|---|---|"]
    for group in ("next_delay_kind", "next_delay_preset"):
        folder = os.path.join(CRITERION, group)
        if not os.path.isdir(folder):
            sys.exit(f"no criterion results in {folder}; run `cargo bench --bench backoff` first")
        for name in sorted(os.listdir(folder)):
            if name == "report":
                continue
            point, low, high = median(group, name)
            lines.append(f"| {group} | {name} | {point:.1f} ({low:.1f}–{high:.1f}) |")
    lines.append("")
    header = (
        "# Cost of computing a reconnect delay\n\n"
        "Written by `python3 benches/summarize.py backoff` after `cargo bench --bench backoff`; one\n"
        "section per run. Each figure is one `BackoffState::next_delay`, resetting every 16 draws.\n\n"
    )
    append(BACKOFF_REPORT, header, lines)


def elements(group, name):
    """The throughput elements of a benchmark (criterion keeps them in benchmark.json)."""
    with open(os.path.join(CRITERION, group, name, "new", "benchmark.json")) as file:
        return json.load(file)["throughput"]["Elements"]


def sim():
    def rows():
        lines = ["| benchmark | median per iteration (95% CI) | per wall-clock second |", "|---|---|---|"]
        for name in ("1_client", "100_clients"):
            point, low, high = median("sim_round_trip", name)
            per_second = elements("sim_round_trip", name) / (point / 1e9)
            lines.append(
                f"| proxied 64 B echo, {name.replace('_', ' ')} | {point / 1e3:.2f} µs ({low / 1e3:.2f}–{high / 1e3:.2f}) "
                f"| {per_second:,.0f} round trips |"
            )
        connect = {}
        for name in ("ws", "wss"):
            point, low, high = median("sim_connect", name)
            connect[name] = point
            lines.append(
                f"| a new proxied connection over {name}:// (connect, upgrade, close) | {point / 1e3:.1f} µs "
                f"({low / 1e3:.1f}–{high / 1e3:.1f}) | {1e9 / point:,.0f} connections |"
            )
        lines.append(f"| wss / ws, per connection | {connect['wss'] / connect['ws']:.1f}× | |")
        point, low, high = median("sim_speed", "1000_clients_10_per_s")
        virtual = elements("sim_speed", "1000_clients_10_per_s")
        ratio = virtual / (point / 1e9)
        verdict = "met" if ratio >= SIM_SPEED_TARGET else "**not met**"
        lines.append(
            f"| run of 1,000 clients × 10 msg/s, {virtual} s virtual | {point / 1e6:.0f} ms ({low / 1e6:.0f}–{high / 1e6:.0f}) "
            f"| {ratio:.1f} virtual s (target ≥ {SIM_SPEED_TARGET}: {verdict}) |"
        )
        return lines

    header = (
        "# Sim engine speed\n\n"
        "Written by `python3 benches/summarize.py sim` after `cargo bench --bench sim`; one section per\n"
        "run. Round trips are 64-byte WebSocket echoes through the fault-free proxy to the echo server\n"
        "on the in-memory network and paused clock. The run is the runner end to end (reference\n"
        "clients, recorder) without writing events.jsonl; benches/scale.sh times the full command.\n"
        "Wall-clock figures depend on what else the machine runs.\n\n"
    )
    section(SIM_REPORT, "sim", header, rows)


def throughput_gib(group, name):
    """Median and 95 % interval of a throughput benchmark, in GiB/s (criterion's throughput is
    in the benchmark.json next to the estimates)."""
    point, low, high = median(group, name)
    with open(os.path.join(CRITERION, group, name, "new", "benchmark.json")) as file:
        size = json.load(file)["throughput"]["Bytes"]
    rate = lambda ns: size / (ns / 1e9) / 2**30
    return rate(point), rate(high), rate(low)


def observer():
    def rows():
        lines = ["| benchmark | median GiB/s (95% CI) |", "|---|---|"]
        for name in ("frames_64B", "frames_16KiB"):
            point, low, high = throughput_gib("observer_parse", name)
            lines.append(f"| observer alone, {name.replace('frames_', '')} frames | {point:.2f} ({low:.2f}–{high:.2f}) |")
        lines += ["", "| through the proxy, 8 MiB | observer following frames | observer off (opaque) | followed / opaque |", "|---|---|---|---|"]
        for size in ("16KiB", "64B"):
            group = f"proxy_ws_bulk_{size}"
            followed, opaque = throughput_gib(group, "followed"), throughput_gib(group, "opaque")
            lines.append(
                f"| {size} frames | {followed[0]:.2f} GiB/s ({followed[1]:.2f}–{followed[2]:.2f}) "
                f"| {opaque[0]:.2f} GiB/s ({opaque[1]:.2f}–{opaque[2]:.2f}) | {followed[0] / opaque[0]:.2f} × |"
            )
        return lines

    header = (
        "# What the frame observer costs\n\n"
        "Written by `python3 benches/summarize.py observer` after `cargo bench --bench observer`; one\n"
        "section per run. The observer alone parses a client's masked frames in 64 KiB reads. Through\n"
        "the live fault-free proxy, the same frames are sent after an upgrade request (the observer\n"
        "reads every frame header) or without one (it gives up at the first byte).\n\n"
    )
    section(OBSERVER_REPORT, "observer", header, rows)


def main():
    if sys.argv[1:] == ["backoff"]:
        return backoff()
    if sys.argv[1:] == ["observer"]:
        return observer()
    if sys.argv[1:] == ["sim"]:
        return sim()
    try:
        direct_bulk, proxy_bulk = median("throughput", "direct"), median("throughput", "proxy")
        direct_rtt, proxy_rtt = median("round_trip_64B", "direct"), median("round_trip_64B", "proxy")
    except FileNotFoundError as error:
        sys.exit(f"no criterion results ({error}); run `cargo bench --bench proxy` first")
    throughput_ratio = gib_per_s(proxy_bulk[0]) / gib_per_s(direct_bulk[0])
    rtt_ratio = proxy_rtt[0] / direct_rtt[0]
    lines = [
        run_heading(),
        "",
        "| benchmark | direct (median, 95% CI) | through proxy | proxy / direct | target |",
        "|---|---|---|---|---|",
        "| bulk throughput, 8 MiB | {:.2f} GiB/s ({:.2f}–{:.2f}) | {:.2f} GiB/s ({:.2f}–{:.2f}) | {:.2f} × | ≥ 0.70 × {} |".format(
            gib_per_s(direct_bulk[0]), gib_per_s(direct_bulk[2]), gib_per_s(direct_bulk[1]),
            gib_per_s(proxy_bulk[0]), gib_per_s(proxy_bulk[2]), gib_per_s(proxy_bulk[1]),
            throughput_ratio, "met" if throughput_ratio >= 0.7 else "**not met**"),
        "| 64 B round trip | {:.1f} µs ({:.1f}–{:.1f}) | {:.1f} µs ({:.1f}–{:.1f}) | {:.2f} × | ≤ 1.15 × {} |".format(
            direct_rtt[0] / 1e3, direct_rtt[1] / 1e3, direct_rtt[2] / 1e3,
            proxy_rtt[0] / 1e3, proxy_rtt[1] / 1e3, proxy_rtt[2] / 1e3,
            rtt_ratio, "met" if rtt_ratio <= 1.15 else "**not met**"),
        "",
    ]
    header = (
        "# Proxy overhead on loopback\n\n"
        "Written by `python3 benches/summarize.py` after `cargo bench --bench proxy`; one section per run.\n"
        "Client, proxy and server share one 2-worker tokio runtime, as in `wschaos run`; the proxy has\n"
        "no fault active (the fast copy path). Round trips are sequential 64-byte echoes on one connection.\n\n"
    )
    append(REPORT, header, lines)


if __name__ == "__main__":
    main()
