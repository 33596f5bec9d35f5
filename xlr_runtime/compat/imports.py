"""Import shims: Java/Jython module names that plugin scripts import, served by our Python modules.

:data:`SHIMS` maps a module name as scripts write it to the module of ours that serves it. Worker processes
call :func:`install` once; a name missing here imports as usual, except under the Java package roots
(:data:`JAVA_ROOTS`: ``java``, ``javax``, ``com``, ``org``, ``xlrelease``), where a name we do not serve
raises :class:`~xlr_runtime.errors.UnsupportedImportError` naming the module and the script line that
imported it: ``/p/jenkins/Build.py:3: import of 'com.xebialabs.overthere' is not supported by xlr-runtime``.
The same happens for a class missing from a shim (``from java.lang import Runtime``).

Every shim name is a package, so Jython's ``import java.lang.System as System`` (a class imported as if it were a
module) imports the class, as ``from java.lang import System`` does. A shim module that serves several Java
packages lists each package's classes in ``JAVA_PACKAGES`` (``org.apache.http.util`` has ``EntityUtils``, not
``HttpGet``): a class imported from the wrong package is unsupported, as it would not exist in Java.

Scripts get a fresh module object per shim name (a proxy of ours), so our own modules keep their identity.
"""

from __future__ import annotations

import dis
import importlib
import importlib.abc
import importlib.machinery
import os
import sys
import types
from typing import Any

from xlr_runtime.compat.shims.apache_http_packages import JAVA_PACKAGES as APACHE_HTTP_PACKAGES
from xlr_runtime.errors import UnsupportedImportError

_SHIM_PACKAGE = "xlr_runtime.compat.shims"

#: Script-visible module name -> xlr_runtime module providing it.
SHIMS: dict[str, str] = {
    "xlrelease.HttpRequest": "xlr_runtime.scripting.http",
    "com.xebialabs.xlrelease.plugin.webhook": "xlr_runtime.scripting.jsonpath",
    "xlrelease.CredentialsFallback": f"{_SHIM_PACKAGE}.credentials",
    "sets": f"{_SHIM_PACKAGE}.sets",
    "__builtin__": f"{_SHIM_PACKAGE}.builtin",
    "com.xhaus.jyson.JysonCodec": f"{_SHIM_PACKAGE}.jyson",
    "org.slf4j": f"{_SHIM_PACKAGE}.slf4j",
    "java.lang": f"{_SHIM_PACKAGE}.java_lang",
    "java.io": f"{_SHIM_PACKAGE}.java_io",
    "java.util": f"{_SHIM_PACKAGE}.java_util",
    "java.net": f"{_SHIM_PACKAGE}.java_net",
    "java.text": f"{_SHIM_PACKAGE}.java_text",
    "java.sql": f"{_SHIM_PACKAGE}.java_sql",
    "org.apache.commons.codec.binary.Base64": f"{_SHIM_PACKAGE}.commons_codec",
    **{package: f"{_SHIM_PACKAGE}.apache_http" for package in APACHE_HTTP_PACKAGES},
    "com.xebialabs.xlrelease.domain.configuration": f"{_SHIM_PACKAGE}.xlr_domain",
    "com.xebialabs.xlrelease.domain": "xlr_runtime.scripting.xlr_api",  # Comment
    "com.xebialabs.xlrelease.api.v1.forms": "xlr_runtime.scripting.xlr_api",  # Variable
    "com.xebialabs.xlrelease.api.XLReleaseServiceHolder": "xlr_runtime.scripting.xlr_service_holder",
    "xlrelease.HttpResponse": "xlr_runtime.scripting.http",
    "_xlr_py2_base64": f"{_SHIM_PACKAGE}.py2_base64",  # what translated scripts import for ``base64``
    "_xlr_py2_string": f"{_SHIM_PACKAGE}.py2_string",  # and for ``string``
    "_xlr_py2_elementtree": f"{_SHIM_PACKAGE}.py2_elementtree",  # and for ``xml.etree.ElementTree``
}

#: Every name an import may ask the shim finder for: the shims and each package above one (``java``, ``com.xhaus``).
_SERVED = frozenset(name.rsplit(".", depth)[0] for name in SHIMS for depth in range(name.count(".") + 1))

#: Top-level names that are Java (or XL Release server) packages: nothing under them exists unless shimmed.
JAVA_ROOTS = frozenset({"java", "javax", "com", "org", "xlrelease"})

_COMPAT_DIR = os.path.dirname(os.path.abspath(__file__))
#: The frames of ``importlib.import_module`` (a shim package importing a sub-module) are not the importer's.
_IMPORTLIB_DIR = os.path.dirname(os.path.abspath(importlib.__file__))


def is_java_name(module: str) -> bool:
    """True for a module name under one of :data:`JAVA_ROOTS`."""
    return module.split(".", 1)[0] in JAVA_ROOTS


def is_served(module: str) -> bool:
    """True when an import of ``module`` is served by a shim or is a package above one."""
    return module in _SERVED


