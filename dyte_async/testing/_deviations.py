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

from collections.abc import Callable
from typing import Any

import attrs

__all__ = ["DEVIATIONS", "WRITE_ONLY", "Deviation", "apply_deviations"]


Change = dict[str, Any] | Callable[[dict[str, Any]], dict[str, Any]]


@attrs.frozen
class Deviation:
    """One documented departure from the official schema.

    Attributes:
        where: JSON pointer of a schema node in the spec (`~1` is a `/`), or of the subtree
            searched when `prop` or `enum` is given.
        change: keys set on the node(s) (a key with value None is removed), or a function
            from the old node to the new one.
        reason: why, and what the spec says elsewhere.
        prop: apply to every property of this name under `where`.
        enum: apply to every schema under `where` whose `enum` is exactly these values.
    """

    where: str
    change: Change
    reason: str
    prop: str | None = None
    enum: frozenset[Any] | None = None


def _array_of(node: dict[str, Any]) -> dict[str, Any]:
    items = {k: v for k, v in node.items() if k not in ("description", "example")}
    items["properties"] = {k: v for k, v in items.get("properties", {}).items() if k != "paging"}
    return {"type": "array", "items": items}


_LIVESTREAM_STATUSES = frozenset({"LIVE", "IDLE", "ERRORED", "INVOKED"})
_DAYWISE_ITEM = {
    "type": "object",
    "properties": {
        "date": {"type": "string", "nullable": True},
        "count": {"type": "integer"},
        "total_ingest_seconds": {"type": "integer"},
        "total_viewer_seconds": {"type": "integer"},
    },
}


def _path(template: str, method: str = "get", status: str = "200") -> str:
    escaped = template.replace("~", "~0").replace("/", "~1")
    return f"/paths/{escaped}/{method}/responses/{status}/content/application~1json/schema"


DEVIATIONS: tuple[Deviation, ...] = (
    Deviation(
        "",
        {"enum": ["LIVE", "IDLE", "ERRORED", "INVOKED", "OFFLINE"]},
        "Livestream status: no schema lists OFFLINE, yet the spec's own LivestreamBase "
        "example, the prose docs and the webhook docs use it (ENDPOINTS.md 3.2); a started "
        "livestream is OFFLINE until the encoder connects.",
        enum=_LIVESTREAM_STATUSES,
    ),
    Deviation(
        "/paths",
        {"type": "boolean"},
        "`disabled`: the inline schemas of five livestream operations type it as a string; "
        "LivestreamBase, the other operations and every example use a boolean (ENDPOINTS.md 3.1).",
        prop="disabled",
    ),
    Deviation(
        "",
        {"type": "number"},
        "`ingest_seconds`: typed string, number or integer depending on the operation; the "
        "examples are numbers (ENDPOINTS.md 3.3). The fake answers a whole number of seconds.",
        prop="ingest_seconds",
    ),
    Deviation(
        "",
        {"type": "number"},
        "`viewer_seconds`: same as `ingest_seconds`; the spec's example is a fraction "
        "(116.11599994199997), and so is the fake's (1.5 x ingest_seconds).",
        prop="viewer_seconds",
    ),
    Deviation(
        _path("/livestreams") + "/properties/data",
        _array_of,
        "GET /livestreams: the schema types `data` as one livestream with `paging` inside; "
        "the example (and every other list) is an array with `paging` at the top level "
        "(ENDPOINTS.md 4.5).",
    ),
    Deviation(
        _path("/meetings/{meeting_id}/livestream") + "/properties/data/properties/sessions",
        _array_of,
        "GET /meetings/{id}/livestream: the schema types `data.sessions` as one object; the "
        "example has an array of sessions (ENDPOINTS.md 4.4).",
    ),
    Deviation(
        _path("/analytics/livestreams/daywise") + "/properties/data",
        {"type": "array", "items": _DAYWISE_ITEM, "properties": None},
        "Daywise analytics: the schema types `data` as one object of strings; the example is "
        "an array of days with numbers, as RealtimeKit's corrected schema says (ENDPOINTS.md "
        "4.13).",
    ),
)
"""Every departure from the official schemas (applied in order)."""


WRITE_ONLY: dict[str, tuple[str, ...]] = {
    "storage_config": ("access_key", "secret", "password", "private_key"),
}
"""Keys the fake never returns, per enclosing object. `access_key` is `writeOnly` in the spec;
`secret` is described there as "only writeable by clients, not readable"; the SFTP
`password` and `private_key` are the same kind of secret (the spec does not say)."""


def _nodes(spec: dict[str, Any], deviation: Deviation) -> list[dict[str, Any]]:
    from dyte_async.testing._spec import pointer

    root = pointer(spec, deviation.where)
    if deviation.prop is None and deviation.enum is None:
        return [root] if isinstance(root, dict) else []
    found: list[dict[str, Any]] = []
    stack: list[Any] = [root]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(node)
            continue
        if not isinstance(node, dict):
            continue
        if deviation.prop is not None:
            properties = node.get("properties")
            if isinstance(properties, dict) and isinstance(properties.get(deviation.prop), dict):
                found.append(properties[deviation.prop])
        enum = node.get("enum")
        if deviation.enum is not None and isinstance(enum, list) and set(enum) == deviation.enum:
            found.append(node)
        stack.extend(node.values())
    return found


def apply_deviations(spec: dict[str, Any]) -> None:
    """Apply `DEVIATIONS` to `spec` in place.

    Raises:
        KeyError: a deviation finds no node (the list no longer fits the spec).
    """
    for deviation in DEVIATIONS:
        nodes = _nodes(spec, deviation)
        if not nodes:
            raise KeyError(f"deviation matches nothing: {deviation.reason[:60]}")
        for node in nodes:
            change = deviation.change
            if callable(change):
                replacement = change(node)
                node.clear()
                node.update(replacement)
                continue
            for key, value in change.items():
                if value is None:
                    node.pop(key, None)
                else:
                    node[key] = value
