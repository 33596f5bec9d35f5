"""Python 2 -> 3 translation of plugin scripts (fissix), keeping line numbers so tracebacks stay true.

``to_python3(source, filename, mode)`` is what the worker calls before compiling a script:

* ``off`` returns the source unchanged;
* ``auto`` returns it unchanged when it is Python 3 (see :mod:`xlr_runtime.compat.detect`), else translates;
* ``on`` always translates.

Translation is :func:`xlr_runtime.compat.prepass.prepare` followed by fissix
(:mod:`xlr_runtime.compat.py2to3`, imported only when a script needs translating: a worker running Python 3
scripts never imports fissix). Results are cached by content hash in memory and under the user cache directory
(``$XDG_CACHE_HOME/xlr-runtime/translated``).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import threading
import warnings
from collections import OrderedDict
from pathlib import Path

from xlr_runtime.compat.detect import needs_translation
from xlr_runtime.compat.prepass import prepare
from xlr_runtime.errors import ScriptSyntaxError

MODES = ("auto", "on", "off")

#: Bumped whenever our pre-pass or fixer choice changes the output, so stale disk-cache entries are ignored.
TRANSLATOR_VERSION = "6"

_MEMORY_CACHE_SIZE = 512
_memory_cache: OrderedDict[str, str] = OrderedDict()
_lock = threading.Lock()


def to_python3(source: str, filename: str, mode: str = "auto") -> str:
    """Return ``source`` as Python 3 with the same line numbering.

    ``mode`` is ``auto`` (translate only Python 2 scripts), ``on`` or ``off``. ``filename`` is only used in
    error messages. Raises :class:`ScriptSyntaxError` (``path:line: message``) when the script does not
    compile after translation, and :class:`ValueError` for an unknown mode.
    """
    if mode not in MODES:
        raise ValueError(f"translate mode must be one of {', '.join(MODES)}, got {mode!r}")
    if mode == "off":
        return source
    key = f"{_digest(source)}-{mode}"  # fissix's version cannot change within a process
    with _lock:
        cached = _memory_cache.get(key)
        if cached is not None:
            _memory_cache.move_to_end(key)
            return cached
    result = _translated_or_cached_on_disk(source, filename, mode)
    with _lock:
        _memory_cache[key] = result
        while len(_memory_cache) > _MEMORY_CACHE_SIZE:
            _memory_cache.popitem(last=False)
    return result


def cache_key(source: str, mode: str) -> str:
    """The disk cache key of a translation: content hash, mode, fissix and translator versions."""
    from fissix.__version__ import __version__ as fissix_version  # only for a script that needs translating

    return f"{_digest(source)}-{mode}-fissix{fissix_version}-t{TRANSLATOR_VERSION}"


def _digest(source: str) -> str:
    return hashlib.sha256(source.encode("utf-8", "surrogatepass")).hexdigest()


def cache_dir() -> Path:
    """Where translated scripts are kept between processes (``XDG_CACHE_HOME`` or ``~/.cache``)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "xlr-runtime" / "translated"


def clear_memory_cache() -> None:
    """Forget in-process translations (tests, and a worker told that plugins changed)."""
    with _lock:
        _memory_cache.clear()


def translate(source: str, filename: str) -> str:
    """Translate ``source`` from Python 2 unconditionally (no cache); see :func:`to_python3`."""
    from xlr_runtime.compat import py2to3  # fissix: ≈ 60 ms, imported by the first script that needs it

    result = py2to3.fix(prepare(source), filename)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # SyntaxWarning / DeprecationWarning about the text: Jython has none
            compile(result, filename, "exec", dont_inherit=True)
    except SyntaxError as exc:
        raise ScriptSyntaxError(exc.msg, path=filename, line=exc.lineno) from None
    return result


def _translated_or_cached_on_disk(source: str, filename: str, mode: str) -> str:
    if mode == "auto" and not needs_translation(source, filename):
        return source
    path = cache_dir() / f"{cache_key(source, mode)}.py"
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        pass
    result = translate(source, filename)
    _write_atomically(path, result)
    return result


def _write_atomically(path: Path, text: str) -> None:
    """Best effort: a read-only or full disk only costs the cache."""
    temporary = path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, path)
    except OSError:
        with contextlib.suppress(OSError):
            temporary.unlink(missing_ok=True)
