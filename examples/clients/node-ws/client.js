#!/usr/bin/env node
// A reconnecting WebSocket client for wschaos on the `ws` package, with its reconnect loop and
// heartbeat written by hand (ws has neither).
//
//   node client.js [--weak] [URL]          # URL defaults to $WSCHAOS_URL
//
// It sends {"id":N} every SEND_EVERY seconds while connected, keeps the ids whose echo has not
// come back and sends them again after a reconnect (at-least-once). With WSCHAOS_EVENTS=stdout
// it prints one protocol event per line on stdout (docs/client-protocol.md); logs go to stderr.
//
// Environment: PING_INTERVAL (s, default 2, `none` turns pings off), PING_TIMEOUT (s, default 3),
// SEND_EVERY (s, default 0.1), SEND_FOR (s from the start, default `none`: new messages until
// stopped; unechoed ones are still resent after it). `--weak` turns the heartbeat off, so a
// silently dead link (a blackhole) is never noticed.
'use strict';
const WebSocket = require('ws');

const args = process.argv.slice(2);
const weak = args.includes('--weak');
const url = args.find((a) => a !== '--weak') || process.env.WSCHAOS_URL;
if (!url) {
  console.error('usage: client.js [--weak] URL   (or set WSCHAOS_URL)');
  process.exit(2);
}
const seconds = (name, dflt) => {
  const v = process.env[name] ?? dflt;
  return v.toLowerCase() === 'none' ? null : Number(v) * 1000;
};
const PING_EVERY = weak ? null : seconds('PING_INTERVAL', '2');
const PONG_TIMEOUT = seconds('PING_TIMEOUT', '3');
const SEND_EVERY = seconds('SEND_EVERY', '0.1');
const SEND_FOR = seconds('SEND_FOR', 'none');
const STARTED = Date.now();
const BACKOFF_BASE = 100; // ms; full jitter: delay = random(0, min(cap, base * 2^failures))
const BACKOFF_CAP = 5000;
const BACKOFF_RESET_AFTER = 5000; // a connection that lived this long resets the failure count
const index = process.env.WSCHAOS_CLIENT_INDEX;
const EVENTS = process.env.WSCHAOS_EVENTS === 'stdout';

// Writes to a pipe are synchronous on Linux, so no line is lost when the process exits.
const emit = (event, fields = {}) => {
  if (EVENTS) process.stdout.write(JSON.stringify({ event, ...fields }) + '\n');
};
const log = (...parts) => console.error(new Date().toISOString(), ...parts);

const pending = new Map(); // id -> text written but not echoed yet, in id order
let nextId = 1;
let failures = 0; // attempts since the backoff was last reset
let ws = null;
let stopping = false;

