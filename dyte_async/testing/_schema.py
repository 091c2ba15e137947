"""Checking request bodies against the spec's schemas, with the real API's (Joi) messages.

A small validator for the OpenAPI 3.0 keywords the Dyte spec uses in request bodies:
`$ref`, `type` (+ `nullable`), `enum`, `properties`, `required`, `additionalProperties`,
`items`, `allOf`, `oneOf`, `minimum`, `maximum`, `pattern` and the formats `uri`, `uuid`
and `date-time`. Its first complaint becomes a 400 such as
`BAD_REQUEST: "recording_config.video_config.codec" must be one of [H264, VP8]`.

Unknown keys: the real API (Joi) refuses them, so below the top level an object accepts
only the properties its schema lists (unless `additionalProperties` says otherwise). The
top level is left to each endpoint, which knows the fields the spec forgot.
"""

from __future__ import annotations

import math
import re
import uuid
from collections.abc import Iterator
from typing import Any

from dyte_async.testing._params import parse_time
from dyte_async.testing._spec import resolve

__all__ = ["first_problem"]

_MAX_ITEMS_CHECKED = 1000
_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:[^\s]*")
_TYPE_NAMES = {
    "string": "a string",
    "number": "a number",
    "integer": "an integer",
    "boolean": "a boolean",
    "array": "an array",
    "object": "of type object",
}


def _label(path: tuple[str | int, ...]) -> str:
    if not path:
        return "value"
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else part
    return text


def _number(value: Any) -> str:
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


def _type_ok(value: Any, kind: str) -> bool:
    if kind == "string":
        return isinstance(value, str)
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "object":
        return isinstance(value, dict)
    if kind == "array":
        return isinstance(value, list)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    if isinstance(value, float) and not math.isfinite(value):
        return False
    return kind == "number" or float(value).is_integer()


def _format_problem(value: str, fmt: str, label: str) -> str | None:
    if fmt == "uri" and not _URI.fullmatch(value):
        return f'"{label}" must be a valid uri'
    if fmt == "uuid":
        try:
            uuid.UUID(value)
        except ValueError:
            return f'"{label}" must be a valid GUID'
    if fmt == "date-time":
        try:
            parse_time(value)
        except (ValueError, OverflowError):
            return f'"{label}" must be in ISO 8601 date format'
    return None


def _known(document: dict[str, Any], schema: dict[str, Any]) -> tuple[set[str], Any]:
    """The property names `schema` (and its `allOf` parts) lists, and `additionalProperties`."""
    names = set(schema.get("properties", {}))
    extra = schema.get("additionalProperties")
    for part in schema.get("allOf", ()):
        part_names, part_extra = _known(document, resolve(document, part))
        names |= part_names
        extra = extra if extra is not None else part_extra
    return names, extra


def _checks(
    document: dict[str, Any],
    value: Any,
    schema: Any,
    path: tuple[str | int, ...],
    top: bool,
    open_: bool,
) -> Iterator[str]:
    schema = resolve(document, schema)
    if not isinstance(schema, dict):
        return
    label = _label(path)
    enum = schema.get("enum")
    kind = schema.get("type")
    if value is None:
        if schema.get("nullable") or (enum is not None and None in enum):
            return
        if kind is not None:
            yield f'"{label}" must be {_TYPE_NAMES.get(kind, kind)}'
            return
    if kind is not None and not _type_ok(value, kind):
        yield f'"{label}" must be {_TYPE_NAMES.get(kind, kind)}'
        return
    if enum is not None and value not in enum:
        shown = ", ".join("null" if v is None else str(v) for v in enum)
        yield f'"{label}" must be one of [{shown}]'
        return
    for part in schema.get("allOf", ()):
        yield from _checks(document, value, part, path, top, open_)
    alternatives = schema.get("oneOf")
    if alternatives:
        matches = sum(
            next(_checks(document, value, option, path, False, open_), None) is None
            for option in alternatives
        )
        if matches == 0:
            yield f'"{label}" does not match any of the allowed types'
            return
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            yield f'"{label}" must be greater than or equal to {_number(schema["minimum"])}'
        if "maximum" in schema and value > schema["maximum"]:
            yield f'"{label}" must be less than or equal to {_number(schema["maximum"])}'
    if isinstance(value, str):
        pattern = schema.get("pattern")
        if pattern is not None and not re.search(pattern, value):
            yield f'"{label}" with value "{value}" fails to match the required pattern: /{pattern}/'
        fmt = schema.get("format")
        problem = None if fmt is None else _format_problem(value, fmt, label)
        if problem is not None:
            yield problem
    if isinstance(value, list) and "items" in schema:
        for index, item in enumerate(value[:_MAX_ITEMS_CHECKED]):
            yield from _checks(document, item, schema["items"], (*path, index), False, open_)
    if isinstance(value, dict):
        yield from _object_checks(document, value, schema, path, top, open_)


def _object_checks(
    document: dict[str, Any],
    value: dict[str, Any],
    schema: dict[str, Any],
    path: tuple[str | int, ...],
    top: bool,
    open_: bool,
) -> Iterator[str]:
    for name in schema.get("required", ()):
        if name not in value:
            yield f'"{_label((*path, name))}" is required'
    properties = schema.get("properties", {})
    names, extra = _known(document, schema)
    for key, item in value.items():
        if key in properties:
            yield from _checks(document, item, properties[key], (*path, key), False, open_)
        elif key in names:
            continue  # checked through allOf
        elif isinstance(extra, dict):
            yield from _checks(document, item, extra, (*path, key), False, open_)
        elif not (top or open_) and extra is not True and (properties or names):
            yield f'"{_label((*path, key))}" is not allowed'


def first_problem(
    document: dict[str, Any],
    value: Any,
    schema: dict[str, Any],
    *,
    open_: bool = False,
    strict_top: bool = False,
) -> str | None:
    """Return the first way `value` breaks `schema`, as the API would word it, or None.

    Args:
        document: the spec `schema` comes from (for `$ref`).
        value: the parsed JSON body.
        schema: its schema.
        open_: accept unknown keys at every level (bodies stored as sent, e.g. presets).
        strict_top: refuse unknown keys at the top level too.

    Returns:
        A message such as `"title" must be a string`, or None when `value` is valid.
    """
    return next(_checks(document, value, schema, (), top=not strict_top, open_=open_), None)
