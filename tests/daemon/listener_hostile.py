#!/usr/bin/env python3
"""The daemon's listener against hostile local clients (regression tests).

Starts `concord serve` as admin_api.py does (systems pointing at a closed
loopback port) and checks, each against a finding of a hostile tester:

  A  lockout: while 200 slow connections (a Content-Length, then a body
     byte every 2 s; or headers a byte at a time) come from 127.0.0.1,
     /health, GET /admin/status and a webhook POST answer within 1 s each,
     from 127.0.0.2 and from 127.0.0.1 itself; the same with the 200
     spread over 8 addresses; a connection sending its headers (or its
     body) a byte every 0.5 s is closed by the listener's deadline, not
     kept open by its trickle; the listener's log lines are rate-limited;
     SIGTERM while 30 admin requests wait answers them (200, or 503).
  W  admin requests while the main loop is in a poll that never gets an
     answer (rt's peer never answers, 14 s timeout): 70 of them hold no
     thread, /health and webhooks answer within 1 s, and each admin request
     is answered within 2 s from the waiting request (the HTTP client's
     interrupt hook); SIGTERM then stops the daemon within 2 s.
  G  the whole listener full (a daemon with 256 descriptors keeps 112
     connections; 200 slow ones from 8 addresses): the three requests
     still answer within 1 s, from a new address and from a flooding one.
  B  413 from the Content-Length before the body: a 50 MB Content-Length
     is refused at once with no body sent; with Expect: 100-continue and a
     1 TB Content-Length the answer is 413, never 100 Continue; a chunked
     body is cut at the 1 MiB limit with 413; a client sending 4 MiB
     without waiting reads the 413, not a reset.
  C  conflicting Content-Length headers (two different values, or "5, 7")
     and Content-Length together with Transfer-Encoding: 400.
  D  a URL whose decoded path holds a NUL or a control character (%00,
     %0a, %1f, %7f, a raw NUL byte in the request line) is refused with
     400 and never names a system: rt is not paused, no webhook counted.

Usage: listener_hostile.py CONCORD [A|W|G|B|C|D ...] (default: all). Python
3 stdlib only, loopback addresses only (127.0.0.x sources: Linux routes all
of 127/8 to lo); every wait is bounded.
"""
import http.client
import json
import os
import resource
import socket
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import admin_api as base  # noqa: E402  (config, start, stop, wait_health)

TOKEN = base.TOKEN
failures = []


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what, flush=True)
    if not ok:
        failures.append(what)


def note(what):
    print("     " + what, flush=True)


def req(port, method, path, src="127.0.0.2", token=None, body=None, timeout=1.0):
    """One request on a fresh connection from src: (status, body, seconds);
    status None when the request failed (the error is the body)."""
    t0 = time.monotonic()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout,
                                      source_address=(src, 0))
    try:
        headers = {"Authorization": "Bearer " + token} if token else {}
        conn.request(method, path, body=body, headers=headers)
        r = conn.getresponse()
        data = r.read().decode(errors="replace")
        return r.status, data, time.monotonic() - t0
    except (OSError, http.client.HTTPException) as e:
        return None, "%s: %s" % (type(e).__name__, e), time.monotonic() - t0
    finally:
        conn.close()


def connect(port, src, timeout=2.0):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.bind((src, 0))
    s.connect(("127.0.0.1", port))
    return s


def read_response(s, timeout):
    """Reads one response (or what arrives until the peer closes or timeout
    seconds pass): (status or None, raw bytes)."""
    end = time.monotonic() + timeout
    data = b""
    while time.monotonic() < end:
        head, sep, rest = data.partition(b"\r\n\r\n")
        if sep:
            status = int(head.split(b" ", 2)[1]) if head.startswith(b"HTTP/") else None
            if status is not None and 100 <= status < 200:
                return status, data  # an interim answer is an answer here
            clen = 0
            for line in head.split(b"\r\n")[1:]:
                k, _, v = line.partition(b":")
                if k.strip().lower() == b"content-length":
                    clen = int(v.strip())
            if len(rest) >= clen:
                return status, data
        s.settimeout(max(0.01, end - time.monotonic()))
        try:
            b = s.recv(65536)
        except socket.timeout:
            break
        except OSError:
            break
        if not b:
            break
        data += b
    if data.startswith(b"HTTP/"):
        try:
            return int(data.split(b" ", 2)[1]), data
        except (IndexError, ValueError):
            pass
    return None, data


