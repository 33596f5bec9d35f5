"""``base64`` for translated Python 2 scripts: text in, text out, as Python 2's ``str`` behaved.

``base64.b64encode("user:pw")`` returns ``"dXNlcjpwdw=="`` (text) so ``"Basic " + ...`` works; ``bytes`` in
still gives ``bytes`` out. Decoders return text when the decoded bytes are UTF-8, else bytes. The removed
``encodestring``/``decodestring`` are back. Only scripts translated from Python 2 import this module
(as ``_xlr_py2_base64``); the real :mod:`base64` is untouched.
"""

from __future__ import annotations

import base64 as _base64
from base64 import *  # noqa: F403  (everything the real module has, then the text-aware overrides below)
from collections.abc import Callable
from typing import Any

_Codec = Callable[..., bytes]


def _encoder(function: _Codec) -> Callable[..., Any]:
    def encode(data: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(data, str):
            return function(data.encode("utf-8"), *args, **kwargs).decode("ascii")
        return function(data, *args, **kwargs)

    encode.__name__ = encode.__qualname__ = function.__name__
    encode.__doc__ = f"{function.__name__} that returns text for text input (Python 2 ``str``)."
    return encode


def _decoder(function: _Codec) -> Callable[..., Any]:
    def decode(data: Any, *args: Any, **kwargs: Any) -> Any:
        decoded = function(data.encode("ascii") if isinstance(data, str) else data, *args, **kwargs)
        if not isinstance(data, str):
            return decoded
        try:
            return decoded.decode("utf-8")
        except UnicodeDecodeError:
            return decoded

    decode.__name__ = decode.__qualname__ = function.__name__
    decode.__doc__ = f"{function.__name__} that returns text for text input when the result is UTF-8."
    return decode


b64encode = _encoder(_base64.b64encode)
standard_b64encode = _encoder(_base64.standard_b64encode)
urlsafe_b64encode = _encoder(_base64.urlsafe_b64encode)
b32encode = _encoder(_base64.b32encode)
b16encode = _encoder(_base64.b16encode)
encodestring = encodebytes = _encoder(_base64.encodebytes)
b64decode = _decoder(_base64.b64decode)
standard_b64decode = _decoder(_base64.standard_b64decode)
urlsafe_b64decode = _decoder(_base64.urlsafe_b64decode)
b32decode = _decoder(_base64.b32decode)
b16decode = _decoder(_base64.b16decode)
decodestring = decodebytes = _decoder(_base64.decodebytes)
