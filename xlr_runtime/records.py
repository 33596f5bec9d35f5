"""Building frozen dataclass records in bulk on the hot path of script runs.

A frozen dataclass's generated ``__init__`` sets each field through ``object.__setattr__`` (about 0.4 µs a field
on a small machine); the scheduler, the pool and the workers build several records of a dozen fields for every
script run. :func:`frozen_record` builds the same instance by filling its ``__dict__`` at once.
"""

from __future__ import annotations

from typing import Any, TypeVar

Record = TypeVar("Record")

_new = object.__new__


def frozen_record(cls: type[Record], **values: Any) -> Record:
    """An instance of the dataclass ``cls`` (without ``__slots__`` or ``__post_init__``) from a value for EVERY
    field: defaults are not applied. The result is an ordinary instance, equal to one built by ``cls(**values)``
    and as frozen (``tests/test_runtime_records.py`` checks the records built this way)."""
    record = _new(cls)
    record.__dict__.update(values)
    return record
