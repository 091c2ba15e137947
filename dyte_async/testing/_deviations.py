"""Where the spec contradicts itself (or the API), and the shape the fake chose: one list.

The official file (`spec/dyte-v2.yaml`) disagrees with its own examples, with its other
schemas for the same object, and with the prose docs (ENDPOINTS.md 4.4-4.10 lists them).
The fake answers the shape of the examples. Each such choice is a `Deviation` here: a
change applied to a copy of the spec (`_spec.patched_spec()`), with the reason. The fake
checks requests against that copy, and the conformance test fuzzes the served fake with
it: any answer outside the official schema that is not listed here fails the test.

Write-only fields are the other list: `WRITE_ONLY` names what the fake never returns.
"""

from __future__ import annotations

from typing import Any

import attrs

__all__ = ["DEVIATIONS", "WRITE_ONLY", "Deviation", "apply_deviations"]


@attrs.frozen
class Deviation:
    """One documented departure from the official schema.

    Attributes:
        where: JSON pointer of a schema node in the spec (`~1` is a `/`).
        change: keys set on that node (a key with value None is removed).
        reason: why, and what the spec says elsewhere.
    """

    where: str
    change: dict[str, Any]
    reason: str


DEVIATIONS: tuple[Deviation, ...] = ()
"""Every departure from the official schemas (applied in order)."""


WRITE_ONLY: dict[str, tuple[str, ...]] = {
    "storage_config": ("access_key", "secret", "password", "private_key"),
}
"""Keys the fake never returns, per enclosing object. `access_key` is `writeOnly` in the spec;
`secret` is described there as "only writeable by clients, not readable"; the SFTP
`password` and `private_key` are the same kind of secret (the spec does not say)."""


def apply_deviations(spec: dict[str, Any]) -> None:
    """Apply `DEVIATIONS` to `spec` in place.

    Raises:
        KeyError: a deviation points at a node the spec does not have (the list is stale).
    """
    from dyte_async.testing._spec import pointer

    for deviation in DEVIATIONS:
        node = pointer(spec, deviation.where)
        if not isinstance(node, dict):
            raise KeyError(f"{deviation.where} is not a schema object")
        for key, value in deviation.change.items():
            if value is None:
                node.pop(key, None)
            else:
                node[key] = value
