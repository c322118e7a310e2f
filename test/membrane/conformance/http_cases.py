#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""The membrane's HTTP/1.1 next to nginx, case by case.

  http_cases.py --membrane ADDR --nginx ADDR --root DIR [--port 80] [-k NAME]

Each case's bytes go, exactly as written, over a raw socket to both
servers (at once, one thread each); what comes back is split into
responses by its own framing and compared: the number of responses, each
status, the Connection field, the fields that describe a file (type,
length, range, validators), the bytes of a file's body, where a redirect
points, and whether the server closed the connection or reset it.  Error
pages are not compared byte for byte (nginx writes HTML).

A case also pins what the membrane must answer (its statuses, and whether
it closes), so it fails even if both servers changed together.  A
difference that is on purpose is listed in the case with its reason
(docs/membrane.md has the same list); any other difference fails, and so
does a listed difference that no longer occurs.

Exit status: 0 when every case is "ok", 1 otherwise.
"""
import argparse
import hashlib
import os
import re
import socket
import sys
import threading
import time
from email.utils import formatdate

SETTLE = 0.4  # how long an open connection must stay open to count as kept
READ_TIMEOUT = 5.0  # per response


class Response:
    def __init__(self, status, reason, fields, body, truncated):
        self.status = status
        self.reason = reason
        self.fields = fields  # lowercase name -> list of values
        self.body = body
        self.truncated = truncated

    def field(self, name):
        v = self.fields.get(name)
        return None if v is None else ", ".join(v)


class Outcome:
    """What one server did with one case."""

    def __init__(self):
        self.responses = []
        self.closed = False
        self.reset = False
        self.raw = b""  # bytes that are not an HTTP/1.x response
        self.closed_after = None  # idle cases: seconds until the close
        self.error = None  # a socket error other than a reset


def methods_of(data):
    """The methods of the requests in @p data, in order (to know which
    responses have no body)."""
    return re.findall(rb"(?:^|\n)([A-Za-z]+) \S+ HTTP/", data)


class Reader:
    def __init__(self, sock):
        self.sock = sock
        self.buf = b""
        self.eof = False
        self.eof_at = None
        self.reset = False

    def more(self, timeout):
        if self.eof:
            return False
        self.sock.settimeout(timeout)
        try:
            d = self.sock.recv(65536)
        except socket.timeout:
            return False
        except (ConnectionResetError, BrokenPipeError):
            self.reset = True
            self.eof = True
            self.eof_at = time.monotonic()
            return False
        if not d:
            self.eof = True
            self.eof_at = time.monotonic()
            return False
        self.buf += d
        return True

    def need(self, n, deadline):
        while len(self.buf) < n:
            if not self.more(max(0.01, deadline - time.monotonic())):
                if self.eof or time.monotonic() >= deadline:
                    return False
        return True

    def line(self, timeout):
        """A CRLF in the buffer, reading as needed."""
        while b"\r\n" not in self.buf:
            if not self.more(timeout):
                return False
        return True

    def line_end(self, deadline):
        while b"\r\n\r\n" not in self.buf:
            if not self.more(max(0.01, deadline - time.monotonic())):
                if self.eof or time.monotonic() >= deadline:
                    return -1
        return self.buf.index(b"\r\n\r\n")


def read_response(r, method, timeout):
    """One response off @p r, or None (nothing more, or not HTTP)."""
    deadline = time.monotonic() + timeout
    if not r.need(5, deadline) or not r.buf.startswith(b"HTTP/"):
        return None
    end = r.line_end(deadline)
    if end < 0:
        return None
    head = r.buf[:end].decode("latin-1").split("\r\n")
    r.buf = r.buf[end + 4:]
    m = re.match(r"HTTP/1\.[01] (\d{3}) ?(.*)$", head[0])
    if m is None:
        return Response(-1, head[0], {}, b"", True)
    status = int(m.group(1))
    fields = {}
    for line in head[1:]:
        name, _, value = line.partition(":")
        fields.setdefault(name.strip().lower(), []).append(value.strip())
    body, truncated = b"", False
    if method == b"HEAD" or status in (204, 304) or 100 <= status < 200:
        pass
    elif "content-length" in fields:
        n = int(fields["content-length"][0])
        truncated = not r.need(n, time.monotonic() + timeout)
        body, r.buf = r.buf[:n], r.buf[n:]
    elif fields.get("transfer-encoding", [""])[0].lower() == "chunked":
        truncated = True
        while r.line(timeout):
            size_line, r.buf = r.buf.split(b"\r\n", 1)
            size = int(size_line.split(b";")[0] or b"0", 16)
            if size == 0:  # no trailers from these servers
                truncated = not r.line(timeout)
                r.buf = r.buf.split(b"\r\n", 1)[-1]
                break
            if not r.need(size + 2, time.monotonic() + timeout):
                break
            body += r.buf[:size]
            r.buf = r.buf[size + 2:]
    else:  # delimited by the close
        while r.more(timeout):
            pass
        body, r.buf = r.buf, b""
    return Response(status, m.group(2), fields, body, truncated)


def run_case(case, host, port, ctx, out):
    data = case.request(ctx)
    methods = methods_of(data)
    timeout = case.idle or READ_TIMEOUT
    try:
        s = socket.create_connection((host, port), timeout=5)
    except OSError as e:
        out.error = f"connect: {e}"
        return
    r = Reader(s)
    try:
        if case.trickle:
            for i in range(len(data)):
                s.sendall(data[i:i + 1])
                time.sleep(0.005)
        else:
            s.sendall(data)
        if case.more:
            # a client that goes on sending after the server has
            # answered: the answer must still be readable, not reset
            try:
                s.sendall(case.more)
            except (ConnectionResetError, BrokenPipeError, socket.timeout):
                r.reset = True
        if case.shut_wr:
            s.shutdown(socket.SHUT_WR)
        sent = time.monotonic()
        for i in range(max(len(methods), 1)):
            rsp = read_response(r, methods[i] if i < len(methods) else b"GET", timeout)
            if rsp is None:
                break
            out.responses.append(rsp)
        if r.buf and not r.buf.startswith(b"HTTP/"):
            while r.more(0.5):
                pass
            out.raw, r.buf = r.buf, b""
        # still open?  (an idle case waits for the server's close)
        t0 = time.monotonic()
        wait = case.idle or SETTLE
        while not r.eof and time.monotonic() - t0 < wait:
            if r.more(max(0.01, wait - (time.monotonic() - t0))):
                out.raw += r.buf  # anything unasked for
                r.buf = b""
        if case.idle and r.eof_at is not None:
            out.closed_after = round(r.eof_at - sent, 1)
    except (ConnectionResetError, BrokenPipeError):
        r.reset = True
        r.eof = True
    except OSError as e:  # a timeout sending, ...
        out.error = str(e)
    finally:
        out.closed = r.eof
        out.reset = r.reset
        s.close()


def location_path(v):
    """A Location's path and query: nginx sends an absolute URI."""
    if v is None:
        return None
    return re.sub(r"^[a-z]+://[^/]*", "", v)


