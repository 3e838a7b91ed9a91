"""Times as integer ticks of 100 ns since the Unix epoch, written with seven
fractional digits as the Sentinel API writes them
(2026-12-05T11:22:33.1234567Z)."""

import re
import time
import calendar
import threading

TICKS = 10_000_000  # per second

_RE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?"
    r"(Z|z|[+-]\d{2}:?\d{2})?$")


def fmt(ticks):
    secs, frac = divmod(int(ticks), TICKS)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(secs)) + ".%07dZ" % frac


def parse_time(text):
    """ISO 8601 date-time -> ticks, or None. No zone means UTC."""
    if not isinstance(text, str):
        return None
    m = _RE.match(text.strip())
    if not m:
        return None
    y, mo, d, h, mi, s, frac, zone = m.groups()
    try:
        secs = calendar.timegm((int(y), int(mo), int(d), int(h), int(mi), int(s), 0, 0, 0))
    except (ValueError, OverflowError):
        return None
    if not (1 <= int(mo) <= 12 and 1 <= int(d) <= 31 and int(h) < 24 and int(mi) < 60 and int(s) < 61):
        return None
    ticks = secs * TICKS
    if frac:
        ticks += int((frac + "0000000")[:7])
    if zone and zone not in ("Z", "z"):
        sign = 1 if zone[0] == "+" else -1
        z = zone[1:].replace(":", "")
        ticks -= sign * (int(z[:2]) * 3600 + int(z[2:]) * 60) * TICKS
    return ticks


class Clock:
    """The emulator's clock: the host's, shifted by a skew (seconds, settable
    at run time). Stamps handed out are strictly increasing while the skew
    does not move backwards, so two writes never share a lastModifiedTimeUtc."""

    def __init__(self, skew=0.0):
        self.skew = float(skew)
        self._last = 0
        self._lock = threading.Lock()

    def now(self):
        t = time.time_ns() // 100 + int(self.skew * TICKS)
        with self._lock:
            if self._last - TICKS // 100 < t <= self._last:
                t = self._last + 1
            self._last = t
            return t
