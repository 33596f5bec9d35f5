"""Record and replay of a script run's HTTP exchanges with vcrpy, in the worker process that runs the script.

The test harness (:mod:`xlr_runtime.testing.cassettes`) sets :attr:`ScriptRunRequest.http_cassette`; around the
script, :func:`recording` then puts vcrpy between every HTTP client of the worker (``HttpRequest``, plain
``requests``, ``urllib``) and the network:

* replaying, a request is answered from the test's cassette file: the first answer recorded for it (method,
  scheme, host, port, path and query, as vcrpy matches by default) that no run of the test has played yet. The
  played answers are noted in the test's workspace under a file lock, so the polls of a task get the recorded
  answers in their order even when they run in different worker processes. A request the cassette cannot answer
  fails the script with :class:`~xlr_runtime.errors.CassetteMissError` (one line: method, URL, cassette), unless
  the run also records;
* recording, a request the cassette does not answer goes to the server, and the exchanges of the run are written
  when it ends as a part of their own in the workspace (``parts/<run id>-<time>-<pid>.yaml``), which the harness
  merges into the cassette: workers never write the same file.

What is written is masked (:data:`SECRET_HEADERS` and query parameters named like :data:`SECRET_QUERY` always;
everywhere, every secret the run's masker knows when the run ends, OAuth2 tokens it fetched included), and a
request is masked the same way before it is matched, so a replayed run matches whatever its passwords are.
vcrpy is imported only here, only for a run that records or replays.
"""

from __future__ import annotations

import contextlib
import copy
import fcntl
import functools
import os
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from xlr_runtime.errors import CassetteMissError
from xlr_runtime.mask import MASK
from xlr_runtime.scripting.contract import HttpCassette
from xlr_runtime.scripting.masking import Masker

#: Headers whose values are always masked in a cassette, in requests and responses (lower case).
SECRET_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key", "x-auth-token", "private-token"}
)
#: Query parameters whose values are always masked in a cassette: names containing one of these words.
SECRET_QUERY = re.compile(r"token|passw|secret|api[-_]?key|signature|credential", re.IGNORECASE)
#: vcrpy's default matchers: two requests are the same exchange when all of these agree.
MATCH_ON = ("method", "scheme", "host", "port", "path", "query")
#: File of a test's workspace listing the answers of its cassette played so far (one index a line).
PLAYED_FILE = "played"
#: Folder of a test's workspace holding one part per recording run.
PARTS_FOLDER = "parts"

_QUERY_PAIR = re.compile(r"(?P<name>[^&=#]+)=(?P<value>[^&#]*)")


#: What :func:`recording` gives a run without a cassette (almost every run): no work at all.
_NOTHING = contextlib.nullcontext()


def recording(cassette: HttpCassette | None, run_id: int, masker: Masker) -> contextlib.AbstractContextManager[Any]:
    """Record or replay the HTTP exchanges of the script run ``run_id`` while the block runs, as ``cassette``
    says (nothing when it is ``None``); what is written is masked with ``masker``."""
    if cassette is None:
        return _NOTHING
    run = _Run(cassette, run_id, masker)
    return _cassette_class().use(**run.cassette_arguments())


