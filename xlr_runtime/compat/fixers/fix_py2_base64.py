"""Serve ``import base64`` in translated scripts from a module with Python 2 ``str`` behaviour.

Jython scripts call ``base64.b64encode("user:password")`` on text and concatenate the result with text. The
stock module wants and returns ``bytes`` under Python 3, so translated scripts import
:mod:`xlr_runtime.compat.shims.py2_base64` (served as ``_xlr_py2_base64``) instead. Scripts that are already
Python 3 are never translated and keep the real module.
"""

from __future__ import annotations

from fissix.fixes.fix_imports import FixImports

#: The module name translated scripts import in place of ``base64`` (see ``compat.imports.SHIMS``).
PY2_BASE64_MODULE = "_xlr_py2_base64"


class FixPy2Base64(FixImports):
    """``import base64`` / ``from base64 import x`` -> the Python 2 flavoured module, usages renamed."""

    mapping = {"base64": PY2_BASE64_MODULE}
