"""The classes of XL Release's server API that scripts build and hand to ``releaseApi``/``taskApi``:
``Variable`` of ``com.xebialabs.xlrelease.api.v1.forms`` and ``Comment`` of ``com.xebialabs.xlrelease.domain``
(see :mod:`xlr_runtime.scripting.xlr_api`)."""

from __future__ import annotations

from xlr_runtime.scripting.xlr_api import Comment, Variable

#: The classes of each Java package this module serves (a class from the wrong package is unsupported).
JAVA_PACKAGES = {
    "com.xebialabs.xlrelease.api.v1.forms": {"Variable"},
    "com.xebialabs.xlrelease.domain": {"Comment"},
}

__all__ = ["Comment", "Variable"]
