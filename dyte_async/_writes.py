"""How a write tells the pipeline whether it took effect after an ambiguous failure.

A non-idempotent request (a `start`, a create) whose attempt may have reached the server
(read timeout, dropped connection, 5xx) is never resent blindly. The resource gives the
pipeline one or both of these hooks; the pure `_retry.decide` says when each applies:

- `Recover`: before a retry, "did the write already happen?" (e.g. is a livestream active);
- `Settle`: after a retry, which error statuses mean "it did" (a 404 for a `stop`, a 409
  for a `start`), so a write that happened is never reported as failed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import attrs

from dyte_async._response import Envelope

__all__ = ["Recover", "Settle"]

#: Called after an ambiguous failure of a non-idempotent request, with the call's deadline:
#: returns the answer that makes a retry unnecessary, or None when the write did not happen
#: (then the request is retried). Raising a `DyteError` means "cannot tell": the call then
#: fails with the original error rather than risk doing the write twice.
Recover = Callable[[float], Awaitable["Envelope | None"]]


@attrs.frozen(kw_only=True)
class Settle:
    """A write's rule for the answer to a retry sent after an attempt that may have taken
    effect (read timeout, dropped connection, 5xx): these statuses mean "it did".

    Attributes:
        statuses: e.g. ``{404}`` for a stop (nothing live any more), ``{409}`` for a start.
        meaning: what the INFO line says, e.g. "the livestream was already stopped".
        resolve: reads the result, given the call's deadline (e.g. the active livestream);
            None: the call returns an envelope with ``data=None``. A `DyteError` from it
            fails the call with the retry's own error.
    """

    statuses: frozenset[int]
    meaning: str
    resolve: Callable[[float], Awaitable[Envelope]] | None = None
