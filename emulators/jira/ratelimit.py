"""Rate limits of the Jira emulator: the per-issue write limit (every write to
one issue, whoever makes it, counted in sliding windows: by default 20 in 2 s
and 100 in 30 s; RateLimit-Reason jira-per-issue-on-write) and an optional
per-account burst limit (requests per second; jira-burst-based). A refused
request is not counted and applies nothing."""

import collections
import math
import threading
import time


def parse_limits(specs):
    """["20/2", "100/30"] -> [(20, 2.0), (100, 30.0)]"""
    out = []
    for s in specs:
        n, _, w = str(s).partition("/")
        n, w = int(n), float(w)
        if n < 1 or w <= 0:
            raise ValueError("a limit is N/SECONDS with N >= 1 and SECONDS > 0: %r" % s)
        out.append((n, w))
    return out


class IssueWriteLimiter:
    def __init__(self, limits):
        self.limits = list(limits)
        self.lock = threading.Lock()
        self.w = collections.defaultdict(collections.deque)

    def set(self, limits):
        with self.lock:
            self.limits = list(limits)

    def take(self, issue_id):
        """-> None (allowed, counted) or (retry_after_seconds, (n, window)) of the window that is full."""
        if not self.limits:
            return None
        now = time.monotonic()
        longest = max(w for _, w in self.limits)
        with self.lock:
            dq = self.w[issue_id]
            while dq and dq[0] <= now - longest:
                dq.popleft()
            for n, window in self.limits:
                inside = [t for t in dq if t > now - window]
                if len(inside) >= n:
                    # free again when the oldest write still inside the window leaves it
                    oldest = inside[len(inside) - n]
                    return max(1, math.ceil(oldest + window - now)), (n, window)
            dq.append(now)
            return None


class BurstLimiter:
    """N requests per second per account (a token bucket of N); 0: off."""

    def __init__(self, per_second):
        self.rate = float(per_second)
        self.lock = threading.Lock()
        self.b = {}

    def take(self, who):
        """-> (allowed, remaining, retry_after_seconds)"""
        if self.rate <= 0:
            return True, None, 0
        now = time.monotonic()
        with self.lock:
            tokens, t = self.b.get(who, (self.rate, now))
            tokens = min(self.rate, tokens + (now - t) * self.rate)
            if tokens < 1:
                self.b[who] = (tokens, now)
                return False, 0, max(1, math.ceil((1 - tokens) / self.rate))
            self.b[who] = (tokens - 1, now)
            return True, int(tokens - 1), 0
