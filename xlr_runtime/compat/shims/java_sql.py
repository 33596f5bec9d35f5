"""``java.sql``: the two date classes plugin scripts use outside JDBC, ``Date`` and ``Timestamp`` (both
``java.util.Date`` s, printed as Java prints them, in the machine's time zone). JDBC itself (``DriverManager``,
``Connection`` …) is not served: importing it is an unsupported import."""

from __future__ import annotations

import datetime as dt
import time

from xlr_runtime.compat.shims.java_util import Date as UtilDate


class Date(UtilDate):
    """``java.sql.Date(millis)``: ``toString()`` is ``2024-01-31``; ``Date.valueOf("2024-01-31")``."""

    @staticmethod
    def valueOf(text: str) -> Date:
        """The local midnight of ``yyyy-[m]m-[d]d``; ``ValueError`` (Java's ``IllegalArgumentException``) else."""
        year, month, day = (int(part) for part in str(text).split("-"))
        return Date(int(time.mktime(dt.date(year, month, day).timetuple()) * 1000))

    def toString(self) -> str:
        return time.strftime("%Y-%m-%d", time.localtime(self.getTime() / 1000))

    __str__ = toString


class Timestamp(UtilDate):
    """``java.sql.Timestamp(millis)``: ``toString()`` is ``2024-01-31 13:45:00.5`` (fraction without trailing
    zeros, at least one digit); ``Timestamp.valueOf("2024-01-31 13:45:00[.fff]")``."""

    @staticmethod
    def valueOf(text: str) -> Timestamp:
        """The local time written ``yyyy-[m]m-[d]d hh:mm:ss[.f...]``."""
        parsed = dt.datetime.strptime(str(text).strip(), "%Y-%m-%d %H:%M:%S.%f" if "." in text else "%Y-%m-%d %H:%M:%S")
        return Timestamp(round(parsed.timestamp() * 1000))

    def toString(self) -> str:
        millis = self.getTime()
        fraction = f"{millis % 1000:03d}".rstrip("0") or "0"
        return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(millis // 1000)) + "." + fraction

    __str__ = toString