function connect() {
  emit('connecting');
  // identity: header asks for x-wschaos-client; sending it always is harmless. An identity
  // query (?wschaos_client=N) is already in the URL wschaos gives.
  const headers = index === undefined ? {} : { 'x-wschaos-client': index };
  // handshakeTimeout: a handshake into a dead link must fail, not hang.
  let sock;
  try {
    sock = new WebSocket(url, { headers, handshakeTimeout: 5000 });
  } catch (err) {
    // A malformed URL will never work: say so and stop, as the Python client does.
    log('giving up:', err.message);
    emit('gave_up');
    process.exit(1);
  }
  ws = sock;
  let local = null;
  let openedAt = null;
  let why = ''; // our own reason for ending it, when the peer sent none
  let permanent = false; // retrying cannot help

  // The upgrade response carries the socket: its local address lets wschaos match the
  // proxy's link exactly.
  sock.on('upgrade', (res) => {
    const host = res.socket.localAddress;
    local = `${host.includes(':') ? `[${host}]` : host}:${res.socket.localPort}`;
  });

  // ws leaves a non-101 answer to us when we listen for it. A 4xx other than 408 and 429 (a bad
  // token, a wrong path) will not change by retrying, so the client gives up; a 5xx is retried.
  sock.on('unexpected-response', (req, res) => {
    const status = res.statusCode;
    why = `HTTP ${status}`;
    permanent = status >= 400 && status < 500 && status !== 408 && status !== 429;
    sock.terminate();
  });

  sock.on('open', () => {
    openedAt = Date.now();
    emit('open', local ? { local } : {});
    log(`open, extensions: ${sock.extensions || 'none'}, ${pending.size} to resend`);
    for (const [id, text] of pending) send(sock, id, text); // old ones first, in id order
    const sender = setInterval(() => {
      if (SEND_FOR !== null && Date.now() - STARTED >= SEND_FOR) return clearInterval(sender);
      const id = nextId++;
      pending.set(id, JSON.stringify({ id }));
      send(sock, id, pending.get(id));
    }, SEND_EVERY);
    sock.once('close', () => clearInterval(sender)); // new messages only while connected
    if (PING_EVERY !== null) {
      heartbeat(sock, () => {
        why = 'pong timeout';
        log('no pong: terminating');
        sock.terminate(); // drops the socket at once: no closing handshake to wait for
      });
    }
  });

  sock.on('message', (data) => {
    let id;
    try {
      id = JSON.parse(data.toString()).id;
    } catch {
      id = undefined;
    }
    if (id === undefined) return log('not one of ours:', data.toString().slice(0, 80));
    pending.delete(id);
    emit('received', { id }); // every echo, a duplicate too: wschaos counts the duplicates
  });

  // ws always emits 'close' after 'error', for failed attempts too, so 'close' is the one
  // place that ends a connection or an attempt.
  sock.on('error', (err) => {
    log('error:', err.message);
    why = why || err.message; // e.g. connect ECONNREFUSED: the reason a failed attempt ended
  });
  sock.on('close', (code, reason) => {
    // A failed attempt never had a WebSocket close code to report.
    const fields = { reason: reason.toString() || why };
    emit('closed', openedAt === null ? fields : { code, ...fields });
    if (stopping) return;
    if (permanent) {
      log(`giving up: ${why}`);
      emit('gave_up');
      process.exit(1);
    }
    if (openedAt !== null && Date.now() - openedAt >= BACKOFF_RESET_AFTER) failures = 0;
    const delay = Math.random() * Math.min(BACKOFF_CAP, BACKOFF_BASE * 2 ** failures);
    failures += 1;
    log(`closed ${code}; reconnecting in ${Math.round(delay)} ms`);
    setTimeout(connect, delay);
  });
}

function send(sock, id, text) {
  if (sock.readyState !== WebSocket.OPEN) return;
  sock.send(text);
  emit('sent', { id });
}

// A ping every PING_EVERY; if the oldest unanswered ping has had no pong within PONG_TIMEOUT,
// the link is dead.
function heartbeat(sock, dead) {
  let deadline = null;
  sock.on('pong', () => {
    clearTimeout(deadline);
    deadline = null;
  });
  const pinger = setInterval(() => {
    sock.ping();
    if (deadline === null) deadline = setTimeout(dead, PONG_TIMEOUT);
  }, PING_EVERY);
  sock.once('close', () => {
    clearInterval(pinger);
    clearTimeout(deadline);
  });
}

// wschaos stops clients with SIGTERM; Ctrl-C by hand is the same request. Close politely, but
// never wait more than a second for a peer that may be unreachable.
function stop() {
  if (stopping) return;
  stopping = true;
  log('stopping');
  if (ws && ws.readyState === WebSocket.OPEN) {
    ws.once('close', () => process.exit(0));
    ws.close(1000, 'client stopping');
    setTimeout(() => process.exit(0), 1000).unref();
  } else {
    process.exit(0);
  }
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

log(`url=${url} ping_every=${PING_EVERY}`);
emit('ready');
connect();
