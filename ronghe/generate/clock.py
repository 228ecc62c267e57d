"""Times inside the generator: integer seconds from the window's first local midnight.

Local time is Asia/Shanghai (UTC+8, no daylight saving). History before the
window has negative times. Formatting is cached per day because the writers
format millions of timestamps.
"""

from __future__ import annotations

from datetime import date, timedelta

DAY = 86_400
HOUR = 3_600
UTC_OFFSET = 8 * HOUR


class Clock:
    """Converts window-relative seconds to the formats the sources use."""

    def __init__(self, start: date) -> None:
        self.start = start
        self._dates: dict[int, str] = {}

    def date_of(self, day: int) -> date:
        return self.start + timedelta(days=day)

    def date_str(self, day: int) -> str:
        """`YYYY-MM-DD` of a window day index (negative for history)."""
        cached = self._dates.get(day)
        if cached is None:
            cached = self._dates[day] = self.date_of(day).isoformat()
        return cached

    def compact_date(self, day: int) -> str:
        """`YYYYMMDD`, as in drop folder and file names."""
        return self.date_str(day).replace("-", "")

    def day_of(self, t: int) -> int:
        return t // DAY

    @staticmethod
    def _hms(t: int) -> str:
        s = t % DAY
        return f"{s // HOUR:02d}:{s // 60 % 60:02d}:{s % 60:02d}"

    def local(self, t: int) -> str:
        """`YYYY-MM-DD HH:MM:SS` local (POS, ERP)."""
        return f"{self.date_str(t // DAY)} {self._hms(t)}"

    def iso_local(self, t: int) -> str:
        """ISO 8601 with the +08:00 offset (WMS)."""
        return f"{self.date_str(t // DAY)}T{self._hms(t)}+08:00"

    def iso_utc(self, t: int) -> str:
        """ISO 8601 in UTC with `Z` (e-commerce API)."""
        u = t - UTC_OFFSET
        return f"{self.date_str(u // DAY)}T{self._hms(u)}Z"