def raw(port, payload, src="127.0.0.5", timeout=3.0):
    """Sends payload on a fresh connection and reads one response."""
    try:
        s = connect(port, src)
    except OSError as e:
        return None, str(e).encode()
    try:
        s.sendall(payload)
        return read_response(s, timeout)
    except OSError as e:
        return None, str(e).encode()
    finally:
        s.close()


def is_open(s):
    """True while the server has not closed the connection."""
    try:
        return s.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) != b""
    except BlockingIOError:
        return True
    except OSError:
        return False


class Flood:
    """count slow connections from the given source addresses: each sends
    its request head (kind "body": the whole head with a Content-Length,
    then a body byte every `every` seconds; kind "head": the request line,
    then a header byte every `every` seconds)."""

    def __init__(self, port, sources, count, kind, every=2.0):
        self.socks = []
        self.refused = 0
        self.stop_ev = threading.Event()
        for i in range(count):
            src = sources[i % len(sources)]
            try:
                s = connect(port, src, timeout=2.0)
                if kind == "body":
                    s.sendall(b"POST /webhook/rt HTTP/1.1\r\nHost: x\r\n"
                              b"Content-Length: 1000000\r\n\r\n")
                else:
                    s.sendall(b"POST /webhook/rt HTTP/1.1\r\nHost: x\r\nX-Slow: ")
                s.setblocking(False)
                self.socks.append(s)
            except OSError:
                self.refused += 1
        self.kind = kind
        self.every = every
        self.t = threading.Thread(target=self._trickle, daemon=True)
        self.t.start()

    def _trickle(self):
        while not self.stop_ev.wait(self.every):
            for s in self.socks:
                try:
                    s.send(b"x")
                except OSError:
                    pass

    def held(self):
        return sum(1 for s in self.socks if is_open(s))

    def close(self):
        self.stop_ev.set()
        self.t.join(timeout=self.every + 2)
        for s in self.socks:
            s.close()


PROBES = (("GET", "/health", None, None, 200),
          ("GET", "/admin/status", TOKEN, None, 200),
          ("POST", "/webhook/rt", None, b'{"ticket": 1}', 202))


def probes(port, label, rounds=3, gap=1.0, which=PROBES, item="A", srcs=("127.0.0.2",)):
    """/health, GET /admin/status and a webhook POST from each of srcs, each
    within 1 s, `rounds` times; returns the slowest time seen of each, as
    text (GET /admin/status waits for the main loop, which naps up to
    200 ms between cycles)."""
    worst = {}
    for r in range(rounds):
        for src in srcs:
            for method, path, token, body, want in which:
                st, text, secs = req(port, method, path, src=src, token=token, body=body,
                                     timeout=1.0)
                worst[path] = max(worst.get(path, 0.0), secs)
                check(st == want and secs <= 1.0,
                      "%s %s: %s %s from %s answers %s within 1 s (round %d: got %s in "
                      "%.3f s%s)" % (item, label, method, path, src, want, r + 1, st, secs,
                                     "" if st == want else ", " + text[:80]))
        time.sleep(gap)
    return ", ".join("%s %.3f s" % (k, v) for k, v in worst.items())