def compare(case, a, b):
    """Aspects in which outcome @p a (membrane) and @p b (nginx) differ."""
    d = {}
    if len(a.responses) != len(b.responses):
        d["count"] = f"{len(a.responses)} responses vs {len(b.responses)}"
    for i, (x, y) in enumerate(zip(a.responses, b.responses)):
        if x.status != y.status:
            d["status"] = f"#{i + 1}: {x.status} vs {y.status}"
            continue
        if (x.field("connection") or "").lower() != (y.field("connection") or "").lower():
            d["connection"] = f"#{i + 1}: {x.field('connection')} vs {y.field('connection')}"
        if x.truncated != y.truncated:
            d["framing"] = f"#{i + 1}: truncated {x.truncated} vs {y.truncated}"
        names = []
        if x.status in (200, 206):
            names = ["content-type", "content-length", "content-range",
                     "etag", "last-modified", "accept-ranges"]
            if x.body != y.body:
                d["body"] = (f"#{i + 1}: {len(x.body)} bytes "
                             f"{hashlib.sha256(x.body).hexdigest()[:12]} vs "
                             f"{len(y.body)} bytes "
                             f"{hashlib.sha256(y.body).hexdigest()[:12]}")
        elif x.status == 304:
            names = ["etag", "last-modified", "content-length"]
        elif x.status == 416:
            names = ["content-range"]
        for n in names:
            if x.field(n) != y.field(n):
                d[n] = f"#{i + 1}: {x.field(n)!r} vs {y.field(n)!r}"
        if x.status == 301:
            lx, ly = location_path(x.field("location")), location_path(y.field("location"))
            if lx != ly:
                d["location"] = f"#{i + 1}: {lx!r} vs {ly!r}"
    if a.closed != b.closed:
        d["closed"] = f"closed {a.closed} vs {b.closed}"
    if a.reset != b.reset:
        d["reset"] = f"reset {a.reset} vs {b.reset}"
    if a.error != b.error:
        d["error"] = f"{a.error} vs {b.error}"
    if bool(a.raw) != bool(b.raw):
        d["raw"] = f"other bytes {a.raw[:40]!r} vs {b.raw[:40]!r}"
    if case.idle:
        ia, ib = idle_ok(a), idle_ok(b)
        if ia != ib:
            d["idle"] = f"closed after {a.closed_after} vs {b.closed_after} s"
    return d


