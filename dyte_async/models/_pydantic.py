"""Results as pydantic (and so FastAPI) types: serialized by `to_dict()`, described in JSON schema.

A handler annotated `-> Livestream` (or `response_model=Meeting`) answers the result's
`to_dict()`, secrets redacted, and its OpenAPI schema lists the result's fields. pydantic
is imported only when pydantic asks a result class for its schema: nothing here runs
otherwise. Nothing else of ours is imported.
"""

from __future__ import annotations

import datetime
import enum
import types
import typing
from collections.abc import Mapping
from typing import Any, Union

import attrs

from dyte_async.models._serialize import SECRET

__all__ = ["core_schema_of", "json_schema_of"]

_SCALARS: dict[type[Any], dict[str, Any]] = {
    str: {"type": "string"},
    bool: {"type": "boolean"},
    int: {"type": "integer"},
    float: {"type": "number"},
    datetime.datetime: {"type": "string", "format": "date-time"},
    datetime.date: {"type": "string", "format": "date"},
    type(None): {"type": "null"},
}


def core_schema_of(cls: type[Any]) -> Any:
    """The pydantic-core schema of a result class: an instance of it, serialized by
    `to_dict()` (secrets redacted)."""
    from pydantic_core import core_schema

    def serialize(value: Any) -> Any:
        return value.to_dict()

    return core_schema.is_instance_schema(
        cls,
        serialization=core_schema.plain_serializer_function_ser_schema(
            serialize, return_schema=core_schema.dict_schema()
        ),
    )


def json_schema_of(cls: type[Any]) -> dict[str, Any]:
    """The JSON schema of what `cls(...).to_dict()` gives: an object of its fields.

    Args:
        cls: an attrs result class.
    """
    return _object_schema(cls, seen=frozenset())


def _object_schema(cls: type[Any], seen: frozenset[type[Any]]) -> dict[str, Any]:
    if cls in seen or not attrs.has(cls) or hasattr(cls, "raw"):
        # Recursion (breakout rooms), or a preset object whose JSON is open-ended.
        return {"type": "object", "title": cls.__name__}
    hints = typing.get_type_hints(cls)
    inner = seen | {cls}
    properties: dict[str, Any] = {}
    for field in attrs.fields(cls):
        schema = _schema(hints.get(field.name, Any), inner)
        if field.metadata.get(SECRET):
            schema = {**schema, "description": "a secret: `<redacted>` unless asked"}
        properties[field.name] = schema
    return {
        "type": "object",
        "title": cls.__name__,
        "properties": properties,
        "required": [f.name for f in attrs.fields(cls)],
    }


def _schema(tp: Any, seen: frozenset[type[Any]]) -> dict[str, Any]:
    origin = typing.get_origin(tp)
    if origin in (Union, types.UnionType):
        return {"anyOf": [_schema(arg, seen) for arg in typing.get_args(tp)]}
    if origin in (tuple, list):
        args = [a for a in typing.get_args(tp) if a is not Ellipsis]
        return {"type": "array", "items": _schema(args[0], seen) if args else {}}
    if origin is not None and isinstance(origin, type) and issubclass(origin, Mapping):
        return {"type": "object"}
    if isinstance(tp, type):
        if issubclass(tp, enum.Enum):
            known = [member.value for member in tp]
            return {"type": "string", "examples": known}
        if tp in _SCALARS:
            return dict(_SCALARS[tp])
        if attrs.has(tp):
            return _object_schema(tp, seen)
        if issubclass(tp, Mapping):
            return {"type": "object"}
    return {}
