#!/usr/bin/env bash
# Installs what the example clients need, next to them: a venv for the Python client (plus
# jsonschema for check-events.py) and node_modules for the Node client, from the pinned
# requirements.txt and the committed package-lock.json. Safe to run again: a working venv is
# reused, and npm ci reinstalls exactly the lock. Needs python3 (3.10 or later) and node 18+ with npm.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"

py="$here/python-websockets"
if ! "$py/.venv/bin/python" -c '' 2>/dev/null; then
    # Debian ships venv's pip bootstrap as a separate package; install it when we can.
    if ! python3 -c 'import ensurepip' 2>/dev/null; then
        if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
            apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv
        else
            echo "setup.sh: python3 has no venv support; install python3-venv" >&2
            exit 1
        fi
    fi
    rm -rf "$py/.venv"   # a venv whose python no longer runs is rebuilt from scratch
    python3 -m venv "$py/.venv"
fi
"$py/.venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    -r "$py/requirements.txt" -r "$here/requirements-check.txt"

(cd "$here/node-ws" && npm ci --no-audit --no-fund --loglevel=error)

echo "setup.sh: ready: $("$py/.venv/bin/python" -c 'import websockets; print("websockets", websockets.__version__)'), ws $(node -p 'require("'"$here"'/node-ws/node_modules/ws/package.json").version')"