def idle_ok(o):
    return o.closed_after is not None and 8.5 <= o.closed_after <= 13.0


def check_membrane(case, a):
    """What the membrane must have answered, whatever nginx did."""
    got = [x.status for x in a.responses]
    problems = []
    if got != case.want:
        problems.append(f"membrane answered {got}, want {case.want}")
    if case.closed is not None and a.closed != case.closed:
        problems.append(f"membrane closed {a.closed}, want {case.closed}")
    if a.reset:
        problems.append("membrane reset the connection")
    if a.error:
        problems.append(f"socket error with the membrane: {a.error}")
    if any(x.truncated for x in a.responses):
        problems.append("a membrane response is shorter than its Content-Length")
    if any(b"TOP SECRET" in x.body for x in a.responses) or b"TOP SECRET" in a.raw:
        problems.append("the membrane served a file outside its root")
    if case.idle and not idle_ok(a):
        problems.append(f"membrane closed the idle connection after {a.closed_after} s")
    return problems


class Case:
    def __init__(self, name, request, want, differ=None, closed=None,
                 trickle=False, shut_wr=False, more=b"", idle=0):
        self.name = name
        self._request = request
        self.want = want
        self.differ = differ or {}
        self.closed = closed
        self.trickle = trickle
        self.shut_wr = shut_wr
        self.more = more
        self.idle = idle

    def request(self, ctx):
        r = self._request
        return r(ctx) if callable(r) else r


def get(target, fields=b"", method=b"GET", version=b"HTTP/1.1", host=b"Host: t\r\n"):
    return method + b" " + target + b" " + version + b"\r\n" + host + fields + b"\r\n"


# Validators of the files: conformance.sh gives them all one mtime.
def etag(ctx, name):
    return ctx[name][0].encode()


def lm(ctx, name, delta=0):
    return formatdate(ctx[name][1] + delta, usegmt=True).encode()


RFC9239 = ("RFC 9239 makes text/javascript the JavaScript type; Debian's "
           "mime.types still says application/javascript")
STRICT_LINE = ("RFC 9112 3: the request line is method SP target SP version; "
               "the membrane refuses other whitespace (400, then close) "
               "rather than guess where the target ends; nginx parses on "
               "any whitespace")
CLOSE_AFTER_400 = "after a 400 the membrane closes: the stream cannot be trusted"
RANGE_GET_ONLY = ("RFC 9110 14.2: Range is defined for GET only and a server "
                  "MUST ignore it otherwise: HEAD gets 200; nginx answers 206")
