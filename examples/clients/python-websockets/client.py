#!/usr/bin/env python3
"""A reconnecting WebSocket client for wschaos, built on the `websockets` library's own loop.

    python client.py [--weak] [URL]        # URL defaults to $WSCHAOS_URL

It sends `{"id": N}` every SEND_EVERY seconds while connected, keeps the ids whose echo has not
come back and sends them again after a reconnect (at-least-once). With WSCHAOS_EVENTS=stdout it
prints one protocol event per line on stdout (docs/client-protocol.md); logs go to stderr.

On wss:// it trusts the CA in $WSCHAOS_CA (a PEM file; wschaos sets it to the run's CA) and
nothing else; without it, the system's roots.

Environment: PING_INTERVAL (s, default 2, `none` turns pings off), PING_TIMEOUT (s, default 3),
CLOSE_TIMEOUT (s, default 1), SEND_EVERY (s, default 0.1), SEND_FOR (s from the start, default
`none`: new messages until stopped; unechoed ones are still resent after it).
`--weak` turns the heartbeat off, so a silently dead link (a blackhole) is never noticed.
"""

import asyncio
import itertools
import json
import logging
import os
import signal
import ssl
import sys
import time

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

log = logging.getLogger("client")
EVENTS = os.environ.get("WSCHAOS_EVENTS") == "stdout"
STARTED = time.monotonic()


def emit(event, **fields):
    """One protocol event, one line, flushed at once: wschaos timestamps it when it reads it."""
    if EVENTS:
        print(json.dumps({"event": event, **fields}, separators=(",", ":")), flush=True)


def seconds(name, default):
    value = os.environ.get(name, default)
    return None if value.lower() == "none" else float(value)


class Attempts(connect):
    """The library's `connect`, plus an event at the start and at the failure of each attempt.

    `async for ... in connect(...)` calls `connect()` once per attempt, so this is the one
    place that sees every attempt, the first and each retry after the library's backoff. (An
    undocumented hook, checked against websockets 17.4, the version requirements.txt pins.)
    """

    async def connect(self):
        emit("connecting")
        try:
            return await super().connect()
        except Exception as exc:  # a refused, timed-out or rejected attempt
            emit("closed", reason=f"{type(exc).__name__}: {exc}")
            raise


def address(sockname):
    host, port = sockname[0], sockname[1]
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


async def sender(ws, pending, ids, every, send_for):
    # Whatever was written but never echoed goes first, in id order (at-least-once).
    for msg_id in sorted(pending):
        await ws.send(pending[msg_id])
        emit("sent", id=msg_id)
    while send_for is None or time.monotonic() - STARTED < send_for:
        msg_id = next(ids)
        pending[msg_id] = json.dumps({"id": msg_id})
        await ws.send(pending[msg_id])
        emit("sent", id=msg_id)
        await asyncio.sleep(every)
    await asyncio.Future()  # done sending new messages: stay connected, keep receiving


async def receiver(ws, pending):
    async for text in ws:
        try:
            msg_id = json.loads(text)["id"]
        except (ValueError, KeyError, TypeError):
            log.warning("not one of ours: %.80r", text)
            continue
        pending.pop(msg_id, None)
        # Every echo is reported, a duplicate too: wschaos counts the duplicates.
        emit("received", id=msg_id)


def close_fields(exc):
    """RFC 6455: 1006 when no Close frame came; the reason says why if we closed ourselves
    (e.g. "keepalive ping timeout": websockets sends it in a 1011, then reads nothing more)."""
    if exc.rcvd is not None:
        return {"code": exc.rcvd.code, "reason": exc.rcvd.reason}
    return {"code": 1006, "reason": exc.sent.reason if exc.sent is not None else ""}


async def run(url, weak):
    index = os.environ.get("WSCHAOS_CLIENT_INDEX")
    ping_interval = None if weak else seconds("PING_INTERVAL", "2")
    every = seconds("SEND_EVERY", "0.1")
    send_for = seconds("SEND_FOR", "none")
    ca = os.environ.get("WSCHAOS_CA")
    tls = ssl.create_default_context(cafile=ca) if ca and url.startswith("wss://") else None
    attempts = Attempts(
        url,  # an identity query (?wschaos_client=N) is already in the URL wschaos gives
        ssl=tls,
        # identity: header asks for this header; sending it always is harmless.
        additional_headers={"x-wschaos-client": index} if index is not None else None,
        ping_interval=ping_interval,
        ping_timeout=seconds("PING_TIMEOUT", "3"),
        # After a ping timeout websockets waits close_timeout for the server's TCP close before
        # giving up on the link; on a dead link that wait only adds to detection time.
        close_timeout=seconds("CLOSE_TIMEOUT", "1"),
        open_timeout=5,  # a handshake into a dead link must fail, not hang
        proxy=None,  # the target is wschaos on loopback: never route through $HTTP_PROXY
    )
    log.info("url=%s ping_interval=%s", url, ping_interval)
    pending, ids = {}, itertools.count(1)  # id -> text written but not echoed yet; next ids
    emit("ready")
    async for ws in attempts:
        emit("open", local=address(ws.local_address))
        extensions = ws.response.headers.get("Sec-WebSocket-Extensions")
        log.info("open, extensions: %s, %d to resend", extensions, len(pending))
        tasks = [
            asyncio.create_task(sender(ws, pending, ids, every, send_for)),
            asyncio.create_task(receiver(ws, pending)),
        ]
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                task.result()  # re-raises ConnectionClosed
            # The receiver ended without an error: the server closed with a Close frame.
            emit("closed", code=ws.close_code, reason=ws.close_reason or "")
        except ConnectionClosed as exc:
            log.info("closed: %s", exc)
            emit("closed", **close_fields(exc))
        except asyncio.CancelledError:  # stopping: close politely, within close_timeout
            for task in tasks:
                task.cancel()  # no more sends while closing
            await ws.close(1000, "client stopping")
            emit("closed", code=ws.close_code, reason=ws.close_reason or "")
            raise
        finally:
            for task in tasks:
                task.cancel()
        # Leaving the loop body hands control back to the library, which reconnects at once.


async def main():
    args = [a for a in sys.argv[1:] if a != "--weak"]
    url = args[0] if args else os.environ.get("WSCHAOS_URL")
    if not url:
        sys.exit("usage: client.py [--weak] URL   (or set WSCHAOS_URL)")
    loop = asyncio.get_running_loop()
    client = asyncio.create_task(run(url, "--weak" in sys.argv[1:]))
    stopping = False

    def stop():
        nonlocal stopping
        # wschaos stops clients with SIGTERM; Ctrl-C by hand is the same request. Only the first
        # counts: a second signal (GNU timeout sends two) must not cut the polite close short.
        if not stopping:
            stopping = True
            client.cancel()

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop)
    try:
        await client
    except asyncio.CancelledError:
        log.info("stopped")
        return 0
    except Exception as exc:  # a fatal error the library will not retry (e.g. HTTP 403)
        log.error("giving up: %s", exc)
        emit("gave_up")
        return 1
    return 0


if __name__ == "__main__":
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    sys.exit(asyncio.run(main()))
