#!/usr/bin/env python3
"""Check event lines against docs/client-protocol.schema.json (needs the `jsonschema` package;
setup.sh puts it in python-websockets/.venv).

    check-events.py            self-check: the doc's example lines must pass, known-bad ones fail
    check-events.py FILE|-     check a captured stdout: every line starting with `{` must be a
                               valid event; other lines are not events and are skipped

Exits 1 if anything is wrong, naming each bad line by its number.
"""

import json
import pathlib
import sys

import jsonschema

DOCS = pathlib.Path(__file__).resolve().parents[2] / "docs"
SCHEMA = json.loads((DOCS / "client-protocol.schema.json").read_text())
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)
MAX_LINE = 64 * 1024

# Lines the protocol calls malformed, each for a different reason.
MALFORMED = [
    '{"event":"sent","id":42',  # not JSON
    '{"id":42}',  # no event
    '{"event":"reconnecting"}',  # unknown event
    '{"event":"sent"}',  # sent without an id
    '{"event":"received","id":true}',  # id neither string nor number
    '{"event":"received","id":4.5}',  # id not an integer
    '{"event":"received","id":-1}',  # id below 0
    '{"event":"received","id":""}',  # empty id
    '{"event":"closed","code":"1006"}',  # code as a string
    '{"event":"closed","reason":null}',  # reason not a string
    '{"event":"open","local":53012}',  # local not a string
    '{"event":"open","local":"::1:53012"}',  # IPv6 without brackets
    '["event","ready"]',  # not an object
]
# Lines that must pass: extra fields are ignored, and fields of other events are not checked.
VALID = [
    '{"event":"ready","pid":1234}',
    '{"event":"ready","id":null}',
    '{"event":"open"}',
    '{"event":"open","local":"[::1]:53012"}',
    '{"event":"closed"}',
    '{"event":"sent","id":"msg-7","bytes":64}',
    '{"event":"received","id":18446744073709551615}',
]


def problem(line):
    """None for a valid event line, else why not."""
    if len(line.encode()) > MAX_LINE:
        return "longer than 64 KiB"
    try:
        event = json.loads(line)
    except ValueError as exc:
        return f"not JSON: {exc}"
    error = jsonschema.exceptions.best_match(VALIDATOR.iter_errors(event))
    return None if error is None else error.message


def self_check():
    doc = (DOCS / "client-protocol.md").read_text().splitlines()
    examples = [line for line in doc if line.startswith('{"event"')]
    assert len(examples) == 7, f"expected the doc's 7 example lines, found {len(examples)}"
    failures = [f"should pass: {line} ({problem(line)})" for line in examples + VALID if problem(line)]
    failures += [f"should fail: {line}" for line in MALFORMED if problem(line) is None]
    for failure in failures:
        print(failure)
    checked = len(examples) + len(VALID) + len(MALFORMED)
    print(f"{checked - len(failures)} passed, {len(failures)} failed")
    return 1 if failures else 0


def check(stream, name):
    counts, bad = {}, 0
    for number, line in enumerate(stream, 1):
        line = line.rstrip("\n")
        if not line.startswith("{"):
            continue  # not an event: wschaos would log it
        why = problem(line)
        if why:
            bad += 1
            print(f"{name}:{number}: malformed: {why}: {line[:120]}")
        else:
            event = json.loads(line)["event"]
            counts[event] = counts.get(event, 0) + 1
    print(f"{name}: {sum(counts.values())} events {counts}, {bad} malformed")
    return 1 if bad else 0


if __name__ == "__main__":
    if len(sys.argv) == 1:
        sys.exit(self_check())
    status = 0
    for arg in sys.argv[1:]:
        if arg == "-":
            status |= check(sys.stdin, "stdin")
        else:
            with open(arg) as f:
                status |= check(f, arg)
    sys.exit(status)
