"""Serve ``base64`` and ``string`` to translated scripts from modules with their Python 2 behaviour.

Jython scripts call ``base64.b64encode("user:password")`` on text and concatenate the result with text, and
use the ``string`` module's functions (``string.strip(s)``, ``string.join(words, ",")``) that Python 3
removed. Translated scripts import :mod:`xlr_runtime.compat.shims.py2_base64` and
:mod:`xlr_runtime.compat.shims.py2_string` instead (served under the names in :data:`PY2_MODULES`, see
``compat.imports.SHIMS``). Scripts that are already Python 3 are never translated and keep the real modules.
"""

from __future__ import annotations

from fissix.fixes.fix_imports import FixImports

#: Standard module -> the name translated scripts import in its place.
PY2_MODULES = {"base64": "_xlr_py2_base64", "string": "_xlr_py2_string"}


class FixPy2Modules(FixImports):
    """``import base64`` / ``from string import x`` -> the Python 2 flavoured module, usages renamed."""

    mapping = PY2_MODULES
