"""Means over seeds of the AWS backoff runs that benches/aws-backoff.sh wrote.

Usage: aws_means.py OUT SCENARIO... where OUT/SCENARIO/SEED/report.json exist.
"""

import json
import pathlib
import statistics
import sys


def means(folder):
    runs = {}
    for report in sorted(folder.glob("*/report.json")):
        for strategy in json.loads(report.read_text())["strategies"]:
            metrics = strategy["metrics"]
            runs.setdefault(strategy["name"], []).append(
                (metrics["attempts"]["sum"], metrics["completion_time"]["max"])
            )
    return {
        name: (statistics.mean(w for w, _ in values), statistics.mean(t for _, t in values), len(values))
        for name, values in runs.items()
    }


def main():
    out = pathlib.Path(sys.argv[1])
    for scenario in sys.argv[2:]:
        table = means(out / scenario)
        print(f"\n{scenario}")
        print("| strategy | seeds | writes (mean) | writes per client | completion (mean) |")
        print("|---|---:|---:|---:|---:|")
        clients = 200 if scenario.endswith("-200") else 100
        for name, (writes, completion, seeds) in table.items():
            print(f"| {name} | {seeds} | {writes:,.0f} | {writes / clients:.1f} | {completion:.2f} s |")
        exponential, full = table["aws-exponential"], table["aws-full-jitter"]
        print(
            f"exponential / full jitter: time {exponential[1] / full[1]:.2f}, "
            f"work {exponential[0] / full[0]:.2f}"
        )


main()