class _Run:
    """What one recording or replaying run knows: its cassette, masker and the test's workspace."""

    def __init__(self, cassette: HttpCassette, run_id: int, masker: Masker) -> None:
        self.cassette = cassette
        self.run_id = run_id
        self.masker = masker
        self.workspace = Path(cassette.workspace)

    def cassette_arguments(self) -> dict[str, Any]:
        """Keyword arguments of vcrpy's ``Cassette.use`` for this run."""
        from vcr import matchers
        from vcr.serializers import yamlserializer

        return {
            "path": self.cassette.path,
            "run": self,
            "serializer": yamlserializer,
            "record_mode": "new_episodes" if self.cassette.record else "none",
            "match_on": tuple(getattr(matchers, name) for name in MATCH_ON),
            "before_record_request": self.masked_request,
            "before_record_response": _decoded_response,
        }

    def masked_request(self, request: Any) -> Any:
        """A masked copy of a vcrpy request (the script's request is never changed)."""
        request = copy.deepcopy(request)
        request.uri = self.masker.mask(_masked_query(request.uri))
        for name in list(request.headers):
            value = request.headers[name]
            if name.lower() in SECRET_HEADERS:
                request.headers[name] = MASK
            elif isinstance(value, str):
                request.headers[name] = self.masker.mask(value)
        body = request.body
        if isinstance(body, bytes) and body:
            request.body = _masked_bytes(body, self.masker)
        return request

    def masked_response(self, response: dict[str, Any]) -> dict[str, Any]:
        """A masked copy of a vcrpy response."""
        response = copy.deepcopy(response)
        headers = response.get("headers") or {}
        for name, values in headers.items():
            secret = name.lower() in SECRET_HEADERS
            headers[name] = [MASK if secret else self.masker.mask(v) if isinstance(v, str) else v for v in values]
        body = response.get("body") or {}
        if isinstance(body.get("string"), bytes):
            body["string"] = _masked_bytes(body["string"], self.masker)
        elif isinstance(body.get("string"), str):
            body["string"] = self.masker.mask(body["string"])
        return response

    @contextlib.contextmanager
    def played(self) -> Iterator[set[int]]:
        """The indexes of the answers any run of the test played, under the workspace's lock; the indexes added
        to the set in the block are noted as played."""
        with (self.workspace / PLAYED_FILE).open("a+", encoding="ascii") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            handle.seek(0)
            played = {int(line) for line in handle.read().split()}
            before = set(played)
            yield played
            handle.writelines(f"{index}\n" for index in sorted(played - before))
            handle.flush()

    def miss(self, request: Any) -> CassetteMissError:
        """The error a request the cassette cannot answer raises to the script."""
        return CassetteMissError(request.method, self.masked_request(request).uri, self.cassette.path)

    def save_part(self, exchanges: list[tuple[Any, dict[str, Any]]]) -> None:
        """Write the run's new ``exchanges`` (masked) as a part of the workspace, atomically."""
        if not exchanges or not self.cassette.record:
            return
        from vcr.serialize import serialize
        from vcr.serializers import yamlserializer

        text = serialize(
            {
                "requests": [self.masked_request(request) for request, _ in exchanges],
                "responses": [self.masked_response(response) for _, response in exchanges],
            },
            yamlserializer,
        )
        parts = self.workspace / PARTS_FOLDER
        parts.mkdir(exist_ok=True)
        name = f"{self.run_id:012d}-{time.time_ns()}-{os.getpid()}.yaml"
        partial = parts / f".{name}.tmp"
        partial.write_text(text, encoding="utf-8")
        os.replace(partial, parts / name)


@functools.cache
def _cassette_class() -> type:
    """vcrpy's ``Cassette`` with the play state shared by the test's workers and parts written per run (built
    on first use: vcrpy is imported only by a run that records or replays)."""
    from vcr.cassette import Cassette

    class SharedCassette(Cassette):  # type: ignore[misc]
        def __init__(self, *args: Any, run: _Run, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._run = run
            self._loaded = 0

        def _load(self) -> None:
            if self._run.cassette.replay:
                super()._load()
            self._loaded = len(self.data)

        def _unplayed(self, request: Any, played: set[int]) -> Iterator[tuple[int, Any]]:
            """The loaded answers to ``request`` not played yet (those recorded now are never played)."""
            for index, response in self._responses(request):
                if index < self._loaded and index not in played:
                    yield index, response

        def __contains__(self, request: Any) -> bool:
            with self._run.played() as played:
                return next(self._unplayed(request, played), None) is not None

        def can_play_response_for(self, request: Any) -> bool:
            if self._run.cassette.replay and request in self:
                return True
            if not self._run.cassette.record:
                raise self._run.miss(request)
            return False

        def play_response(self, request: Any) -> Any:
            with self._run.played() as played:
                for index, response in self._unplayed(request, played):
                    played.add(index)
                    return response
            raise self._run.miss(request)

        def _save(self, force: bool = False) -> None:
            self._run.save_part(self.data[self._loaded :])

    return SharedCassette


def _decoded_response(response: dict[str, Any]) -> dict[str, Any]:
    """A gzip or deflate answer stored decoded, so that it can be masked and read."""
    from vcr.filters import decode_response

    return decode_response(response)


def _masked_query(uri: str) -> str:
    """``uri`` with the values of its :data:`SECRET_QUERY` parameters masked."""
    base, mark, query = uri.partition("?")
    if not mark:
        return uri

    def mask(match: re.Match[str]) -> str:
        name = match.group("name")
        return f"{name}={MASK}" if SECRET_QUERY.search(name) else match.group(0)

    return base + mark + _QUERY_PAIR.sub(mask, query)


def _masked_bytes(data: bytes, masker: Masker) -> bytes:
    """``data`` masked as UTF-8 text; binary data is kept as it is."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return data
    return masker.mask(text).encode("utf-8")
