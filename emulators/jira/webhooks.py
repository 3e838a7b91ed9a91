"""Outbound webhooks of the Jira emulator: the POSTs Jira Cloud sends to the
registered URLs (jira:issue_created, jira:issue_updated, comment_created),
with X-Atlassian-Webhook-Identifier (one per delivery, the same on its
retries), X-Atlassian-Webhook-Flow, X-Atlassian-Webhook-Retry on retries and,
for a registration with a secret, X-Hub-Signature: sha256=<hex HMAC-SHA256
of the raw body>. One background thread sends from a schedule: a failed
delivery (connection error, timeout, 408, 409, 425, 429, 5xx) is retried
later with growing delays, so retries overtake later events as real ones do;
faults send one twice or hold one back behind the next."""

import hashlib
import heapq
import hmac
import itertools
import json
import threading
import time
import urllib.error
import urllib.request
import uuid

RETRY_STATUSES = {408, 409, 425, 429}


def sign(secret, body):
    """X-Hub-Signature value: sha256=<lowercase hex HMAC-SHA256(secret, raw body)>."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class Webhooks:
    def __init__(self, store, faults, stats):
        self.store = store
        self.faults = faults
        self.stats = stats
        self.cond = threading.Condition()
        self.heap = []
        self.seq = itertools.count()
        self.held = None
        self.retries = 5            # retries after the first attempt
        self.backoff_s = 1.0        # first retry after this, doubling
        self.hold_s = 2.0           # a held-back (reordered) delivery waits at most this for the next one
        threading.Thread(target=self._run, name="webhooks", daemon=True).start()

    def emit(self, event, payload):
        """Queues `payload` (a dict) for every registration that takes `event`."""
        regs = [w for w in self.store.webhooks() if event in w["events"] or "*" in w["events"]]
        if not regs:
            return
        body = json.dumps(payload, separators=(",", ":")).encode()
        now = time.monotonic()
        with self.cond:
            for w in regs:
                d = {"url": w["url"], "secret": w["secret"], "body": body, "attempt": 0,
                     "identifier": str(uuid.uuid4()), "webhook_id": w["id"]}
                if self.held is None and self.faults.roll("p_reorder_webhook"):
                    self.held = (d, now + self.hold_s)   # goes out after the next one
                    self.stats.bump("webhooks_reordered")
                    continue
                self._push(now, d)
                if self.faults.roll("p_dup_webhook"):
                    self.stats.bump("webhooks_duplicated")
                    self._push(now, dict(d))
                if self.held is not None and self.held[0] is not d:
                    self._push(now, self.held[0])
                    self.held = None
            self.cond.notify()

    def _push(self, due, d):
        heapq.heappush(self.heap, (due, next(self.seq), d))

    def pending(self):
        with self.cond:
            return len(self.heap) + (1 if self.held else 0)

    def _run(self):
        while True:
            with self.cond:
                while True:
                    now = time.monotonic()
                    if self.held is not None and self.held[1] <= now:
                        self._push(now, self.held[0])
                        self.held = None
                    if self.heap and self.heap[0][0] <= now:
                        _, _, d = heapq.heappop(self.heap)
                        break
                    waits = [t for t in ([self.heap[0][0]] if self.heap else []) +
                             ([self.held[1]] if self.held else [])]
                    self.cond.wait(min(waits) - now if waits else None)
            ok, retry = self._deliver(d)
            if ok:
                continue
            if retry and d["attempt"] < self.retries:
                delay = self.backoff_s * (2 ** d["attempt"])
                d = dict(d, attempt=d["attempt"] + 1)
                with self.cond:
                    self._push(time.monotonic() + delay, d)
                    self.cond.notify()
                self.stats.bump("webhooks_retried")
            else:
                self.stats.bump("webhooks_dropped")

    def _deliver(self, d):
        """-> (delivered, worth retrying)"""
        headers = {"Content-Type": "application/json; charset=utf-8",
                   "User-Agent": "Atlassian Webhook HTTP Client",
                   "X-Atlassian-Webhook-Identifier": d["identifier"],
                   "X-Atlassian-Webhook-Flow": "Primary"}
        if d["attempt"]:
            headers["X-Atlassian-Webhook-Retry"] = str(d["attempt"])
        if d["secret"]:
            headers["X-Hub-Signature"] = sign(d["secret"], d["body"])
        try:
            req = urllib.request.Request(d["url"], data=d["body"], headers=headers, method="POST")
            with urllib.request.urlopen(req, timeout=10) as r:
                r.read()
                self.stats.bump("webhooks_sent")
                return True, False
        except urllib.error.HTTPError as e:
            self.stats.bump("webhook_attempts_failed")
            return False, e.code in RETRY_STATUSES or e.code >= 500
        except Exception:
            self.stats.bump("webhook_attempts_failed")
            return False, True
