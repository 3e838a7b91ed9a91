#!/usr/bin/python3
"""A test emulator of the Microsoft Sentinel incidents API (Azure Resource
Manager, Microsoft.SecurityInsights) and of the Microsoft identity platform's
client-credentials token endpoint, on 127.0.0.1. A test tool, not the
product; what is emulated and where each fact comes from is in README.md.

    /usr/bin/python3 emulators/sentinel/server.py --port P --db FILE
        [--tenant T] [--client ID:SECRET ...] [--token-ttl S] [--skew SECONDS]
        [--rate-limit N_PER_MIN] [--webhook URL] [--webhook-secret S]
        [--webhook-token T]

Prints "listening 127.0.0.1:PORT" when ready (--port 0: a free port).
The test control API under /emulator/ takes no authentication: it listens
on loopback only, for tests.
"""

import argparse
import base64
import collections
import json
import os
import random
import re
import secrets
import signal
import socket
import sys
import threading
import time
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from odata import FilterError, parse_filter, parse_orderby  # noqa: E402
from store import Store  # noqa: E402
from timefmt import TICKS, Clock, fmt, parse_time  # noqa: E402
from webhooks import Webhooks  # noqa: E402

# The api-version the connector pins: the newest stable version of the
# published spec (specification/securityinsights/resource-manager/readme.md,
# default tag package-2025-12-01; its Incidents.json has the same length as
# 2025-09-01's, which was read), the older stable ones whose Incidents.json exists, and the
# one the Debian 12 SDK (python3-azure: azure-mgmt-securityinsight 2.0.0b2)
# sends by default.
PINNED_API_VERSION = "2025-12-01"
SDK_API_VERSION = "2022-12-01-preview"
API_VERSIONS = ("2025-12-01", "2025-09-01", "2025-06-01", "2024-03-01", "2023-02-01",
                "2022-11-01", "2021-04-01", SDK_API_VERSION)

SEVERITIES = ("High", "Medium", "Low", "Informational")
STATUSES = ("New", "Active", "Closed")
CLASSIFICATIONS = ("Undetermined", "TruePositive", "BenignPositive", "FalsePositive")
REASONS = ("SuspiciousActivity", "SuspiciousButExpected", "IncorrectAlertLogic", "InaccurateData")
# The pairs the portal's close dialog offers (True positive - suspicious
# activity; Benign positive - suspicious but expected; False positive -
# incorrect alert logic / inaccurate data; Undetermined).
REASONS_OF = {
    "TruePositive": ("SuspiciousActivity",),
    "BenignPositive": ("SuspiciousButExpected",),
    "FalsePositive": ("IncorrectAlertLogic", "InaccurateData"),
    "Undetermined": (),
}
DEFAULT_PAGE = 50      # page size of a list without $top (not documented)
MAX_TOP = 1000         # the spec's maximum for the incidents list's $top
# ARM's documented default limits per hour, per principal and subscription,
# reported in x-ms-ratelimit-remaining-subscription-* when --rate-limit is off.
HOURLY = {"reads": 12000, "writes": 1200, "deletes": 15000}

ARM_PATH = re.compile(
    r"^/subscriptions/(?P<sub>[^/]+)/resourceGroups/(?P<rg>[^/]+)/providers/"
    r"Microsoft\.OperationalInsights/workspaces/(?P<ws>[^/]+)/providers/"
    r"Microsoft\.SecurityInsights/incidents"
    r"(?:/(?P<inc>[^/]+)(?:/(?P<sub2>comments)(?:/(?P<com>[^/]+))?)?)?/?$", re.I)
TOKEN_PATH = re.compile(r"^/(?P<tenant>[^/]+)/oauth2/v2\.0/token/?$", re.I)
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.c = collections.Counter()

    def bump(self, key, n=1):
        with self.lock:
            self.c[key] += n

    def snapshot(self):
        with self.lock:
            return dict(self.c)


class Faults:
    KEYS = {"latency_ms": 0, "p_429": 0.0, "p_5xx": 0.0, "p_timeout_after_write": 0.0,
            "p_dup_webhook": 0.0, "p_reorder_webhook": 0.0, "seed": None,
            "hang_ms": 60000}

    def __init__(self):
        self.lock = threading.Lock()
        self.v = dict(self.KEYS)
        self.rng = random.Random()

    def set(self, d):
        with self.lock:
            for k, val in d.items():
                if k not in self.KEYS:
                    raise ValueError("unknown fault %r (known: %s)" % (k, ", ".join(sorted(self.KEYS))))
                if k.startswith("p_"):
                    val = float(val)
                    if not 0.0 <= val <= 1.0:
                        raise ValueError("%s must be within [0, 1]" % k)
                elif k in ("latency_ms", "hang_ms"):
                    val = int(val)
                    if val < 0:
                        raise ValueError("%s must be >= 0" % k)
                elif k == "seed" and val is not None:
                    val = int(val)
                self.v[k] = val
                if k == "seed":
                    self.rng = random.Random(val)
            return dict(self.v)

    def get(self, k):
        with self.lock:
            return self.v[k]

    def all(self):
        with self.lock:
            return dict(self.v)

    def roll(self, k):
        with self.lock:
            p = self.v[k]
            return p > 0 and self.rng.random() < p


