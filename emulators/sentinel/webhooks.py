"""Outbound webhooks: what an automation rule running a playbook would POST
on each incident create and update. One background thread, a few retries;
faults can send one twice or hold one back behind the next."""

import hashlib
import hmac
import json
import queue
import threading
import time
import urllib.request


def sign(secret, body):
    """X-Concord-Signature value: sha256=<lowercase hex HMAC-SHA256(secret, raw body)>."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class Webhooks:
    # A Logic App's HTTP action retries by default four times at exponential
    # intervals of 5 to 45 s (learn.microsoft.com/azure/logic-apps/
    # error-exception-handling, "Retry policies"): a receiver down for a few
    # seconds (a restart) still gets the body.
    RETRIES = 5              # attempts per delivery: the first and four retries
    BACKOFF = (5.0, 10.0, 20.0, 40.0)
    HOLD_S = 3.0             # a held-back (reordered) delivery waits at most this

    def __init__(self, url, secret=None, token=None, faults=None, stats=None):
        self.url = url
        self.secret = secret
        self.token = token
        self.faults = faults
        self.stats = stats
        self.q = queue.Queue()
        self.held = None
        if url:
            threading.Thread(target=self._run, name="webhooks", daemon=True).start()

    def emit(self, incident_name, arm_id, modified_str, operation):
        if not self.url:
            return
        body = json.dumps({"incidentId": incident_name, "incidentArmId": arm_id,
                           "lastModifiedTimeUtc": modified_str, "operation": operation},
                          separators=(",", ":")).encode()
        self.q.put(body)

    def _run(self):
        while True:
            try:
                body = self.q.get(timeout=self.HOLD_S if self.held else None)
            except queue.Empty:
                body = None
            if body is None:  # nothing came after the held one: send it now
                held, self.held = self.held, None
                if held:
                    self._deliver(held)
                continue
            if self.held is None and self.faults and self.faults.roll("p_reorder_webhook"):
                self.held = body  # goes out after the next one
                continue
            self._deliver(body)
            if self.faults and self.faults.roll("p_dup_webhook"):
                self._deliver(body)
            if self.held:
                held, self.held = self.held, None
                self._deliver(held)

    def _deliver(self, body):
        headers = {"Content-Type": "application/json"}
        if self.secret:
            headers["X-Concord-Signature"] = sign(self.secret, body)
        if self.token:
            headers["Authorization"] = "Bearer " + self.token
        for attempt in range(self.RETRIES):
            try:
                req = urllib.request.Request(self.url, data=body, headers=headers, method="POST")
                with urllib.request.urlopen(req, timeout=5) as r:
                    r.read()
                    if 200 <= r.status < 300:
                        self.stats.bump("webhooks_sent")
                        return
            except Exception:
                pass
            self.stats.bump("webhook_attempts_failed")
            if attempt < len(self.BACKOFF):
                time.sleep(self.BACKOFF[attempt])
        self.stats.bump("webhooks_dropped")
