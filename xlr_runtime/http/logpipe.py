"""The HTTP server process's log records, handed to ``xlr serve`` over a pipe so they join serve's log.

In the server process, :class:`PipeHandler` writes each record of the ``xlr_runtime`` loggers as one JSON line (the
message already formatted, a traceback as text, the ``extra`` fields such as ``event`` and ``task_id``). In serve,
:func:`forward_records` reads them and hands each to the logger of the same name, so serve's format (text or JSON),
level and handlers apply to them exactly as to its own records.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from typing import Any

#: The attributes every record has; the others of a record are the ``extra`` fields of its logging call.
_STANDARD = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


class PipeHandler(logging.Handler):
    """Writes records to the pipe ``fd`` as JSON lines; drops them once nobody reads the pipe (serve is gone)."""

    def __init__(self, fd: int) -> None:
        super().__init__()
        self._out = os.fdopen(fd, "w", encoding="utf-8", buffering=1)  # line-buffered: one write per record
        self._exceptions = logging.Formatter()

    def emit(self, record: logging.LogRecord) -> None:
        data: dict[str, Any] = {name: value for name, value in vars(record).items() if name not in _STANDARD}
        exc_text = record.exc_text
        if record.exc_info and not exc_text:
            exc_text = self._exceptions.formatException(record.exc_info)
        data.update(
            name=record.name,
            levelno=record.levelno,
            levelname=record.levelname,
            msg=record.getMessage(),
            created=record.created,
            exc_text=exc_text,
        )
        with contextlib.suppress(OSError, ValueError):  # serve is gone (a broken or closed pipe): nobody to tell
            self._out.write(json.dumps(data, default=str) + "\n")

    def close(self) -> None:
        """Close the pipe (its reader then sees its end)."""
        with contextlib.suppress(OSError):
            self._out.close()
        super().close()


def forward_records(fd: int) -> None:
    """Read records from the pipe ``fd`` until its writer closes it, and log each through the logger of its name."""
    with os.fdopen(fd, encoding="utf-8", errors="replace") as lines:
        for line in lines:
            try:
                data = json.loads(line)
            except ValueError:
                continue
            record = logging.makeLogRecord(data)
            logger = logging.getLogger(record.name)
            if logger.isEnabledFor(record.levelno):
                logger.handle(record)
