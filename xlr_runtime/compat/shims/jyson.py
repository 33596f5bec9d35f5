"""``com.xhaus.jyson.JysonCodec`` (usually ``import com.xhaus.jyson.JysonCodec as json``): JSON text to Python
values and back, as the standard :mod:`json` does."""

from __future__ import annotations

import json
from typing import Any


def loads(text: str | bytes, **options: Any) -> Any:
    """Parse JSON text (Jyson accepts the same documents)."""
    options.pop("strict_mode", None)
    return json.loads(text)


def dumps(value: Any, **options: Any) -> str:
    """Serialise ``value`` as compact JSON text."""
    options.pop("strict_mode", None)
    return json.dumps(value)


#: Jyson's error names, for scripts that catch them.
JSONDecodeError = json.JSONDecodeError
JSONEncodeError = TypeError