class RateLimiter:
    """Per principal: --rate-limit N counts every management request in a
    sliding minute; without it, the documented hourly defaults are only
    reported, never enforced."""

    def __init__(self, per_min):
        self.per_min = per_min
        self.lock = threading.Lock()
        self.w = collections.defaultdict(collections.deque)

    def take(self, client, kind):
        """-> (allowed, remaining, retry_after_s)"""
        now = time.monotonic()
        with self.lock:
            if self.per_min:
                dq = self.w[client]
                while dq and dq[0] <= now - 60:
                    dq.popleft()
                if len(dq) >= self.per_min:
                    return False, 0, max(1, int(dq[0] + 60 - now + 0.999))
                dq.append(now)
                return True, self.per_min - len(dq), 0
            dq = self.w[(client, kind)]
            while dq and dq[0] <= now - 3600:
                dq.popleft()
            dq.append(now)
            return True, max(0, HOURLY[kind] - len(dq)), 0


class Emulator:
    def __init__(self, args):
        self.args = args
        self.store = Store(args.db)
        self.clock = Clock(args.skew)
        self.stats = Stats()
        self.faults = Faults()
        self.limiter = RateLimiter(args.rate_limit)
        self.tenant = args.tenant
        self.clients = dict(c.split(":", 1) for c in (args.client or ["emulator-client:emulator-secret"]))
        self.tokens = self.store.load_tokens()
        self.tokens_lock = threading.Lock()
        self.webhooks = Webhooks(args.webhook, args.webhook_secret, args.webhook_token,
                                 self.faults, self.stats)

    # -- tokens
    def issue_token(self, client):
        now = time.time()
        exp = now + self.args.token_ttl

        def b64(obj):
            return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()
        # JWT-shaped, unsigned: clients that read exp/appid can; nothing checks a signature.
        tok = ".".join([
            b64({"typ": "JWT", "alg": "none"}),
            b64({"aud": "https://management.azure.com", "iss": "https://sts.windows.net/%s/" % self.tenant,
                 "iat": int(now), "nbf": int(now), "exp": int(exp), "appid": client, "tid": self.tenant,
                 "jti": secrets.token_hex(8)}),
            secrets.token_urlsafe(24)])
        with self.tokens_lock:
            self.tokens[tok] = (client, exp)
        self.store.save_token(tok, client, exp)
        return tok

    def check_token(self, tok):
        with self.tokens_lock:
            return self.tokens.get(tok)


def _b64e(obj):
    return base64.urlsafe_b64encode(json.dumps(obj, separators=(",", ":")).encode()).rstrip(b"=").decode()


def _b64d(text):
    try:
        pad = "=" * (-len(text) % 4)
        return json.loads(base64.urlsafe_b64decode(text + pad))
    except Exception:
        return None


