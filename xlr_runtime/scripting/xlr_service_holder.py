"""``com.xebialabs.xlrelease.api.XLReleaseServiceHolder``: ``getReleaseApi()`` and ``getTaskApi()`` hand out the
running script's ``releaseApi`` and ``taskApi`` (see :mod:`xlr_runtime.scripting.xlr_api`); any other
``getX()`` (``getRepositoryService``…) raises when called: ``XLReleaseServiceHolder.getRepositoryService is not
available in xlr-runtime``. Scripts import it as a module (``from …XLReleaseServiceHolder import getReleaseApi``)
or as the class (``import …XLReleaseServiceHolder as XLReleaseServiceHolder``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from xlr_runtime.scripting.xlr_api import ReleaseApi, TaskApi, current, unsupported


def getReleaseApi() -> ReleaseApi:
    """The running script's ``releaseApi``."""
    return current().release_api


def getTaskApi() -> TaskApi:
    """The running script's ``taskApi``."""
    return current().task_api


def __getattr__(name: str) -> Callable[..., Any]:
    if not name[:1].islower():  # a method name; not JAVA_PACKAGES or dunders the import machinery looks for
        raise AttributeError(name)
    return unsupported("XLReleaseServiceHolder", name)
