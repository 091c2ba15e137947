"""What the CLI prints: lines that survive a closed pipe, JSON with secrets redacted, outcomes,
listings, the fan-out summary and a progress bar."""

from __future__ import annotations

import json
import os
import sys
from collections import Counter
from collections.abc import Sequence
from typing import Any, TextIO

from dyte_async._fanout import Outcome
from dyte_async._redact import redact_text
from dyte_async.errors import APIStatusError
from dyte_async.models import Livestream
from dyte_async.models._serialize import REDACTED, to_plain

__all__ = [
    "REDACTED",
    "Progress",
    "describe",
    "emit",
    "error",
    "is_terminal",
    "print_items",
    "print_outcome",
    "print_summary",
    "redact",
    "to_jsonable",
]

_TEXT_FIELDS = {
    "meetings": ("id", "status", "title", "created_at"),
    "livestreams": ("id", "status", "name", "meeting_id", "playback_url"),
}


def emit(line: str, stream: TextIO | None = None) -> None:
    """Print one line; a reader that went away (`| head`) does not stop the work."""
    stream = stream if stream is not None else sys.stdout
    try:
        print(line, file=stream, flush=True)
    except BrokenPipeError:
        # Point the closed stream at /dev/null so later writes (and the flush at exit)
        # are silent, and carry on: a half-done batch of starts or stops is worse.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, stream.fileno())
        os.close(devnull)


def error(message: str) -> None:
    """Print `dyte-async: message` on stderr."""
    emit(f"dyte-async: {message}", sys.stderr)


def describe(exc: BaseException) -> str:
    """`ErrorType: message`, anything shaped like a secret in the message masked."""
    return f"{type(exc).__name__}: {redact_text(str(exc))}"


def redact(value: str | None, *, show: bool) -> str | None:
    """`value`, or `<redacted>` when there is one to hide and `show` is false."""
    return value if show or not value else REDACTED


# -- JSON ------------------------------------------------------------------------------


def to_jsonable(value: Any, *, show_secrets: bool = False) -> Any:
    """A model (or anything) as plain JSON data, with secrets redacted at any depth.

    The models' own `to_dict()` rules (`dyte_async.models._serialize.to_plain`).

    Args:
        value: an attrs model, a container of them, or plain data.
        show_secrets: keep `stream_key`, `token` and other secrets as they are.
    """
    return to_plain(value, include_secrets=show_secrets)


def _error_record(exc: BaseException) -> dict[str, Any]:
    record: dict[str, Any] = {"type": type(exc).__name__, "message": redact_text(str(exc))}
    if isinstance(exc, APIStatusError):
        record["status_code"] = exc.status_code
    return record


# -- what the commands print -----------------------------------------------------------


def print_items(items: Sequence[Any], *, kind: str, as_json: bool, show_secrets: bool) -> None:
    """A listing: one line per meeting or livestream on stdout, the count on stderr.

    Args:
        items: the models.
        kind: "meetings" or "livestreams" (which fields a text line shows).
        as_json: one JSON object per line, and no count.
        show_secrets: keep stream keys and tokens.
    """
    for item in items:
        data = to_jsonable(item, show_secrets=show_secrets)
        if as_json:
            emit(json.dumps(data))
        else:
            emit("  ".join(str(data.get(f) or "-") for f in _TEXT_FIELDS[kind]))
    if not as_json:
        emit(f"{kind}: {len(items)}", sys.stderr)


def print_outcome(outcome: Outcome[str, Any], *, as_json: bool, show_secrets: bool) -> None:
    """One meeting's outcome of a fan-out command, on stdout."""
    if as_json:
        record: dict[str, Any] = {"meeting_id": outcome.item, "ok": outcome.ok}
        if outcome.error is None:
            record["result"] = to_jsonable(outcome.result, show_secrets=show_secrets)
        else:
            record["error"] = _error_record(outcome.error)
        emit(json.dumps(record))
    elif outcome.error is not None:
        emit(f"{outcome.item}: FAILED {describe(outcome.error)}")
    elif isinstance(outcome.result, Livestream):
        ls = outcome.result
        emit(f"{outcome.item}: {ls.status} livestream {ls.id} {ls.playback_url or ''}".rstrip())
    else:
        emit(f"{outcome.item}: {outcome.result}")


def print_summary(
    action: str, succeeded: int, failures: Counter[str], seconds: float, *, as_json: bool
) -> None:
    """A fan-out command's last line, on stderr: counts, errors by type, seconds taken."""
    failed = sum(failures.values())
    if as_json:
        summary = {
            "succeeded": succeeded,
            "failed": failed,
            "errors": dict(failures.most_common()),
            "seconds": seconds,
        }
        emit(json.dumps({"summary": summary}), sys.stderr)
        return
    errors = ", ".join(f"{n} {name}" for name, n in failures.most_common())
    emit(
        f"{action}: {succeeded} succeeded, {failed} failed"
        + (f" ({errors})" if errors else "")
        + f" in {seconds:.1f}s",
        sys.stderr,
    )


# -- the progress bar ------------------------------------------------------------------


def is_terminal(stream: TextIO) -> bool:
    """True when `stream` is a terminal (False for replaced or closed streams)."""
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


class Progress:
    """A progress bar on stderr when it is a terminal (with `rich`, the `cli` extra)."""

    def __init__(self, total: int, *, label: str, enabled: bool) -> None:
        self._total = total
        self._label = label
        self._enabled = enabled
        self._failed = 0
        self._bar: Any = None
        self._task: Any = None

    def __enter__(self) -> Progress:
        if not self._enabled:
            return self
        try:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                TextColumn,
                TimeElapsedColumn,
            )
            from rich.progress import Progress as Bar
        except ImportError:  # pragma: no cover - rich is in the cli extra
            return self
        self._bar = Bar(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[failed]} failed"),
            TimeElapsedColumn(),
            console=Console(stderr=True),
            transient=True,
            # Lines printed to stdout go above the bar when both are the terminal; when
            # stdout is a file or a pipe they must go there, not to the bar's stderr.
            redirect_stdout=is_terminal(sys.stdout),
        )
        self._bar.__enter__()
        self._task = self._bar.add_task(self._label, total=self._total, failed=0)
        return self

    def advance(self, *, failed: bool) -> None:
        """One more item done (`failed`: it failed)."""
        self._failed += failed
        if self._bar is not None:
            self._bar.update(self._task, advance=1, failed=self._failed)

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)
