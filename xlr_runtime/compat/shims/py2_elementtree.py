"""``xml.etree.ElementTree`` for translated Python 2 scripts: ``tostring`` returns text, as Python 2's ``str``.

Jython plugins build XML with ``ET.tostring(root)`` and then print it, format it into messages or concatenate
it with text (the XL Deploy plugin's ``XLDeployClient.py`` does all three). Python 3's ``tostring`` returns
``bytes``, which prints as ``b'<...>'`` and cannot be added to text. Here ``tostring``/``tostringlist`` return
what Python 2 returned, decoded: the same characters (non-ASCII as ``&#233;`` with the default encoding) and
the same XML declaration rule. Everything else is the real module. Translated scripts import this module as
``_xlr_py2_elementtree`` in place of ``xml.etree.ElementTree`` and of ``xml.etree.cElementTree`` (which
Python 3.9 removed).
"""

from __future__ import annotations

import xml.etree.ElementTree as _ElementTree
from typing import Any
from xml.etree.ElementTree import *  # noqa: F403  (the real module, then Python 2's tostring below)


def tostring(element: _ElementTree.Element, encoding: str | None = None, method: str | None = None) -> str:
    """Python 2's ``tostring``: the serialised element in ``encoding`` (default ``us-ascii``), as text."""
    encoding = encoding or "us-ascii"
    serialised = _ElementTree.tostring(element, encoding=encoding, method=method)
    return serialised if isinstance(serialised, str) else serialised.decode(encoding)  # str: encoding="unicode"


def tostringlist(element: _ElementTree.Element, encoding: str | None = None, method: str | None = None) -> list[str]:
    """Python 2's ``tostringlist``: :func:`tostring` as a list of one piece of text."""
    return [tostring(element, encoding, method)]


def __getattr__(name: str) -> Any:
    return getattr(_ElementTree, name)
