"""What a secret is shown as wherever it would appear (:data:`MASK`), and how a secret found while a script runs
reaches the masker of that run (:func:`hide`, :func:`masking`).

A module of its own at the foundation, so every layer that shows a value (a type's password default, a URL's
password in ``xlr config``, a script run's log) masks with the same text, and every layer that finds a secret (the
Java HTTP shims of :mod:`xlr_runtime.compat`, ``HttpRequest``) hides it, without importing the masking machinery
of :mod:`xlr_runtime.scripting.masking`, whose :class:`~xlr_runtime.scripting.masking.Masker` is what learns it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Protocol, TypeVar

#: What a secret is replaced with.
MASK = "********"


class SecretLearner(Protocol):
    """What :func:`hide` tells a secret to (a :class:`~xlr_runtime.scripting.masking.Masker`)."""

    def add(self, secrets: Iterable[str], usernames: Iterable[str] = ()) -> None:
        """Mask ``secrets`` (and, with each username, their HTTP Basic form) from now on."""


_Learner = TypeVar("_Learner", bound=SecretLearner)

_in_progress: ContextVar[SecretLearner | None] = ContextVar("xlr_runtime_masker_in_progress", default=None)
#: Every masker in progress in this process, for secrets found in a thread a script started (no context).
_active: list[SecretLearner] = []
_active_lock = threading.Lock()


@contextmanager
def masking(masker: _Learner) -> Iterator[_Learner]:
    """Make ``masker`` the masker of the script run in progress (in this thread) while the block runs."""
    token = _in_progress.set(masker)
    with _active_lock:
        _active.append(masker)
    try:
        yield masker
    finally:
        with _active_lock:
            _active.remove(masker)
        _in_progress.reset(token)


def hide(secret: str, username: str | None = None) -> None:
    """Mask ``secret``, found while a script runs, in everything that run produces (with ``username``, also the
    Basic form of ``username:secret``); nothing outside a run. From a thread the script started, which has no
    run of its own, every run in progress in this process masks it (in a worker there is one)."""
    masker = _in_progress.get()
    if masker is not None:
        masker.add([secret], [username] if username else ())
        return
    with _active_lock:
        maskers = list(_active)
    for masker in maskers:
        masker.add([secret], [username] if username else ())
