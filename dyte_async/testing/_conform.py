"""Answers as the spec allows them: no `null` where it says a non-nullable field, no secrets.

The fake's records hold None for what is not set yet (a meeting without a title, a session
not ended, a participant without a picture). The spec types most such fields as plain,
non-nullable strings, which no client generated from it accepts as `null`; it never lists
them as required. So every successful JSON answer goes through `conform` once, with the
response schema of its route and status (in the patched spec): a null field the schema
says is not nullable (and not required) is left out, and so is every `writeOnly` field
and every key `_deviations.WRITE_ONLY` names.
"""

from __future__ import annotations

import json
from typing import Any

from dyte_async.testing._deviations import WRITE_ONLY
from dyte_async.testing._spec import patched_spec, resolve, response_schema
from dyte_async.testing._wire import WireResponse

__all__ = ["conform", "conform_response", "strip_write_only"]


def strip_write_only(value: Any) -> Any:
    """Return `value` without the keys `WRITE_ONLY` lists under their enclosing keys."""
    if isinstance(value, list):
        return [strip_write_only(item) for item in value]
    if not isinstance(value, dict):
        return value
    cleaned: dict[str, Any] = {}
    for key, item in value.items():
        item = strip_write_only(item)
        secret = WRITE_ONLY.get(key)
        if secret is not None and isinstance(item, dict):
            item = {k: v for k, v in item.items() if k not in secret}
        cleaned[key] = item
    return cleaned


def _properties(
    document: dict[str, Any], schema: dict[str, Any]
) -> tuple[dict[str, list[Any]], set[str]]:
    """Every property's schemas (one per `allOf` branch naming it) and the required names."""
    properties: dict[str, list[Any]] = {
        key: [sub] for key, sub in schema.get("properties", {}).items()
    }
    required = set(schema.get("required", ()))
    for part in schema.get("allOf", ()):
        part = resolve(document, part)
        if isinstance(part, dict):
            more, more_required = _properties(document, part)
            for key, subs in more.items():
                properties.setdefault(key, []).extend(subs)
            required |= more_required
    return properties, required


def _nullable(document: dict[str, Any], schema: Any) -> bool:
    schema = resolve(document, schema)
    if not isinstance(schema, dict):
        return True
    if schema.get("nullable") or None in schema.get("enum", ()):
        return True
    return "type" not in schema and "allOf" not in schema


def _write_only(document: dict[str, Any], schema: Any) -> bool:
    resolved = resolve(document, schema)
    return isinstance(resolved, dict) and bool(resolved.get("writeOnly"))


def conform(document: dict[str, Any], value: Any, schema: Any, depth: int = 0) -> Any:
    """Return `value` without the nulls and write-only fields `schema` does not allow.

    Args:
        document: the spec (for `$ref`).
        value: a parsed JSON answer (or part of one).
        schema: its schema.
        depth: how deep this call is (the walk stops at 64 levels).

    Returns:
        A copy where something changed, else `value` itself.
    """
    schema = resolve(document, schema)
    if depth > 64 or not isinstance(schema, dict):
        return value
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        return [conform(document, item, schema["items"], depth + 1) for item in value]
    if not isinstance(value, dict):
        return value
    properties, required = _properties(document, schema)
    if not properties:
        return value
    kept: dict[str, Any] = {}
    for key, item in value.items():
        subs = properties.get(key)
        if subs is None:
            kept[key] = item
            continue
        if any(_write_only(document, sub) for sub in subs):
            continue
        if item is None:
            if key in required or all(_nullable(document, sub) for sub in subs):
                kept[key] = item
            continue
        for sub in subs:
            item = conform(document, item, sub, depth + 1)
        kept[key] = item
    return kept


def conform_response(route: str, response: WireResponse) -> WireResponse:
    """Return `response` conformed to `route`'s schema for its status (2xx JSON only)."""
    if not 200 <= response.status < 300 or not response.body:
        return response
    schema = response_schema(route, response.status)
    try:
        parsed = json.loads(response.body)
    except ValueError:
        return response
    cleaned = strip_write_only(parsed)
    if schema is not None:
        cleaned = conform(patched_spec(), cleaned, schema)
    if cleaned == parsed:
        return response
    body = json.dumps(cleaned, separators=(",", ":"), ensure_ascii=False).encode()
    return WireResponse(status=response.status, headers=response.headers, body=body)
