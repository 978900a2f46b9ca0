"""The AWS backoff experiment's model on its own, outside wschaos, to compare against.

A re-statement (written for wschaos, not copied) of the read-then-write optimistic concurrency
model that cosmo-grant/backoff-simulator's `aws_replication` runs (`ReadWriteOCCServer`, with
`aws_simulation.toml`: network |N(10, 2)| ms per message, write time 0, base 5 ms, cap 2 s, 50
repetitions). A client reads the version (one delay there, one back), sends its write (one
delay); the write commits if no other committed since the read, else the abort travels back
(one delay) and the client backs off, then reads again. Writes are counted; completion is the
last commit. The backoff after failure k (k = 0, 1, …) uses `base * 2**(k + start)`: the
replication starts at 0, the AWS article's simulator at 1 (wschaos's presets follow it).

Usage: python3 benches/aws_occ_model.py [REPETITIONS]   (default 50; about 2 minutes)
"""

import heapq
import random
import statistics
import sys

BASE, CAP = 5.0, 2000.0


def delay():
    return max(0.0, random.gauss(10, 2))


def backoffs(kind, start):
    step = start
    while True:
        ceiling = min(CAP, BASE * 2**step)
        step += 1
        if kind == "none":
            yield 0.0
        elif kind == "exponential":
            yield ceiling
        elif kind == "full":
            yield random.uniform(0, ceiling)
        else:
            yield ceiling / 2 + random.uniform(0, ceiling / 2)


def run(clients, kind, start):
    version, writes, finished, order = 0, 0, 0.0, 0
    queue = []
    sleeps = [backoffs(kind, start) for _ in range(clients)]

    def later(at, step, client, seen=None):
        nonlocal order
        heapq.heappush(queue, (at, order, step, client, seen))
        order += 1

    for client in range(clients):
        later(0.0, "read", client)
    while queue:
        now, _, step, client, seen = heapq.heappop(queue)
        if step == "read":
            later(now + delay(), "at_server", client)
        elif step == "at_server":
            later(now + delay(), "write", client, version)
        elif step == "write":
            writes += 1
            later(now + delay(), "commit", client, seen)
        elif step == "commit":
            if version > seen:
                later(now + delay(), "aborted", client)
            else:
                version += 1
                finished = now
        else:
            later(now + next(sleeps[client]), "read", client)
    return writes, finished


def main():
    repetitions = int(sys.argv[1]) if len(sys.argv) > 1 else 50
    random.seed(2015)
    for start, who in [(0, "the replication (n from 0)"), (1, "the AWS simulator (n from 1)")]:
        for clients in (100, 200):
            means = {}
            for kind in ("none", "exponential", "equal", "full"):
                runs = [run(clients, kind, start) for _ in range(repetitions)]
                means[kind] = (
                    statistics.mean(w for w, _ in runs),
                    statistics.mean(t for _, t in runs) / 1000,
                )
                print(f"{who}, {clients} clients, {kind}: writes {means[kind][0]:,.0f}, "
                      f"completion {means[kind][1]:.2f} s", flush=True)
            exponential, full = means["exponential"], means["full"]
            print(f"  exponential / full: time {exponential[1] / full[1]:.2f}, "
                  f"work {exponential[0] / full[0]:.2f}", flush=True)


main()
