"""Output of a Rundeck exec/script step is read in bounded pieces (issue 12, 5): a step printing one huge line, or
printing faster than its log is written, holds a few MB in the runtime, never its whole output."""

from __future__ import annotations

import sys
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pytest

from xlr_runtime.errors import ClaimLostError
from xlr_runtime.rundeck.nodes.local import CUT_SEARCH, LINE_PIECE, run_shell

#: Bytes the runtime may hold while it reads a step's output (the pieces queued, their text, the readers' buffers).
BOUND = 16 * 1024 * 1024


@pytest.fixture
def traced() -> Iterator[None]:
    tracemalloc.start()
    try:
        yield
    finally:
        tracemalloc.stop()


def run(command: str, *, slow_first: float = 0.0) -> list[tuple[str, str]]:
    """The (level, text) pieces ``command`` printed; the sink waits ``slow_first`` seconds on the first piece."""
    seen: list[tuple[str, str]] = []

    def on_line(level: str, text: str) -> bool:
        if not seen and slow_first:
            time.sleep(slow_first)
        seen.append((level, text if len(text) < 100 else f"{text[:1]}*{len(text)}"))
        return True

    result = run_shell(command, env={}, on_line=on_line, should_stop=lambda: None)
    assert result.succeeded, result
    return seen


def test_a_50_mb_line_is_handed_on_in_bounded_pieces(traced: None) -> None:
    pieces = run("head -c 50000000 /dev/zero | tr '\\0' x; echo; echo after; printf 'no new line'")
    peak = tracemalloc.get_traced_memory()[1]

    assert peak < BOUND, peak
    assert pieces[-2:] == [("NORMAL", "after"), ("NORMAL", "no new line")]
    sizes = [int(text.split("*")[1]) for _, text in pieces[:-2]]
    assert sum(sizes) == 50_000_000
    assert max(sizes) == LINE_PIECE
    assert {text[0] for _, text in pieces[:-2]} == {"x"}


def test_output_faster_than_its_log_waits_instead_of_piling_up(traced: None) -> None:
    pieces = run("yes $(head -c 1000 /dev/zero | tr '\\0' y) | head -n 20000", slow_first=1.0)
    peak = tracemalloc.get_traced_memory()[1]

    assert len(pieces) == 20000
    assert peak < BOUND, peak


def test_a_long_line_is_cut_after_a_space_and_keeps_its_characters_whole() -> None:
    words = ("wörd " * 40000).strip()  # 239,999 bytes, 'ö' is two
    seen: list[str] = []
    result = run_shell(
        f"{sys.executable} -c \"print(('wörd ' * 40000).strip())\"; printf 'a\\n\\nb\\n'",
        env={"PYTHONIOENCODING": "utf-8"},
        on_line=lambda level, text: seen.append(text) or True,
        should_stop=lambda: None,
    )

    assert result.succeeded
    assert seen[-3:] == ["a", "", "b"]  # an empty line is still a line
    cut = seen[:-3]
    assert "".join(cut) == words
    assert len(cut) > 3 and all(piece.endswith(" ") for piece in cut[:-1])
    assert all(LINE_PIECE - CUT_SEARCH <= len(piece.encode()) <= LINE_PIECE + CUT_SEARCH for piece in cut[:-1])
    assert "\ufffd" not in "".join(cut)


def test_a_line_exactly_one_piece_long_is_one_line() -> None:
    seen: list[str] = []
    run_shell(
        f"head -c {LINE_PIECE} /dev/zero | tr '\\0' z; echo; echo next",
        env={},
        on_line=lambda level, text: seen.append(text) or True,
        should_stop=lambda: None,
    )

    assert seen == ["z" * LINE_PIECE, "next"]


def test_a_line_its_log_refuses_stops_the_command_and_the_error_propagates(tmp_path: Path) -> None:
    marker = tmp_path / "after"

    def refuse(level: str, text: str) -> bool:
        raise ClaimLostError(7, 1)  # the execution is another runtime's now

    with pytest.raises(ClaimLostError):
        run_shell(f"echo first; sleep 30; touch {marker}", env={}, on_line=refuse, should_stop=lambda: None)
    assert not marker.exists()  # run_shell waits for the shell: it was killed at the refused line
