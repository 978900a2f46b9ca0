#!/usr/bin/env bash
# Runs each example client (and its weak variant) for 9 s behind its own `wschaos proxy` playing
# scenarios/reset-then-blackhole.yaml, in front of one `wschaos echo`, all on loopback, then
# stops it with SIGTERM and checks what it printed:
#   - every client: exit 0 on SIGTERM, ready/open/sent/received seen, no malformed event line;
#   - heartbeat clients: the reset and the blackhole both noticed, so 3 opens;
#   - weak clients: the reset noticed, the blackhole never, so 2 opens.
# usage: smoke.sh [path/to/wschaos]      (run setup.sh first; the default is wschaos on PATH)
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
wschaos="${1:-wschaos}"
py="$here/python-websockets/.venv/bin/python"
out="$(mktemp -d)"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; }
trap cleanup EXIT

# Starts a wschaos command in the background (in this shell, so cleanup knows its pid) and
# sets addr to the first address it announces.
start() {
    local log="$1"; shift
    "$wschaos" "$@" >"$log" 2>&1 &
    pids+=($!)
    for _ in $(seq 100); do
        addr=$(grep -o -m1 -E '127\.0\.0\.1:[0-9]+' "$log" | head -1)
        [ -n "$addr" ] && return
        sleep 0.1
    done
    echo "smoke.sh: $* did not start: $(cat "$log")" >&2
    exit 1
}

start "$out/echo.log" echo --listen 127.0.0.1:0
echo_addr=$addr
declare -A cmd=(
    [python]="$py $here/python-websockets/client.py"
    [python-weak]="$py $here/python-websockets/client.py --weak"
    [node]="node $here/node-ws/client.js"
    [node-weak]="node $here/node-ws/client.js --weak"
)
declare -A client
for name in "${!cmd[@]}"; do
    start "$out/$name.proxy" proxy --listen 127.0.0.1:0 --upstream "$echo_addr" \
        --scenario "$here/scenarios/reset-then-blackhole.yaml"
    WSCHAOS_URL="ws://$addr/" WSCHAOS_EVENTS=stdout WSCHAOS_CLIENT_INDEX=0 WSCHAOS_COUNT=1 \
        WSCHAOS_SEED=1 ${cmd[$name]} >"$out/$name.out" 2>"$out/$name.log" &
    client[$name]=$!
done
sleep 9
for name in "${!client[@]}"; do kill -TERM "${client[$name]}"; done

passed=0 failed=0
check() {  # check NAME DESCRIPTION COMMAND...
    local name="$1" what="$2"; shift 2
    if "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL $name: $what"; fi
}
for name in python python-weak node node-weak; do
    wait "${client[$name]}"; rc=$?
    opens=$(grep -c '"event":"open"' "$out/$name.out")
    echo "$name: exit $rc, $opens opens: $(grep -v -E '"(sent|received)"' "$out/$name.out" | tr '\n' ' ')"
    check "$name" "exit 0 on SIGTERM (got $rc)" test "$rc" = 0
    for event in ready open sent received; do
        check "$name" "no $event event" grep -q "\"event\":\"$event\"" "$out/$name.out"
    done
    check "$name" "malformed event lines" "$py" "$here/check-events.py" "$out/$name.out" >/dev/null
    case "$name" in
        *-weak) check "$name" "expected 2 opens, got $opens" test "$opens" = 2 ;;
        *) check "$name" "expected 3 opens, got $opens" test "$opens" = 3 ;;
    esac
done
[ "$failed" = 0 ] || echo "smoke.sh: logs kept in $out"
[ "$failed" = 0 ] && rm -rf "$out"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
