#!/usr/bin/env bash
# The AWS backoff experiment (issue 14), averaged over seeds as the replication averages over
# repetitions: runs scenarios/aws-backoff.yaml (100 clients) and aws-backoff-200.yaml on the
# sim engine once per seed and prints, per strategy, the mean writes (attempts after the
# break) and the mean completion_time, then the exponential / full-jitter ratios. The table in
# reports/aws-backoff.md comes from `benches/aws-backoff.sh 50`.
#
#   benches/aws-backoff.sh          # seeds 1..20 (about 30 s in a release build)
#   benches/aws-backoff.sh 50       # seeds 1..50
set -euo pipefail
cd "$(dirname "$0")/.."

seeds="${1:-20}"
cargo build --release --quiet
binary="${CARGO_TARGET_DIR:-target}/release/wschaos"
out="$(mktemp -d -t wschaos-aws.XXXXXX)"
trap 'rm -rf "$out"' EXIT

for scenario in aws-backoff aws-backoff-200; do
    for seed in $(seq 1 "$seeds"); do
        "$binary" run "scenarios/$scenario.yaml" --engine sim --seed "$seed" \
            --out "$out/$scenario/$seed" >"$out/log" 2>&1 || { cat "$out/log"; exit 1; }
    done
done
python3 benches/aws_means.py "$out" aws-backoff aws-backoff-200