def section_a(port, log_path):
    # Reference: the answer time without any flood.
    _, _, quiet = req(port, "GET", "/health", timeout=1.0)
    note("A: /health with no flood: %.4f s" % quiet)

    # 200 slow connections from one address (100 trickling a body, 100
    # trickling their headers).
    f1 = Flood(port, ["127.0.0.1"], 100, "body")
    f2 = Flood(port, ["127.0.0.1"], 100, "head")
    try:
        time.sleep(1.0)
        note("A: one address: %d of 200 slow connections not closed by the server "
             "(accepted, or waiting in its backlog; %d failed to connect)"
             % (f1.held() + f2.held(), f1.refused + f2.refused))
        worst = probes(port, "200 slow connections from 127.0.0.1",
                       srcs=("127.0.0.2", "127.0.0.1"))
        note("A: slowest probes during the one-address flood: %s" % worst)
    finally:
        f1.close()
        f2.close()

    # 200 slow connections spread over 8 addresses (25 each): more than the
    # old 64-connection limit, each address within its own bound.
    srcs = ["127.0.0.%d" % i for i in range(10, 18)]
    f3 = Flood(port, srcs, 100, "body")
    f4 = Flood(port, srcs, 100, "head")
    try:
        time.sleep(1.0)
        held = f3.held() + f4.held()
        note("A: 8 addresses: %d of 200 slow connections not closed by the server "
             "(accepted, or waiting in its backlog)" % held)
        worst = probes(port, "200 slow connections from 8 addresses")
        note("A: slowest probes during the 8-address flood: %s" % worst)
    finally:
        f3.close()
        f4.close()

    # Deadlines: a byte every 0.5 s keeps an idle timeout from firing, not
    # the listener's deadlines (headers: 5 s; body: 10 s after the headers).
    results = {}

    def slow(kind, limit, wait):
        t0 = time.monotonic()
        try:
            s = connect(port, "127.0.0.3")
            if kind == "head":
                s.sendall(b"POST /webhook/rt HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            else:
                s.sendall(b"POST /webhook/rt HTTP/1.1\r\nHost: x\r\n"
                          b"Content-Length: 100000\r\n\r\n")
            s.setblocking(False)
        except OSError as e:
            results[kind] = (None, str(e))
            return
        closed_at = None
        while time.monotonic() - t0 < wait:
            if not is_open(s):
                closed_at = time.monotonic() - t0
                break
            try:
                s.send(b"x")
            except OSError:
                closed_at = time.monotonic() - t0
                break
            time.sleep(0.5)
        s.close()
        results[kind] = (closed_at, limit)

    threads = [threading.Thread(target=slow, args=("head", 6.5, 13.0)),
               threading.Thread(target=slow, args=("body", 11.5, 16.0))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=20)
    for kind, what in (("head", "its headers"), ("body", "its body")):
        closed_at, limit = results.get(kind, (None, None))
        check(closed_at is not None and isinstance(limit, float) and closed_at <= limit,
              "A: a connection sending %s a byte every 0.5 s is closed by the deadline "
              "within %s s (closed after %s)"
              % (what, limit, "%.1f s" % closed_at if closed_at is not None else "never"))

    st, _, secs = req(port, "GET", "/health", src="127.0.0.1", timeout=2.0)
    check(st == 200, "A: after the floods, /health from 127.0.0.1 answers (%s in %.3f s)"
          % (st, secs))
    # Everything in the log but the runtime's own lines about its systems
    # (the peers are unreachable: their polls fail every second).
    with open(log_path, errors="replace") as f:
        lines = [x for x in f if "system=" not in x and " INFO " not in x]
    check(len(lines) <= 40, "A: the listener's log messages are rate-limited "
          "(%d lines after the floods)" % len(lines))


def section_b(port):
    # 50 MB announced, no body sent: the answer must come at once.
    t0 = time.monotonic()
    st, data = raw(port, b"POST /webhook/rt HTTP/1.1\r\nHost: x\r\n"
                         b"Content-Length: 52428800\r\n\r\n", timeout=3.0)
    secs = time.monotonic() - t0
    check(st == 413 and secs < 1.0,
          "B: Content-Length 50 MB, no body sent: 413 at once (got %s in %.3f s)" % (st, secs))

    # Expect: 100-continue with 1 TB: 413, never 100.
    st, data = raw(port, b"POST /webhook/rt HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
                         b"Content-Length: 1099511627776\r\n\r\n", timeout=3.0)
    check(st == 413 and b" 100 " not in data.split(b"\r\n", 1)[0],
          "B: Expect: 100-continue with Content-Length 1 TB: 413, not 100 (got %s: %r)"
          % (st, data[:40]))

    # A chunked body over the limit is cut at the limit.
    try:
        s = connect(port, "127.0.0.5")
    except OSError as e:
        check(False, "B: connect: %s" % e)
        return
    sent = 0
    try:
        s.sendall(b"POST /webhook/rt HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
        chunk = b"x" * 65536
        while sent < 1280 * 1024:
            s.sendall(b"10000\r\n" + chunk + b"\r\n")
            sent += len(chunk)
    except OSError:
        pass
    st, data = read_response(s, 3.0)
    s.close()
    check(st == 413, "B: a chunked body of 1.25 MiB with no end: 413 once past 1 MiB "
          "(%d KiB sent; got %s)" % (sent // 1024, st))

    # A client that sends a 4 MiB body without waiting for an answer reads
    # the early 413 (the listener drains what it sends), not a reset.
    codes = [req(port, "POST", "/webhook/rt", body=b"x" * (4 * 1024 * 1024), timeout=5.0)[0]
             for _ in range(5)]
    check(codes == [413] * 5, "B: a 4 MiB body sent without waiting: 413 read each time, "
          "5 times (got %s)" % codes)

    # Within the limit, a chunked body is accepted.
    st, _ = raw(port, b"POST /webhook/rt HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                      b"\r\n5\r\nhello\r\n0\r\n\r\n")
    check(st == 202, "B: a small chunked webhook: 202 (got %s)" % st)
    # Exactly 1 MiB is allowed.
    st, _, _ = req(port, "POST", "/webhook/rt", body=b"x" * (1024 * 1024), timeout=5.0)
    check(st == 202, "B: a webhook of exactly 1 MiB: 202 (got %s)" % st)


def section_c(port):
    head = b"POST /webhook/rt HTTP/1.1\r\nHost: x\r\n"
    st, _ = raw(port, head + b"Content-Length: 5\r\nContent-Length: 7\r\n\r\nhello")
    check(st == 400, "C: Content-Length 5 and Content-Length 7: 400 (got %s)" % st)
    st, _ = raw(port, head + b"Content-Length: 7\r\nContent-Length: 5\r\n\r\nhello")
    check(st == 400, "C: Content-Length 7 and Content-Length 5: 400 (got %s)" % st)
    st, _ = raw(port, head + b"Content-Length: 5, 7\r\n\r\nhello")
    check(st == 400, "C: Content-Length \"5, 7\": 400 (got %s)" % st)
    st, _ = raw(port, head + b"Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n"
                      b"3\r\nabc\r\n0\r\n\r\n")
    check(st == 400, "C: Transfer-Encoding: chunked with a Content-Length: 400 (got %s)" % st)
    st, _ = raw(port, head + b"Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello")
    check(st == 202, "C: the same Content-Length twice is one length: 202 (got %s)" % st)


def rt_state(port):
    """rt's status; asked up to three times (a loaded machine, a sanitizer
    build: the main loop may answer an admin request late)."""
    for _ in range(3):
        st, body, _ = req(port, "GET", "/admin/status", token=TOKEN, timeout=12.0)
        if st == 200:
            for x in json.loads(body)["systems"]:
                if x["name"] == "rt":
                    return x
            return None
        time.sleep(0.5)
    return None


def section_d(port):
    auth = b"Authorization: Bearer " + TOKEN.encode() + b"\r\n"
    for esc in (b"%00", b"%00junk", b"%0a", b"%1F", b"%7f", b"\x00", b"\x00junk"):
        st, data = raw(port, b"POST /admin/pause/rt" + esc + b" HTTP/1.1\r\nHost: x\r\n" + auth
                       + b"Content-Length: 0\r\n\r\n")
        x = rt_state(port)
        paused = x["paused"] if x else None
        check(st == 400 and paused is False,
              "D: POST /admin/pause/rt%r: 400 and rt not paused (got %s, paused %s)"
              % (esc, st, paused))
        if paused:
            raw(port, b"POST /admin/resume/rt HTTP/1.1\r\nHost: x\r\n" + auth
                + b"Content-Length: 0\r\n\r\n")
    before = rt_state(port)
    for esc in (b"%00", b"%0d", b"\x00"):
        st, _ = raw(port, b"POST /webhook/rt" + esc + b" HTTP/1.1\r\nHost: x\r\n"
                    b"Content-Length: 2\r\n\r\n{}")
        check(st == 400, "D: POST /webhook/rt%r: 400 (got %s)" % (esc, st))
    after = rt_state(port)
    n0 = before["webhooks"]["received"] if before else None
    n1 = after["webhooks"]["received"] if after else None
    check(n0 is not None and n0 == n1,
          "D: those webhooks were not counted for rt (received %s, then %s)" % (n0, n1))
    # An ordinary escape still names the system: %74 is "t".
    st, data = raw(port, b"POST /admin/pause/r%74 HTTP/1.1\r\nHost: x\r\n" + auth
                   + b"Content-Length: 0\r\n\r\n")
    x = rt_state(port)
    check(st == 200 and x is not None and x["paused"] is True,
          "D: POST /admin/pause/r%%74 (a printable escape) still pauses rt (got %s)" % st)
    st, _ = raw(port, b"POST /admin/resume/rt HTTP/1.1\r\nHost: x\r\n" + auth
                + b"Content-Length: 0\r\n\r\n")
    check(st == 200, "D: and resume/rt resumes it (got %s)" % st)


def section_g(d):
    """The whole listener full: a daemon whose descriptor limit is 256
    keeps about 112 connections; 200 slow ones from 8 addresses (25 each,
    within the per-address bound) fill it, and /health, GET /admin/status
    and a webhook still answer within 1 s, from a ninth address and from
    one of the flood's: the oldest stalled connection makes room."""
    port = base.free_port()
    cfg = base.write_config(d, "small.yaml", port)
    log_path = os.path.join(d, "small.log")
    log = open(log_path, "w+")
    env = dict(os.environ, CONCORD_ADMIN_TOKEN=TOKEN, CC_TEST_PEER_TOKEN="x")
    proc = base.subprocess.Popen(
        [base.CONCORD, "serve", "-c", cfg], stdout=log, stderr=log, env=env,
        preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (256, 256)))
    try:
        check(base.wait_health(port, proc), "G: with 256 descriptors: GET /health answers 200")
        srcs = ["127.0.0.%d" % i for i in range(40, 48)]
        f1 = Flood(port, srcs, 100, "body")
        f2 = Flood(port, srcs, 100, "head")
        try:
            time.sleep(1.0)
            worst = probes(port, "200 slow connections, 256 descriptors", rounds=2,
                           item="G", srcs=("127.0.0.2", "127.0.0.40"))
            note("G: slowest probes while the listener is full: %s" % worst)
        finally:
            f1.close()
            f2.close()
        check(base.stop(proc) and proc.returncode == 0,
              "G: SIGTERM stops it, exit 0 (%s)" % proc.returncode)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
        log.close()
    with open(log_path, errors="replace") as f:
        made = [x.strip() for x in f if "make room" in x]
    note("G: %s" % (made[0] if made else "no room made"))
    sanitizer_clean(log_path, "G")


def sanitizer_clean(path, what):
    """No report of a sanitizer (an ASan/UBSan build) in a daemon's log."""
    with open(path, errors="replace") as f:
        bad = [x for x in f if "runtime error:" in x or "Sanitizer" in x]
    check(not bad, "%s: no sanitizer report in the log%s" % (what, (": " + bad[0]) if bad else ""))


def section_w(d):
    """Admin requests while the main loop is in a poll whose peer accepts the
    connection and never answers (14 s timeout): they hold no thread of the
    listener, /health and webhooks still answer, each admin request is
    answered within 2 s from the waiting request, and SIGTERM aborts the
    poll."""
    hang = socket.socket()
    hang.bind(("127.0.0.1", 0))
    hang.listen(128)  # never accepted: curl's request waits for its timeout
    port = base.free_port()
    text = base.CONFIG.format(store=os.path.join(d, "stuck.db"), port=port,
                              dead=base.free_port(),
                              admin="admin_token: {env: CONCORD_ADMIN_TOKEN}")
    rt_url = text.split("url: ", 1)[1].split("\n", 1)[0]
    text = text.replace("url: " + rt_url, "url: http://127.0.0.1:%d/REST/2.0\n    timeout: 14s"
                        % hang.getsockname()[1], 1)
    cfg = os.path.join(d, "stuck.yaml")
    with open(cfg, "w") as f:
        f.write(text)
    log = open(os.path.join(d, "stuck.log"), "w+")
    proc = base.start(cfg, log)
    results = []
    try:
        check(base.wait_health(port, proc), "W: GET /health answers 200")
        t0 = time.monotonic()

        def admin_get(src):
            st, body, secs = req(port, "GET", "/admin/status", src=src, token=TOKEN,
                                 timeout=13.0)
            results.append((st, body, secs))
        threads = [threading.Thread(target=admin_get, args=("127.0.0.%d" % (20 + i % 3),))
                   for i in range(70)]
        for t in threads:
            t.start()
        time.sleep(1.0)
        worst = probes(port, "70 admin requests waiting for a stuck main loop", rounds=2,
                       gap=0.5, which=(PROBES[0], PROBES[2]), item="W")
        note("W: slowest probes while 70 admin requests wait: %s" % worst)
        for t in threads:
            t.join(timeout=15)
        good = [r for r in results if r[0] == 200 and '"systems"' in r[1]]
        slow = max((r[2] for r in results), default=0.0)
        check(len(good) == 70 and slow <= 2.0,
              "W: the 70 admin requests are answered 200 within 2 s while the poll waits "
              "(%d of %d; the slowest in %.1f s; %s)"
              % (len(good), len(results), slow,
                 sorted(set((r[0], r[1].strip()[:40]) for r in results), key=str)[:4]))
        note("W: admin requests answered after %.1f s of the stuck main loop"
             % (time.monotonic() - t0))
    finally:
        if proc.poll() is None:
            # SIGTERM aborts rt's poll at once
            t1 = time.monotonic()
            ok = base.stop(proc, seconds=20)
            took = time.monotonic() - t1
            check(ok and proc.returncode == 0 and took <= 2.0,
                  "W: SIGTERM stops it within 2 s while the poll waits (%.2f s, exit %s)"
                  % (took, proc.returncode))
        log.close()
        hang.close()
        sanitizer_clean(os.path.join(d, "stuck.log"), "W")


def stop_with_waiting(port, proc):
    """SIGTERM 30 ms after 30 admin requests were sent (most then wait for
    the main loop, which naps up to 200 ms): each is answered, 200 or 503
    stopping, and the daemon exits 0."""
    socks = []
    for i in range(30):
        try:
            socks.append(connect(port, "127.0.0.%d" % (30 + i % 2)))
        except OSError:
            pass
    request = ("GET /admin/status HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n\r\n"
               % TOKEN).encode()
    for s in socks:
        s.sendall(request)
    time.sleep(0.03)  # read by the listener (a request not read yet is closed unanswered)
    t0 = time.monotonic()
    proc.send_signal(base.signal.SIGTERM)
    answers = [read_response(s, 6.0) for s in socks]
    for s in socks:
        s.close()
    try:
        proc.wait(timeout=5)
    except base.subprocess.TimeoutExpired:
        pass
    codes = [a[0] for a in answers]
    stopping = sum(1 for a in answers if a[0] == 503 and b"stopping" in a[1])
    check(proc.returncode == 0,
          "SIGTERM with 30 admin requests in flight stops the daemon within 5 s, exit 0 "
          "(%.1f s, exit %s)" % (time.monotonic() - t0, proc.returncode))
    check(len(codes) == 30 and all(c in (200, 503) for c in codes),
          "the 30 admin requests in flight at the stop are answered, 200 or 503 (got %s)"
          % {c: codes.count(c) for c in set(codes)})
    note("at the stop: %d of 30 answered 503 stopping" % stopping)


def main():
    wanted = set(sys.argv[2:]) or {"A", "W", "G", "B", "C", "D"}
    with tempfile.TemporaryDirectory() as d:
        port = base.free_port()
        cfg = base.write_config(d, "concord.yaml", port)
        log_path = os.path.join(d, "daemon.log")
        log = open(log_path, "w+")
        proc = base.start(cfg, log)
        try:
            check(base.wait_health(port, proc), "GET /health answers 200")
            if "C" in wanted:
                section_c(port)
            if "D" in wanted:
                section_d(port)
            if "B" in wanted:
                section_b(port)
            if "A" in wanted:
                section_a(port, log_path)
            st, _, _ = req(port, "GET", "/health", timeout=2.0)
            check(st == 200, "still healthy after all that (got %s)" % st)
            stop_with_waiting(port, proc)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=10)
        log.close()
        sanitizer_clean(log_path, "the daemon")
        if "W" in wanted:
            section_w(d)
        if "G" in wanted:
            section_g(d)
        if failures:
            with open(log_path, errors="replace") as f:
                sys.stdout.write("--- daemon log (end) ---\n" + f.read()[-4000:])
    print("%d failure(s)" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