def served_class(module: str) -> bool:
    """True when ``module`` names a class of a shim (``java.lang.System``), importable as Jython imports it."""
    owner, _, name = module.rpartition(".")
    return owner in SHIMS and not name.startswith("_") and exports(owner, name)


def exports(module: str, name: str) -> bool:
    """True when the shim serving ``module`` (a name in :data:`SHIMS`) has ``name`` for that package."""
    try:
        served = importlib.import_module(SHIMS[module])
    except ImportError:
        return False
    listed = getattr(served, "JAVA_PACKAGES", {}).get(module)
    return hasattr(served, name) and (listed is None or name in listed)


def unsupported(module: str) -> bool:
    """True when importing ``module`` would raise :class:`UnsupportedImportError`."""
    return is_java_name(module) and not is_served(module) and not served_class(module)


def importer_frame() -> types.FrameType | None:
    """The frame doing the current import: the first one outside importlib and this package."""
    frame = sys._getframe(1)
    while frame is not None:
        filename = frame.f_code.co_filename
        if not filename.startswith(("<frozen importlib", _COMPAT_DIR, _IMPORTLIB_DIR)):
            return frame
        frame = frame.f_back
    return None


def unsupported_import(module: str) -> UnsupportedImportError:
    """The error for ``module``, located at the importing line and naming the whole module the line imports
    (``com.xebialabs.overthere.OverthereConnection`` rather than the first unknown package)."""
    frame = importer_frame()
    if frame is None:
        return UnsupportedImportError(module)
    imported = _imported_name(frame)
    if imported and imported.startswith(module + "."):
        module = imported
    return UnsupportedImportError(module, path=frame.f_code.co_filename, line=frame.f_lineno)


def _imported_name(frame: types.FrameType) -> str | None:
    for instruction in dis.get_instructions(frame.f_code):
        if instruction.offset == frame.f_lasti:
            return instruction.argval if instruction.opname == "IMPORT_NAME" else None
    return None


class _ShimFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Serves every name in :data:`SHIMS`, the packages above them and their classes; refuses other Java names."""

    def find_spec(self, fullname: str, path: object, target: object = None) -> importlib.machinery.ModuleSpec | None:
        if is_served(fullname):
            return importlib.machinery.ModuleSpec(fullname, self, is_package=True)
        if is_java_name(fullname):
            if served_class(fullname):
                return importlib.machinery.ModuleSpec(fullname, self, is_package=False)
            raise unsupported_import(fullname)
        return None

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType | None:
        if spec.name in SHIMS:
            return _proxy(spec.name, importlib.import_module(SHIMS[spec.name]))
        if is_served(spec.name):
            return _package(spec.name)
        return None  # a class: exec_module puts the class itself in its place

    def exec_module(self, module: types.ModuleType) -> None:
        """Nothing to run for a shim or a package (:meth:`create_module` built it complete); for a class
        (``import java.lang.System as System``), the class replaces the module in ``sys.modules``, which the
        import returns (importlib reads the module back from ``sys.modules`` after this call)."""
        name = module.__name__
        if not is_served(name):
            owner, _, attribute = name.rpartition(".")
            sys.modules[name] = getattr(importlib.import_module(owner), attribute)


def _proxy(name: str, target: types.ModuleType) -> types.ModuleType:
    """A module named ``name`` showing ``target``'s public names (those of ``name``'s Java package when
    ``target`` lists them); a missing Java class is unsupported."""
    module = types.ModuleType(name, target.__doc__)
    listed = getattr(target, "JAVA_PACKAGES", {}).get(name)
    module.__dict__.update(
        {
            key: value
            for key, value in vars(target).items()
            if not key.startswith("__") and (listed is None or key in listed)
        }
    )

    def __getattr__(attribute: str) -> Any:
        if listed is None or attribute in listed:
            try:
                return getattr(target, attribute)
            except AttributeError:
                pass
        if is_served(f"{name}.{attribute}"):  # a shim package below this one (org.apache.http -> .client)
            return importlib.import_module(f"{name}.{attribute}")
        if is_java_name(name) and not attribute.startswith("__"):
            raise unsupported_import(f"{name}.{attribute}") from None
        raise AttributeError(f"module {name!r} has no attribute {attribute!r}")

    module.__getattr__ = __getattr__  # type: ignore[method-assign]
    return module


def _package(name: str) -> types.ModuleType:
    """A package above shims (``java``, ``com.xhaus.jyson``): its attributes are its sub-modules."""
    module = types.ModuleType(name)
    module.__path__ = []

    def __getattr__(attribute: str) -> Any:
        if attribute.startswith("__"):
            raise AttributeError(attribute)
        return importlib.import_module(f"{name}.{attribute}")

    module.__getattr__ = __getattr__  # type: ignore[method-assign]
    return module


def install() -> None:
    """Put the shim finder first on ``sys.meta_path`` (idempotent)."""
    if not any(isinstance(finder, _ShimFinder) for finder in sys.meta_path):
        sys.meta_path.insert(0, _ShimFinder())