MULTI_RANGE = ("several satisfiable ranges are served whole (200, RFC 9110 "
               "14.2 lets a server ignore Range); nginx sends "
               "multipart/byteranges")
PATH_LIMIT = ("a path that decodes to 1024 bytes or more cannot be asked of "
              "the VFS (its path limit): 414; nginx looks the file up (404)")
FIELD_431 = ("RFC 6585 431 for a head over http_max_head (8 KiB); nginx "
             "says 400 (\"Request Header Or Cookie Too Large\")")
FORMS = ("the asterisk-form of OPTIONS and the authority-form of CONNECT "
         "are valid requests (RFC 9112 3.2.3-4) of methods a file server "
         "does not allow: 405; nginx says 400")
PRECOND_CLOSE = ("nginx closes the connection after a 412 although it sends "
                 "Connection: keep-alive; the membrane keeps it")

CASES = [
    # --- files, types, directories
    Case("get-file", get(b"/small.txt"), [200], closed=False),
    Case("get-root-index", get(b"/"), [200]),
    Case("get-dir-slash", get(b"/sub/"), [200]),
    Case("get-dir-redirect", get(b"/sub"), [301]),
    Case("get-dir-redirect-query", get(b"/sub?a=1&b"), [301]),
    Case("get-missing", get(b"/nope.txt"), [404], closed=False),
    Case("get-dir-no-index", get(b"/empty/"), [403]),
    Case("head-file", get(b"/small.txt", method=b"HEAD"), [200]),
    Case("head-missing", get(b"/nope", method=b"HEAD"), [404]),
    Case("get-big", get(b"/big.bin"), [200]),
    Case("get-empty-file", get(b"/zero.txt"), [200]),
    Case("get-symlink-inside", get(b"/alias.txt"), [200]),
    Case("type-css", get(b"/style.css"), [200]),
    Case("type-json", get(b"/data.json"), [200]),
    Case("type-png", get(b"/img.png"), [200]),
    Case("type-unknown", get(b"/notes.xyz"), [200]),
    Case("type-js", get(b"/app.js"), [200], {"content-type": RFC9239}),
    Case("query-dropped", get(b"/small.txt?x=1&y=%zz"), [200]),
    # --- pipelining
    Case("pipeline-3", get(b"/small.txt") + get(b"/sub/") + get(b"/index.html", method=b"HEAD"),
         [200, 200, 200], closed=False),
    Case("pipeline-close-last",
         get(b"/small.txt") + get(b"/") + get(b"/small.txt", b"Connection: close\r\n"),
         [200, 200, 200], closed=True),
    Case("pipeline-404-middle", get(b"/small.txt") + get(b"/nope") + get(b"/small.txt"),
         [200, 404, 200]),
    Case("pipeline-after-body",
         get(b"/small.txt", b"Content-Length: 3\r\n", method=b"POST") + b"abc" + get(b"/small.txt"),
         [405, 200]),
    Case("pipeline-half-close", get(b"/small.txt") + get(b"/sub/") + get(b"/data.json"),
         [200, 200, 200], closed=True, shut_wr=True),
    Case("pipeline-50", get(b"/small.txt") * 50, [200] * 50, closed=False),
    Case("pipeline-big", get(b"/big.bin") * 3, [200] * 3),
    Case("pipeline-close-then-more",
         get(b"/small.txt", b"Connection: close\r\n") + get(b"/small.txt"), [200], closed=True),
    Case("pipeline-range-conditional",
         lambda c: get(b"/small.txt", b"Range: bytes=0-4\r\n")
         + get(b"/small.txt", b"If-None-Match: " + etag(c, "small.txt") + b"\r\n"),
         [206, 304]),
    Case("trickle", get(b"/small.txt", b"User-Agent: slow\r\n"), [200], trickle=True),
    # --- connection management
    Case("connection-close", get(b"/small.txt", b"Connection: close\r\n"), [200], closed=True),
    Case("connection-list-close", get(b"/small.txt", b"Connection: foo, close\r\n"), [200],
         closed=True),
    Case("http10", get(b"/small.txt", version=b"HTTP/1.0", host=b""), [200], closed=True),
    Case("http10-keep-alive",
         get(b"/small.txt", b"Connection: keep-alive\r\n", version=b"HTTP/1.0", host=b"")
         + get(b"/small.txt", version=b"HTTP/1.0", host=b""), [200, 200], closed=True),
    Case("http10-keep-alive-open",
         get(b"/small.txt", b"Connection: keep-alive\r\n", version=b"HTTP/1.0", host=b""),
         [200], closed=False),
    Case("idle-timeout", get(b"/small.txt"), [200], idle=16),
    Case("header-timeout", b"GET /small.txt HTTP/1.1\r\nHost: t\r\n", [408], {
        "count": "a head not complete within the idle timeout is answered "
                 "408 (RFC 9110 15.5.9) before the close; nginx closes "
                 "without a response",
        }, idle=16),
    # --- sizes
    Case("target-414", get(b"/" + b"a" * 9000), [414], closed=True),
    Case("path-414", get(b"/" + b"a" * 2000), [414], {
        "status": PATH_LIMIT,
        "closed": "after a 414 the membrane closes (it may not have read the whole request)"},
         closed=True),
    Case("query-long", get(b"/small.txt?" + b"q" * 7000), [200]),
    Case("header-431", get(b"/small.txt", b"X-Big: " + b"b" * 9000 + b"\r\n"), [431],
         {"status": FIELD_431}, closed=True),
    Case("header-431-client-still-sending",
         get(b"/small.txt", b"X-Big: " + b"b" * 20000 + b"\r\n"), [431],
         {"status": FIELD_431}, closed=True, more=b"x" * 200000),
    # --- malformed requests
    Case("no-host", get(b"/small.txt", host=b""), [400], closed=True),
    Case("two-hosts", get(b"/small.txt", b"Host: u\r\n"), [400], closed=True),
    Case("bad-host", get(b"/small.txt", host=b"Host: a/b\r\n"), [400]),
    Case("version-2", get(b"/small.txt", version=b"HTTP/2.0"), [505], closed=True),
    Case("head-bad-field", get(b"/small.txt", b"X-A : b\r\n", method=b"HEAD"), [400],
         closed=True),
    Case("version-1.2", get(b"/small.txt", version=b"HTTP/1.2"), [200]),
    Case("version-lowercase", get(b"/small.txt", version=b"http/1.1"), [400]),
    Case("http09", b"GET /small.txt\r\n\r\n", [400], {
        "count": "HTTP/0.9 is not served: 400 (RFC 9112 needs only 1.x); "
                 "nginx answers the bare file, HTTP/0.9 style",
        "raw": "(the same: nginx's answer has no status line)"}, closed=True),
    Case("two-spaces", b"GET  /small.txt HTTP/1.1\r\nHost: t\r\n\r\n", [400], {
        "status": STRICT_LINE, "closed": CLOSE_AFTER_400}, closed=True),
    Case("space-before-colon", get(b"/small.txt", b"X-A : b\r\n"), [400], closed=True),
    Case("obs-fold", get(b"/small.txt", b"X-A: b\r\n c\r\n"), [400]),
    Case("bare-cr", get(b"/small.txt", b"X-A: b\rc\r\n"), [400]),
    Case("no-colon", get(b"/small.txt", b"Bad Header\r\n"), [400]),
    Case("bare-lf", b"GET /small.txt HTTP/1.1\nHost: t\n\n", [200]),
    Case("leading-crlf", b"\r\n\r\n" + get(b"/small.txt"), [200]),
    Case("method-lowercase", get(b"/small.txt", method=b"get"), [501], {
        "status": "methods are case-sensitive tokens (RFC 9110 9.1): \"get\" "
                  "is an unknown method, 501; nginx says 400",
        "closed": "and closes after its 400; the membrane keeps the "
                  "connection, the request's framing being clear"}, closed=False),
    Case("method-unknown", get(b"/small.txt", method=b"FOO"), [501], {
        "status": "RFC 9110 9.1: an unrecognized method is 501; nginx says 405"}),
    Case("method-post", get(b"/small.txt", b"Content-Length: 2\r\n", method=b"POST") + b"hi",
         [405], closed=False),
    Case("method-delete", get(b"/small.txt", method=b"DELETE"), [405]),
    Case("options-asterisk", get(b"*", method=b"OPTIONS"), [405], {
        "status": FORMS, "closed": "and closes after its 400"}, closed=False),
    Case("connect-authority", get(b"t:443", method=b"CONNECT"), [405], {
        "status": FORMS, "closed": "and closes after its 400"}, closed=False),
    Case("cl-and-te", get(b"/small.txt", b"Content-Length: 3\r\nTransfer-Encoding: chunked\r\n")
         + b"0\r\n\r\n", [400], closed=True),
    Case("te-gzip", get(b"/small.txt", b"Transfer-Encoding: gzip\r\n"), [501], closed=True),
    Case("te-chunked-body",
         get(b"/small.txt", b"Transfer-Encoding: chunked\r\n")
         + b"3;x=y\r\nabc\r\n0\r\nT: 1\r\n\r\n" + get(b"/sub/"),
         [200, 200], closed=False),
    Case("get-with-body", get(b"/small.txt", b"Content-Length: 5\r\n") + b"hello" + get(b"/sub/"),
         [200, 200], closed=False),
    Case("cl-twice", get(b"/small.txt", b"Content-Length: 1\r\nContent-Length: 1\r\n") + b"a",
         [400]),
    Case("cl-negative", get(b"/small.txt", b"Content-Length: -1\r\n"), [400]),
    # --- target forms
    Case("absolute-form", get(b"http://t/small.txt"), [200]),
    Case("absolute-form-no-path", get(b"http://t"), [200]),
    Case("absolute-form-https-port-query", get(b"HTTPS://t:8443/sub/?q=1"), [200]),
    Case("absolute-form-no-host", get(b"http://t/small.txt", host=b""), [400]),
    Case("absolute-form-userinfo", get(b"http://u@t/small.txt"), [400]),
    # --- percent-encoding, dot segments, escapes
    Case("pct-unreserved", get(b"/sm%61ll.txt"), [200]),
    Case("pct-slash", get(b"/sub%2findex.html"), [200]),
    Case("pct-bad", get(b"/%zz"), [400]),
    Case("pct-nul", get(b"/small.txt%00.png"), [400]),
    Case("dotdot-above-root", get(b"/../secret.txt"), [400], closed=True),
    Case("pct-dotdot-above-root", get(b"/%2e%2e/secret.txt"), [400]),
    Case("pct-dotdot-deep", get(b"/sub/%2E%2E/%2e%2e/secret.txt"), [400]),
    Case("dotdot-pct-slash", get(b"/..%2fsecret.txt"), [400]),
    Case("dotdot-inside", get(b"/sub/../small.txt"), [200]),
    Case("pct-dotdot-inside", get(b"/sub/%2e%2e/small.txt"), [200]),
    Case("dot-segment", get(b"/./small.txt"), [200]),
    Case("double-slash", get(b"//small.txt"), [200]),
    Case("symlink-out-of-root", get(b"/escape.txt"), [403], {
        "status": "the VFS never leaves its root, symlinks included "
                  "(openat2 RESOLVE_BENEATH): 403; nginx follows the "
                  "symlink out of its root (its default disable_symlinks "
                  "off) and serves the file"}),
    Case("fragment", get(b"/small.txt#frag"), [400], {
        "status": "a fragment is not part of a request-target (RFC 9112 "
                  "3.2): 400; nginx drops it and serves the file",
        "closed": CLOSE_AFTER_400}, closed=True),
    Case("raw-utf8", get("/café".encode()), [400], {
        "status": "bytes outside ASCII are not URI characters (RFC 3986): "
                  "400; nginx looks them up (404)",
        "closed": CLOSE_AFTER_400}),
    Case("pct-control", get(b"/a%0ab"), [400], {
        "status": "a %-escape that decodes to a control byte is refused "
                  "(400), so it can never forge a line where a path is "
                  "echoed; nginx looks it up (404)",
        "closed": CLOSE_AFTER_400}),
    # --- ranges
    Case("range-first", get(b"/small.txt", b"Range: bytes=0-4\r\n"), [206]),
    Case("range-suffix", get(b"/small.txt", b"Range: bytes=-5\r\n"), [206]),
    Case("range-open", get(b"/small.txt", b"Range: bytes=10-\r\n"), [206]),
    Case("range-clamped", get(b"/small.txt", b"Range: bytes=10-1000\r\n"), [206]),
    Case("range-unsatisfiable", get(b"/small.txt", b"Range: bytes=100-\r\n"), [416],
         closed=False),
    Case("range-reversed", get(b"/small.txt", b"Range: bytes=5-2\r\n"), [416]),
    Case("range-garbage", get(b"/small.txt", b"Range: bytes=abc\r\n"), [416]),
    Case("range-other-unit", get(b"/small.txt", b"Range: items=0-4\r\n"), [200]),
    Case("range-multi", get(b"/small.txt", b"Range: bytes=0-1,5-6\r\n"), [200],
         {"status": MULTI_RANGE}),
    Case("range-multi-one-satisfiable", get(b"/small.txt", b"Range: bytes=0-1,100-200\r\n"),
         [206]),
    Case("range-big-middle", get(b"/big.bin", b"Range: bytes=100000-600000\r\n"), [206]),
    Case("range-head", get(b"/small.txt", b"Range: bytes=0-4\r\n", method=b"HEAD"), [200],
         {"status": RANGE_GET_ONLY}),
    Case("if-range-etag",
         lambda c: get(b"/small.txt", b"Range: bytes=0-4\r\nIf-Range: " + etag(c, "small.txt")
                       + b"\r\n"), [206]),
    Case("if-range-etag-other", get(b"/small.txt", b"Range: bytes=0-4\r\nIf-Range: \"x\"\r\n"),
         [200]),
    Case("if-range-date",
         lambda c: get(b"/small.txt", b"Range: bytes=0-4\r\nIf-Range: " + lm(c, "small.txt")
                       + b"\r\n"), [206]),
    Case("range-empty-file", get(b"/zero.txt", b"Range: bytes=0-\r\n"), [200]),
    # --- conditional requests
    Case("inm-match", lambda c: get(b"/small.txt", b"If-None-Match: " + etag(c, "small.txt")
                                    + b"\r\n"), [304], closed=False),
    Case("inm-weak", lambda c: get(b"/small.txt", b"If-None-Match: W/" + etag(c, "small.txt")
                                   + b"\r\n"), [304]),
    Case("inm-list", lambda c: get(b"/small.txt", b"If-None-Match: \"a\", "
                                   + etag(c, "small.txt") + b"\r\n"), [304]),
    Case("inm-star", get(b"/small.txt", b"If-None-Match: *\r\n"), [304]),
    Case("inm-other", get(b"/small.txt", b"If-None-Match: \"a\"\r\n"), [200]),
    Case("inm-head", lambda c: get(b"/small.txt", b"If-None-Match: " + etag(c, "small.txt")
                                   + b"\r\n", method=b"HEAD"), [304]),
    Case("inm-twice", get(b"/small.txt", b"If-None-Match: \"a\"\r\nIf-None-Match: \"b\"\r\n"),
         [400]),
    Case("ims-equal", lambda c: get(b"/small.txt", b"If-Modified-Since: " + lm(c, "small.txt")
                                    + b"\r\n"), [304]),
    Case("ims-older", lambda c: get(b"/small.txt", b"If-Modified-Since: "
                                    + lm(c, "small.txt", -1) + b"\r\n"), [200]),
    Case("ims-newer", lambda c: get(b"/small.txt", b"If-Modified-Since: "
                                    + lm(c, "small.txt", 86400) + b"\r\n"), [304]),
    Case("ims-rfc850", get(b"/small.txt", b"If-Modified-Since: Friday, 01-Mar-24 12:00:00 GMT\r\n"),
         [304]),
    Case("ims-asctime", get(b"/small.txt", b"If-Modified-Since: Fri Mar  1 12:00:00 2024\r\n"),
         [304]),
    Case("ims-garbage", get(b"/small.txt", b"If-Modified-Since: yesterday\r\n"), [200]),
    Case("inm-wins-over-ims",
         lambda c: get(b"/small.txt", b"If-None-Match: " + etag(c, "small.txt")
                       + b"\r\nIf-Modified-Since: " + lm(c, "small.txt", -3600) + b"\r\n"),
         [304], {"status": "RFC 9110 13.2.2: with If-None-Match, "
                           "If-Modified-Since is not evaluated; nginx "
                           "requires both to hold"}),
    Case("im-other", get(b"/small.txt", b"If-Match: \"a\"\r\n"), [412], {"closed": PRECOND_CLOSE},
         closed=False),
    Case("im-match", lambda c: get(b"/small.txt", b"If-Match: " + etag(c, "small.txt") + b"\r\n"),
         [200]),
    Case("ius-older", lambda c: get(b"/small.txt", b"If-Unmodified-Since: "
                                    + lm(c, "small.txt", -1) + b"\r\n"), [412],
         {"closed": PRECOND_CLOSE}),
]


