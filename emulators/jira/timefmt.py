"""Times for the Jira emulator: integer milliseconds since the Unix epoch,
written as Jira writes them (2024-01-02T03:04:05.678+0000, in a time zone's
offset), JQL date literals read in the searching account's time zone with
minute precision, and the emulator's clock (host time plus a skew)."""

import datetime
import re
import threading
import time
import zoneinfo

_UTC = datetime.timezone.utc


def zone(name):
    """A tzinfo for an IANA name (raises ValueError for an unknown one)."""
    if name in (None, "", "UTC", "Etc/UTC"):
        return _UTC
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as e:
        raise ValueError("unknown time zone %r" % name) from e


def fmt(ms, tz=None):
    """Jira's date-time: yyyy-MM-dd'T'HH:mm:ss.SSSZ, e.g. 2024-01-02T03:04:05.678+0000."""
    if ms is None:
        return None
    d = datetime.datetime.fromtimestamp(ms / 1000.0, tz or _UTC)
    return d.strftime("%Y-%m-%dT%H:%M:%S.") + "%03d" % (ms % 1000) + d.strftime("%z")


_ABS = re.compile(r"^(\d{4})[-/](\d{1,2})[-/](\d{1,2})(?:\s+(\d{1,2}):(\d{2}))?$")
_REL = re.compile(r"^([+-]?)\s*(\d+)\s*([wdhm]?)$")
_UNIT_MS = {"w": 7 * 86400000, "d": 86400000, "h": 3600000, "m": 60000, "": 60000}


def parse_jql_date(text, tz, now_ms, quoted):
    """A JQL date value -> epoch ms, or None when it is none of the formats.

    "yyyy/MM/dd HH:mm", "yyyy-MM-dd HH:mm", "yyyy/MM/dd", "yyyy-MM-dd" (read
    in the account's time zone; no time means midnight), or a period relative
    to now: "-5d", "-4h", "-15m", "2w" (no unit: minutes). An unquoted bare
    number is milliseconds after the epoch."""
    t = text.strip()
    m = _ABS.match(t)
    if m:
        y, mo, d, hh, mi = m.groups()
        try:
            local = datetime.datetime(int(y), int(mo), int(d), int(hh or 0), int(mi or 0), tzinfo=tz)
        except ValueError:
            return None
        return int(local.timestamp() * 1000)
    if not quoted and re.fullmatch(r"\d{5,}", t):
        return int(t)
    m = _REL.match(t)
    if m:
        sign, n, unit = m.groups()
        delta = int(n) * _UNIT_MS[unit]
        # Relative dates move in whole minutes (JQL has minute precision).
        base = now_ms - now_ms % 60000
        return base - delta if sign == "-" else base + delta
    return None


def fmt_reset(ms):
    """X-RateLimit-Reset: an ISO 8601 time to the minute, yyyy-MM-ddTHH:mmZ."""
    return datetime.datetime.fromtimestamp(ms / 1000.0, _UTC).strftime("%Y-%m-%dT%H:%MZ")


class Clock:
    """The site's clock: the host's, shifted by a skew (seconds, settable at
    run time). Stamps handed out for writes are strictly increasing while the
    skew does not move backwards, so two writes never share an `updated`."""

    def __init__(self, skew=0.0):
        self.skew = float(skew)
        self._last = 0
        self._lock = threading.Lock()

    def now_ms(self):
        return int(time.time() * 1000 + self.skew * 1000)

    def stamp(self):
        t = self.now_ms()
        with self._lock:
            if self._last - 1000 < t <= self._last:
                t = self._last + 1
            self._last = t
            return t