class ApiError(Exception):
    def __init__(self, status, code, message, headers=None):
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers or {}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "sentinel-emulator"
    emu = None  # set by main

    def date_time_string(self, timestamp=None):
        # The Date header comes from the service's clock, skew included (the
        # clock its lastModifiedTimeUtc stamps come from): a client corrects
        # a skew by it.
        if timestamp is None:
            timestamp = time.time() + self.emu.clock.skew
        return super().date_time_string(timestamp)

    def setup(self):
        super().setup()
        # Headers and body go out in two writes: without TCP_NODELAY the
        # second waits for the client's delayed ACK (40 ms on Linux).
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, fmt_, *a):
        if self.emu.args.verbose:
            sys.stderr.write("%s %s\n" % (self.address_string(), fmt_ % a))

    # -- plumbing
    def _body(self):
        """The request body, read once (always, so a keep-alive connection
        stays in step whatever the answer)."""
        if getattr(self, "_raw", None) is None:
            try:
                n = int(self.headers.get("Content-Length") or 0)
            except ValueError:
                n = 0
            self._raw = self.rfile.read(n) if n > 0 else b""
        return self._raw

    def _send(self, status, obj=None, headers=None, raw=None, ctype="application/json; charset=utf-8"):
        body = raw if raw is not None else (b"" if obj is None else json.dumps(obj).encode())
        self.send_response(status)
        if body or status not in (204,):
            self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if body and self.command != "HEAD":
            self.wfile.write(body)
        self.emu.stats.bump("status_%d" % status)

    def _arm_error(self, e, extra=None):
        h = {"x-ms-request-id": str(uuid.uuid4()), "x-ms-correlation-request-id": str(uuid.uuid4())}
        h.update(extra or {})
        h.update(e.headers)
        # ARM's error body: {"error": {"code", "message"}} (CloudError of the spec)
        self._send(e.status, {"error": {"code": e.code, "message": e.message}}, h)

    def do_GET(self):
        self._dispatch()

    def do_POST(self):
        self._dispatch()

    def do_PUT(self):
        self._dispatch()

    def do_DELETE(self):
        self._dispatch()

    def do_PATCH(self):
        self._dispatch()

    def _dispatch(self):
        self._raw = None
        self._body()
        url = urllib.parse.urlsplit(self.path)
        path = url.path
        self.query = {}
        for k, v in urllib.parse.parse_qsl(url.query, keep_blank_values=True):
            self.query.setdefault(k.lower(), v)
        try:
            if path.startswith("/emulator/"):
                self.emu.stats.bump("control")
                return self._control(path, url.query)
            m = TOKEN_PATH.match(path)
            if m:
                return self._token(m.group("tenant"))
            m = ARM_PATH.match(path)
            if m:
                return self._management(m)
            self.emu.stats.bump("unknown_path")
            raise ApiError(404, "InvalidResourceType" if path.startswith("/subscriptions/") else "NotFound",
                           "The resource type could not be found for path '%s'." % path)
        except ApiError as e:
            self._arm_error(e)
        except (BrokenPipeError, ConnectionResetError):
            pass
        except Exception as e:  # a bug of the emulator: say so in ARM's shape
            import traceback
            traceback.print_exc()
            self.emu.stats.bump("emulator_errors")
            try:
                self._arm_error(ApiError(500, "InternalServerError", "emulator error: %r" % (e,)))
            except OSError:
                pass

    # -- the identity platform: client credentials
    def _token_error(self, status, error, code, text):
        now = time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime())
        trace, corr = str(uuid.uuid4()), str(uuid.uuid4())
        self.emu.stats.bump("token_errors")
        self._send(status, {
            "error": error,
            "error_description": "AADSTS%d: %s\r\nTrace ID: %s\r\nCorrelation ID: %s\r\nTimestamp: %s" % (
                code, text, trace, corr, now),
            "error_codes": [code], "timestamp": now, "trace_id": trace, "correlation_id": corr,
            "error_uri": "https://login.microsoftonline.com/error?code=%d" % code},
            {"Cache-Control": "no-store, no-cache", "Pragma": "no-cache"})

    def _token(self, tenant):
        self.emu.stats.bump("token")
        body = self._body()
        if self.command != "POST":
            return self._token_error(400, "invalid_request", 900561,
                                     "The endpoint only accepts POST requests. Received a %s request." % self.command)
        form = dict(urllib.parse.parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        if tenant.lower() != self.emu.tenant.lower():
            return self._token_error(400, "invalid_request", 90002,
                                     "Tenant '%s' not found. Check to make sure you have the correct tenant ID "
                                     "and are signing into the correct cloud." % tenant)
        for p in ("grant_type", "client_id", "scope"):
            if not form.get(p):
                return self._token_error(400, "invalid_request", 900144,
                                         "The request body must contain the following parameter: '%s'." % p)
        if form["grant_type"] != "client_credentials":
            return self._token_error(400, "unsupported_grant_type", 70003,
                                     "The app requested an unsupported grant type '%s'." % form["grant_type"])
        client = form["client_id"]
        if client not in self.emu.clients:
            return self._token_error(400, "unauthorized_client", 700016,
                                     "Application with identifier '%s' was not found in the directory '%s'."
                                     % (client, tenant))
        if not form.get("client_secret"):
            return self._token_error(401, "invalid_client", 7000218,
                                     "The request body must contain the following parameter: "
                                     "'client_assertion' or 'client_secret'.")
        if not secrets.compare_digest(form["client_secret"], self.emu.clients[client]):
            return self._token_error(401, "invalid_client", 7000215,
                                     "Invalid client secret provided. Ensure the secret being sent in the request "
                                     "is the client secret value, not the client secret ID, for a secret added to "
                                     "app '%s'." % client)
        scope = form["scope"]
        if not scope.endswith("/.default"):
            return self._token_error(400, "invalid_scope", 1002012,
                                     "The provided value for scope %s is not valid. Client credential flows must "
                                     "have a scope value with /.default suffixed to the resource identifier "
                                     "(application ID URI)." % scope)
        resource = scope[:-len("/.default")].rstrip("/")
        if resource not in ("https://management.azure.com", "https://management.core.windows.net"):
            return self._token_error(400, "invalid_resource", 500011,
                                     "The resource principal named %s was not found in the tenant named %s."
                                     % (resource, tenant))
        tok = self.emu.issue_token(client)
        ttl = int(self.emu.args.token_ttl)
        self._send(200, {"token_type": "Bearer", "expires_in": ttl, "ext_expires_in": ttl, "access_token": tok},
                   {"Cache-Control": "no-store, no-cache", "Pragma": "no-cache"})

    # -- Azure Resource Manager
    def _authenticate(self):
        www = 'Bearer authorization_uri="https://login.windows.net/%s", error="invalid_token", ' \
              'error_description="%%s"' % self.emu.tenant
        h = self.headers.get("Authorization")
        if not h:
            raise ApiError(401, "AuthenticationFailed", "Authentication failed. The 'Authorization' header is missing.",
                           {"WWW-Authenticate": www % "The authentication failed because of missing "
                                                       "'Authorization' header."})
        parts = h.split(None, 1)
        if len(parts) != 2 or parts[0] != "Bearer":
            raise ApiError(401, "AuthenticationFailed",
                           "Authentication failed. The 'Authorization' header is provided in an invalid format.",
                           {"WWW-Authenticate": www % "The authentication failed because of invalid "
                                                       "'Authorization' header format."})
        got = self.emu.check_token(parts[1].strip())
        if got is None:
            raise ApiError(401, "InvalidAuthenticationToken", "The access token is invalid.",
                           {"WWW-Authenticate": www % "The access token is invalid."})
        client, exp = got
        now = time.time()
        if exp <= now:
            def net(t):
                return time.strftime("%m/%d/%Y %I:%M:%S %p", time.gmtime(t)).lstrip("0").replace("/0", "/")
            raise ApiError(401, "ExpiredAuthenticationToken",
                           "The access token expiry UTC time '%s' is earlier than current UTC time '%s'."
                           % (net(exp), net(now)),
                           {"WWW-Authenticate": www % "The access token expiry UTC time '%s' is earlier than "
                                                       "current UTC time '%s'." % (net(exp), net(now))})
        return client

    def _management(self, m):
        emu = self.emu
        body = self._body()
        lat = emu.faults.get("latency_ms")
        if lat:
            time.sleep(lat / 1000.0)
        kind = {"GET": "reads", "DELETE": "deletes"}.get(self.command, "writes")
        client = self._authenticate()
        allowed, remaining, retry = emu.limiter.take(client, kind)
        rl = {"x-ms-ratelimit-remaining-subscription-%s" % kind: str(remaining)}
        if not allowed or emu.faults.roll("p_429"):
            emu.stats.bump("sent_429")
            retry = retry or 1
            op = {"reads": "read", "writes": "write", "deletes": "delete"}[kind]
            raise ApiError(429, "SubscriptionRequestsThrottled",
                           "Number of '%s' requests for subscription '%s' actor '%s' exceeded. Please try again "
                           "after '%d' seconds after the last request. Please see https://aka.ms/ARMThrottling "
                           "for more information." % (op, m.group("sub"), client, retry),
                           dict(rl, **{"Retry-After": str(retry)}))
        if emu.faults.roll("p_5xx"):
            emu.stats.bump("sent_5xx")
            raise ApiError(random.choice((500, 503)), "InternalServerError",
                           "Encountered internal server error. Diagnostic information: timestamp '%s'." %
                           time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()), rl)
        version = self.query.get("api-version")
        if not version:
            raise ApiError(400, "MissingApiVersionParameter",
                           "The api-version query parameter (?api-version=) is required for all requests.", rl)
        if version not in API_VERSIONS:
            raise ApiError(400, "NoRegisteredProviderFound",
                           "No registered resource provider found for location 'global' and API version '%s' for "
                           "type 'incidents'. The supported api-versions are '%s'." % (version, ", ".join(API_VERSIONS)),
                           rl)
        self.rl = rl
        self.client = client
        emu.stats.bump("api-version " + version)
        ws = "/".join((m.group("sub"), m.group("rg"), m.group("ws"))).lower()
        path = urllib.parse.urlsplit(self.path).path.rstrip("/")
        prefix = path[:path.lower().index("/incidents") + len("/incidents")]
        inc, com = m.group("inc"), m.group("com")
        if inc is not None:
            inc = urllib.parse.unquote(inc)
        if com is not None:
            com = urllib.parse.unquote(com)
        c = self.command
        if inc is None:
            if c != "GET":
                raise ApiError(405, "MethodNotAllowed", "The requested method %s is not allowed." % c, rl)
            emu.stats.bump("list")
            return self._list(ws, prefix, version)
        if m.group("sub2") is None:
            if c == "GET":
                emu.stats.bump("get")
                return self._get(ws, prefix, inc)
            if c == "PUT":
                emu.stats.bump("put")
                return self._put(ws, prefix, inc, body)
            if c == "DELETE":
                emu.stats.bump("delete")
                return self._delete(ws, inc)
            raise ApiError(405, "MethodNotAllowed", "The requested method %s is not allowed." % c, rl)
        if com is None:
            if c != "GET":
                raise ApiError(405, "MethodNotAllowed", "The requested method %s is not allowed." % c, rl)
            emu.stats.bump("comments_list")
            return self._comments(ws, prefix, inc, version)
        if c == "GET":
            emu.stats.bump("comment_get")
            return self._comment_get(ws, prefix, inc, com)
        if c == "PUT":
            emu.stats.bump("comment_put")
            return self._comment_put(ws, prefix, inc, com, body)
        raise ApiError(405, "MethodNotAllowed", "The requested method %s is not allowed." % c, rl)

    def _ok(self, status, obj, extra=None):
        h = {"x-ms-request-id": str(uuid.uuid4()), "x-ms-correlation-request-id": str(uuid.uuid4())}
        h.update(self.rl)
        h.update(extra or {})
        self._send(status, obj, h)

    def _err(self, status, code, message):
        return ApiError(status, code, message, self.rl)

    def _hang_after_write(self):
        """p_timeout_after_write: the write is applied; no answer comes before
        hang_ms, then the connection closes unanswered."""
        if self.emu.faults.roll("p_timeout_after_write"):
            self.emu.stats.bump("timeouts_after_write")
            time.sleep(self.emu.faults.get("hang_ms") / 1000.0)
            self.close_connection = True
            return True
        return False

    # incidents
    def _list(self, ws, prefix, version):
        q = self.query
        try:
            where, params = parse_filter(q.get("$filter"))
            col, direction = parse_orderby(q.get("$orderby"))
        except FilterError as e:
            raise self._err(400, "BadRequest", str(e))
        top = q.get("$top")
        if top is not None and top != "":
            try:
                top = int(top)
            except ValueError:
                raise self._err(400, "BadRequest", "The value of $top must be an integer: '%s'." % top)
            if not 1 <= top <= MAX_TOP:
                raise self._err(400, "BadRequest", "The value of $top must be between 1 and %d." % MAX_TOP)
        else:
            top = None
        page = top or DEFAULT_PAGE
        after = None
        tok = q.get("$skiptoken")
        if tok:
            d = _b64d(tok)
            if not (isinstance(d, list) and len(d) == 3 and d[0] == col):
                raise self._err(400, "BadRequest", "The $skipToken is not valid.")
            after = (d[1], d[2])
        rows = self.emu.store.list(ws, where, params, col, direction, after, page)
        more = len(rows) > page
        rows = rows[:page]
        out = {"value": [self._incident_json(r) for r in rows]}
        if more:
            last = rows[-1]
            nq = [("api-version", version)]
            for k in ("$filter", "$orderby", "$top"):
                if q.get(k.lower()):
                    nq.append((k, q[k.lower()]))
            nq.append(("$skipToken", _b64e([col, last[col], last["num"]])))
            out["nextLink"] = "http://%s%s?%s" % (self.headers.get("Host", "127.0.0.1"), prefix,
                                                  _qs(nq))
        self._ok(200, out)

    def _incident_json(self, r):
        p = r["props"]
        arm_id = "%s/%s" % (r["prefix"], r["name"])
        owner = {"objectId": None, "email": None, "assignedTo": None, "userPrincipalName": None}
        owner.update(p.get("owner") or {})
        props = {
            "title": p["title"],
            "description": p.get("description"),
            "severity": p["severity"],
            "status": p["status"],
            "owner": owner,
            "labels": p.get("labels") or [],
            "incidentNumber": r["num"],
            "incidentUrl": "https://portal.azure.com/#asset/Microsoft_Azure_Security_Insights/Incident" + arm_id,
            "createdTimeUtc": fmt(r["created"]),
            "lastModifiedTimeUtc": fmt(r["modified"]),
            "additionalData": {"alertsCount": 0, "bookmarksCount": 0, "commentsCount": r["comments"],
                               "alertProductNames": [], "tactics": []},
            "providerName": "Azure Sentinel",
            "providerIncidentId": str(r["num"]),
            "relatedAnalyticRuleIds": [],
        }
        for k in ("classification", "classificationReason", "classificationComment",
                  "firstActivityTimeUtc", "lastActivityTimeUtc"):
            if p.get(k) is not None:
                props[k] = p[k]
        return {"id": arm_id, "name": r["name"], "type": "Microsoft.SecurityInsights/Incidents",
                "etag": r["etag"], "properties": props}

    def _get(self, ws, prefix, name):
        r = self.emu.store.get(ws, name)
        if r is None:
            raise self._err(404, "NotFound", "Incident '%s' was not found." % name)
        self._ok(200, self._incident_json(r), {"ETag": r["etag"]})

    def _delete(self, ws, name):
        gone = self.emu.store.delete(ws, name)
        if self._hang_after_write():
            return
        self._ok(200 if gone else 204, None)

    def _put(self, ws, prefix, name, body):
        if not NAME_RE.match(name):
            raise self._err(400, "BadRequest", "The incident id '%s' is not valid." % name)
        try:
            doc = json.loads(body or b"null")
        except ValueError:
            raise self._err(400, "BadRequest", "The request body is not valid JSON.")
        if not isinstance(doc, dict) or not isinstance(doc.get("properties"), dict):
            raise self._err(400, "BadRequest", "The request body must be an incident with 'properties'.")
        props = validate_incident(doc["properties"], self._err)
        want = doc.get("etag")
        if want is not None and not isinstance(want, str):
            raise self._err(400, "BadRequest", "'etag' must be a string.")
        if_match = self.headers.get("If-Match")

        def check(cur):
            for tag in (want, if_match):
                if tag is None or tag == "*" and cur is not None:
                    continue
                if cur is None or _etag_norm(tag) != _etag_norm(cur["etag"]):
                    # Sentinel's answer to a stale etag: 409 Conflict
                    # (github.com/azsec/azure-sentinel-tools/issues/4).
                    raise self._err(409, "Conflict",
                                    "New version of resource '%s' exists. Data was not saved." % name)
        emu = self.emu
        r, created, _ = emu.store.put(ws, prefix, name, props, self.client, emu.clock.now(), check)
        emu.stats.bump("write:" + self.client)
        j = self._incident_json(r)
        emu.webhooks.emit(r["name"], j["id"], j["properties"]["lastModifiedTimeUtc"],
                          "created" if created else "updated")
        if self._hang_after_write():
            return
        self._ok(201 if created else 200, j, {"ETag": r["etag"]})

    # comments
    def _comment_json(self, ws, prefix, inc, c):
        return {"id": "%s/%s/comments/%s" % (prefix, inc, c["name"]), "name": c["name"],
                "type": "Microsoft.SecurityInsights/Incidents/Comments", "etag": c["etag"],
                "properties": {"message": c["message"], "createdTimeUtc": fmt(c["created"]),
                               "lastModifiedTimeUtc": fmt(c["modified"]), "author": c["author"]}}

    def _comments(self, ws, prefix, inc, version):
        q = self.query
        if self.emu.store.get(ws, inc) is None:
            raise self._err(404, "NotFound", "Incident '%s' was not found." % inc)
        if q.get("$filter"):
            raise self._err(400, "BadRequest", "$filter is not supported on comments by this emulator.")
        ob = (q.get("$orderby") or "").split()
        if ob and ob[0].lower() != "properties/createdtimeutc" or len(ob) > 2 or \
                len(ob) == 2 and ob[1].lower() not in ("asc", "desc"):
            raise self._err(400, "BadRequest", "Invalid $orderby: '%s'." % q.get("$orderby"))
        desc = len(ob) == 2 and ob[1].lower() == "desc"
        top = q.get("$top")
        try:
            top = int(top) if top else None
        except ValueError:
            raise self._err(400, "BadRequest", "The value of $top must be an integer: '%s'." % top)
        if top is not None and top < 1:
            raise self._err(400, "BadRequest", "The value of $top must be positive.")
        page = top or DEFAULT_PAGE
        after = None
        if q.get("$skiptoken"):
            d = _b64d(q["$skiptoken"])
            if not (isinstance(d, list) and len(d) == 2 and d[0] == "c" and isinstance(d[1], int)):
                raise self._err(400, "BadRequest", "The $skipToken is not valid.")
            after = d[1]
        rows = self.emu.store.comment_list(ws, inc, after, page, desc)
        more = len(rows) > page
        rows = rows[:page]
        out = {"value": [self._comment_json(ws, prefix, inc, c) for c in rows]}
        if more:
            nq = [("api-version", version)]
            for k in ("$orderby", "$top"):
                if q.get(k.lower()):
                    nq.append((k, q[k.lower()]))
            nq.append(("$skipToken", _b64e(["c", rows[-1]["seq"]])))
            out["nextLink"] = "http://%s%s/%s/comments?%s" % (
                self.headers.get("Host", "127.0.0.1"), prefix, urllib.parse.quote(inc),
                _qs(nq))
        self._ok(200, out)

    def _comment_get(self, ws, prefix, inc, com):
        c = self.emu.store.comment_get(ws, inc, com)
        if c is None:
            raise self._err(404, "NotFound", "Comment '%s' of incident '%s' was not found." % (com, inc))
        self._ok(200, self._comment_json(ws, prefix, inc, c))

    def _comment_put(self, ws, prefix, inc, com, body):
        if not NAME_RE.match(com):
            raise self._err(400, "BadRequest", "The comment id '%s' is not valid." % com)
        try:
            doc = json.loads(body or b"null")
        except ValueError:
            raise self._err(400, "BadRequest", "The request body is not valid JSON.")
        msg = doc.get("properties", {}).get("message") if isinstance(doc, dict) and \
            isinstance(doc.get("properties"), dict) else None
        if not isinstance(msg, str) or not msg:
            raise self._err(400, "BadRequest", "'properties.message' is required.")
        if len(msg) > 30000:
            raise self._err(400, "BadRequest", "The comment message is longer than 30000 characters.")
        author = {"objectId": str(uuid.uuid5(uuid.NAMESPACE_URL, "client:" + self.client)),
                  "email": None, "name": self.client, "userPrincipalName": None}
        now = self.emu.clock.now()
        c, created = self.emu.store.comment_put(ws, inc, com, msg, author, now)
        if c is None:
            raise self._err(404, "NotFound", "Incident '%s' was not found." % inc)
        self.emu.stats.bump("write:" + self.client)
        if c["modified"] == now:
            # A comment added (or changed) is an incident update for automation rules
            # (the incident-updated trigger's "comments added" condition); the
            # incident's own etag and lastModifiedTimeUtc stay as they are.
            r = self.emu.store.get(ws, inc)
            if r is not None:
                self.emu.webhooks.emit(r["name"], "%s/%s" % (r["prefix"], r["name"]), fmt(r["modified"]),
                                       "updated")
        if self._hang_after_write():
            return
        self._ok(201 if created else 200, self._comment_json(ws, prefix, inc, c))

    # -- the test control API (loopback, no authentication)
    def _control(self, path, query):
        emu = self.emu
        body = self._body()
        try:
            doc = json.loads(body) if body else {}
        except ValueError:
            return self._send(400, {"error": "body is not JSON"})
        name = path[len("/emulator/"):].rstrip("/")
        try:
            if name == "faults":
                if self.command == "POST":
                    return self._send(200, emu.faults.set(doc))
                return self._send(200, emu.faults.all())
            if name == "clock":
                if self.command == "POST":
                    emu.clock.skew = float(doc.get("skew", emu.clock.skew))
                return self._send(200, {"skew": emu.clock.skew, "now": fmt(emu.clock.now())})
            if name == "stats":
                s = emu.stats.snapshot()
                return self._send(200, {"requests": {k: v for k, v in s.items()
                                                     if not k.startswith(("status_", "sent_", "webhook",
                                                                          "api-version ", "write:"))},
                                        "status": {k[7:]: v for k, v in s.items() if k.startswith("status_")},
                                        "sent_429": s.get("sent_429", 0), "sent_5xx": s.get("sent_5xx", 0),
                                        "webhooks": {k: v for k, v in s.items() if k.startswith("webhook")},
                                        "api_versions": {k[12:]: v for k, v in s.items()
                                                         if k.startswith("api-version ")},
                                        "incidents": emu.store.count(),
                                        # applied PUTs (incidents and comments) by client
                                        "writes_by_user": {k[6:]: v for k, v in s.items()
                                                           if k.startswith("write:")}})
            if name == "history":
                qs = dict(urllib.parse.parse_qsl(query))
                inc = qs.get("incident")
                if not inc:
                    return self._send(400, {"error": "incident=NAME is required"})
                return self._send(200, {"incident": inc, "history": [
                    dict(h, at=fmt(h["at"])) for h in emu.store.history(inc)]})
            if name == "seed" and self.command == "POST":
                count = int(doc.get("count", 0))
                if not 0 < count <= 1_000_000:
                    return self._send(400, {"error": "count must be within 1..1000000"})
                sub = doc.get("subscription", "00000000-0000-0000-0000-000000000000")
                rg = doc.get("resourceGroup", "rg")
                wsn = doc.get("workspace", "ws")
                prefix = ("/subscriptions/%s/resourceGroups/%s/providers/Microsoft.OperationalInsights/"
                          "workspaces/%s/providers/Microsoft.SecurityInsights/incidents" % (sub, rg, wsn))
                spread = int(float(doc.get("spread_seconds", 86400)) * TICKS)
                ago = int(float(doc.get("ago_seconds", 0)) * TICKS)
                t0 = time.monotonic()
                first, last = emu.store.seed("/".join((sub, rg, wsn)).lower(), prefix, count,
                                             emu.clock.now() - ago - spread, spread, doc.get("seed"))
                return self._send(200, {"first_number": first, "last_number": last, "count": count,
                                        "seconds": round(time.monotonic() - t0, 3)})
            if name == "edit" and self.command == "POST":
                return self._edit(doc)
        except (ValueError, TypeError) as e:
            return self._send(400, {"error": str(e)})
        except ApiError as e:
            return self._send(e.status, {"error": {"code": e.code, "message": e.message}})
        return self._send(404, {"error": "unknown control endpoint %s %s" % (self.command, path)})

    def _edit(self, doc):
        """POST /emulator/edit {"incident", "properties": {...}, "author"}: a
        person's edit in the portal: merges properties, no etag check."""
        emu = self.emu
        name = doc.get("incident")
        with emu.store.lock:
            rows = emu.store.db.execute("SELECT ws, prefix FROM incidents WHERE name=?", (name,)).fetchall()
        if len(rows) != 1:
            return self._send(404, {"error": "incident %r not found (or in several workspaces)" % name})
        ws, prefix = rows[0]
        cur = emu.store.get(ws, name)
        merged = dict(cur["props"])
        merged.update(doc.get("properties") or {})

        def err(status, code, message):
            return ApiError(status, code, message)
        props = validate_incident(merged, err)
        r, created, _ = emu.store.put(ws, prefix, name, props, str(doc.get("author", "portal-user")),
                                      emu.clock.now(), lambda c: None)
        self.rl = {}
        j = self._incident_json(r)
        emu.webhooks.emit(r["name"], j["id"], j["properties"]["lastModifiedTimeUtc"], "updated")
        return self._send(200, j)