def validators(root):
    """name -> (ETag, mtime) of the files, in nginx's ETag form."""
    ctx = {}
    for name in os.listdir(root):
        p = os.path.join(root, name)
        if os.path.isfile(p):
            st = os.stat(p)
            ctx[name] = ('"%x-%x"' % (int(st.st_mtime), st.st_size), int(st.st_mtime))
    return ctx


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--membrane", required=True)
    ap.add_argument("--nginx", required=True)
    ap.add_argument("--root", required=True)
    ap.add_argument("--port", type=int, default=80)
    ap.add_argument("-k", "--only", action="append", help="run only these cases")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()
    ctx = validators(args.root)
    failed = []
    listed = 0
    cases = [c for c in CASES if not args.only or c.name in args.only]
    for case in cases:
        a, b = Outcome(), Outcome()
        ts = [threading.Thread(target=run_case, args=(case, args.membrane, args.port, ctx, a)),
              threading.Thread(target=run_case, args=(case, args.nginx, args.port, ctx, b))]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        diffs = compare(case, a, b)
        problems = check_membrane(case, a)
        unlisted = {k: v for k, v in diffs.items() if k not in case.differ}
        stale = [k for k in case.differ if k not in diffs]
        summary = (f"{[x.status for x in a.responses]} "
                   f"{'closed' if a.closed else 'open'}")
        if unlisted or problems or stale:
            failed.append(case.name)
            print(f"DIFF {case.name}: {summary}")
            for k, v in unlisted.items():
                print(f"    {k}: {v}")
            for p in problems:
                print(f"    {p}")
            for k in stale:
                print(f"    listed difference '{k}' did not occur: update the table "
                      f"and docs/membrane.md")
        else:
            note = ""
            if case.differ:
                listed += 1
                note = " (differs on purpose: " + ", ".join(sorted(case.differ)) + ")"
            print(f"ok   {case.name}: {summary}{note}")
        if args.verbose:
            for who, o in (("membrane", a), ("nginx", b)):
                print(f"    {who}: {[(x.status, x.fields) for x in o.responses]} "
                      f"closed={o.closed} reset={o.reset} raw={o.raw[:60]!r} "
                      f"idle={o.closed_after}")
    print(f"{len(cases)} cases, {len(cases) - len(failed)} ok ({listed} with listed differences), "
          f"{len(failed)} failed" + (": " + " ".join(failed) if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