def _qs(pairs):
    """A nextLink's query, written as ARM writes it: $filter=...&$skipToken=..."""
    return "&".join("%s=%s" % (urllib.parse.quote(k, safe="$"), urllib.parse.quote(str(v), safe="$/:'"))
                    for k, v in pairs)


def _etag_norm(t):
    t = t.strip()
    if t.startswith("W/"):
        t = t[2:]
    return t.strip('"')


def validate_incident(p, err):
    """The writable properties of a PUT (the spec's IncidentProperties without
    its readOnly members), checked; a PUT replaces them all."""
    out = {}
    for k in ("title", "severity", "status"):
        if not isinstance(p.get(k), str) or not p.get(k):
            raise err(400, "BadRequest", "The property '%s' is required." % k)
    if p["severity"] not in SEVERITIES:
        raise err(400, "BadRequest", "The severity '%s' is not valid: one of %s." % (p["severity"], ", ".join(SEVERITIES)))
    if p["status"] not in STATUSES:
        raise err(400, "BadRequest", "The status '%s' is not valid: one of %s." % (p["status"], ", ".join(STATUSES)))
    out.update(title=p["title"], severity=p["severity"], status=p["status"])
    for k in ("description", "classificationComment"):
        if p.get(k) is not None:
            if not isinstance(p[k], str):
                raise err(400, "BadRequest", "The property '%s' must be a string." % k)
            out[k] = p[k]
    cls, reason = p.get("classification"), p.get("classificationReason")
    if cls is not None and cls not in CLASSIFICATIONS:
        raise err(400, "BadRequest", "The classification '%s' is not valid: one of %s." % (cls, ", ".join(CLASSIFICATIONS)))
    if reason is not None and reason not in REASONS:
        raise err(400, "BadRequest", "The classificationReason '%s' is not valid: one of %s." % (reason, ", ".join(REASONS)))
    if p["status"] == "Closed" and cls is None:
        raise err(400, "BadRequest", "Classification is required when the incident status is 'Closed'.")
    if cls in ("TruePositive", "BenignPositive") and reason not in REASONS_OF[cls]:
        raise err(400, "BadRequest", "Classification reason for '%s' must be %s." % (cls, " or ".join(REASONS_OF[cls])))
    if cls == "FalsePositive" and reason is not None and reason not in REASONS_OF[cls]:
        raise err(400, "BadRequest", "Classification reason for 'FalsePositive' must be %s." % " or ".join(REASONS_OF[cls]))
    if cls == "Undetermined" and reason is not None:
        raise err(400, "BadRequest", "Classification 'Undetermined' takes no classification reason.")
    if cls is not None:
        out["classification"] = cls
    if reason is not None:
        out["classificationReason"] = reason
    owner = p.get("owner")
    if owner is not None:
        if not isinstance(owner, dict):
            raise err(400, "BadRequest", "The property 'owner' must be an object.")
        out["owner"] = {k: owner[k] for k in ("objectId", "email", "assignedTo", "userPrincipalName", "ownerType")
                        if owner.get(k) is not None}
    labels = p.get("labels")
    if labels is not None:
        if not isinstance(labels, list) or not all(isinstance(x, dict) and isinstance(x.get("labelName"), str)
                                                   for x in labels):
            raise err(400, "BadRequest", "'labels' must be a list of {labelName, labelType}.")
        out["labels"] = [{"labelName": x["labelName"], "labelType": x.get("labelType") or "User"} for x in labels]
    for k in ("firstActivityTimeUtc", "lastActivityTimeUtc"):
        if p.get(k) is not None:
            t = parse_time(p[k])
            if t is None:
                raise err(400, "BadRequest", "The property '%s' is not a date-time: '%s'." % (k, p[k]))
            out[k] = fmt(t)
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--port", type=int, required=True, help="0: a free port")
    ap.add_argument("--db", required=True, help="SQLite file, kept across restarts")
    ap.add_argument("--tenant", default="emulator-tenant")
    ap.add_argument("--client", action="append", metavar="ID:SECRET",
                    help="an application allowed to take tokens (repeatable); "
                         "default emulator-client:emulator-secret")
    ap.add_argument("--token-ttl", type=float, default=3599, help="seconds (default 3599)")
    ap.add_argument("--skew", type=float, default=0.0, help="seconds added to the emulator's clock")
    ap.add_argument("--rate-limit", type=int, default=0, metavar="N_PER_MIN",
                    help="management requests per principal per minute; 0 = unlimited")
    ap.add_argument("--webhook")
    ap.add_argument("--webhook-secret")
    ap.add_argument("--webhook-token")
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args(argv)
    for c in args.client or []:
        if ":" not in c:
            ap.error("--client takes ID:SECRET")
    Handler.emu = Emulator(args)
    ThreadingHTTPServer.daemon_threads = True
    ThreadingHTTPServer.request_queue_size = 64
    srv = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)

    def stop(*_):
        threading.Thread(target=srv.shutdown, daemon=True).start()
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print("listening 127.0.0.1:%d" % srv.server_address[1], flush=True)
    srv.serve_forever()
    srv.server_close()


if __name__ == "__main__":
    main()
