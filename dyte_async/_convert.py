"""The one cattrs converter, configured once here, and the helpers for the spec's odd shapes.

Every structure hook the package needs is registered by `configure_converter` (the cattrs
`preconf` pattern), so decoding never depends on which module was imported first.

The spec's schemas and its own examples disagree (ENDPOINTS.md 4.4-4.10): `disabled` is a
bool or a string, `ingest_seconds` a number or a string, list bodies put `paging` at the top
or inside `data`, details come as `{livestream, sessions: [...]}`, `{livestream, session: {}}`
or flat. The functions here turn every shape we know into one; anything else is a
`ResponseDecodeError`, never a bare `KeyError` or cattrs error.

Strict and tolerant fields (the table is in `dyte_async.models`): every field of a model is
decoded through `_field_hook`. A strict field that does not fit fails the call with a
`ResponseDecodeError` naming the class, the field and the JSON type it got, never the value
(it may be a stream key or a token). A tolerant field (metadata `TOLERANT`, and every
optional value of a preset's `JsonObject`, whose `raw` keeps the server's value) that
does not fit takes its default and logs one DEBUG line on ``dyte_async.decode`` (class,
field, JSON type; never the value).

Timestamps: ISO 8601 with any number of fraction digits (cut or padded to microseconds),
``Z`` or any ``+HH:MM``/``+HHMM``/``+HH`` offset, a date alone, or Unix seconds; read by
`parse_datetime` the same way on every Python (3.10's `fromisoformat` takes only 0, 3 or 6
fraction digits). A time without an offset is UTC.
"""

from __future__ import annotations

import copy
import functools
import logging
import types
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from typing import Any, Final, TypeVar, Union, get_args, get_origin

import attrs
import cattrs
from cattrs.gen import make_dict_structure_fn, override

from dyte_async._redact import stripped, without_values
from dyte_async._timestamps import Unfit as _Unfit
from dyte_async._timestamps import parse_datetime
from dyte_async.errors import ResponseDecodeError
from dyte_async.models import (
    ActiveSession,
    ActiveSessionStatus,
    JsonObject,
    Livestream,
    LivestreamDetails,
    LivestreamSession,
)
from dyte_async.models._base import TOLERANT, _OpenStrEnum

__all__ = [
    "configure_converter",
    "converter",
    "details_from",
    "list_items",
    "livestream_details_items",
    "make_converter",
    "paging_from",
    "parse_datetime",
    "session_items",
    "structure",
]

T = TypeVar("T")

logger = logging.getLogger("dyte_async.decode")


def _datetime(value: Any, _: Any) -> datetime:
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            return datetime.fromtimestamp(value, tz=timezone.utc)
        except (OverflowError, OSError, ValueError):
            raise _Unfit("a Unix time out of range") from None
    elif isinstance(value, str):
        return _parse_datetime(value)
    else:
        raise TypeError(f"not a date-time: {type(value).__name__}")
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


#: `parse_datetime`, remembered: a poller reads the same few timestamps again and again
#: (datetimes are immutable, so sharing them is safe; errors are not remembered).
_parse_datetime = functools.lru_cache(maxsize=4096)(parse_datetime)


def _number(value: Any, _: Any) -> float:
    if isinstance(value, bool):
        raise TypeError("a bool is not a number")
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            raise _Unfit("could not convert string to float") from None
    raise TypeError(f"not a number: {type(value).__name__}")


def _integer(value: Any, _: Any) -> int:
    number = _number(value, None)
    try:
        whole = int(number)
    except (OverflowError, ValueError):
        whole = None
    if whole is None or number != whole:
        raise _Unfit(f"not an integer: {type(value).__name__}")
    return whole


_TRUE = frozenset({"true", "1", "yes"})
_FALSE = frozenset({"false", "0", "no", ""})


def _boolean(value: Any, _: Any) -> bool:
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return bool(value)
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
    raise _Unfit(f"not a boolean: {type(value).__name__}")


def _string(value: Any, _: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    raise TypeError(f"not a string: {type(value).__name__}")


def _open_enum(value: Any, cls: type[_OpenStrEnum]) -> _OpenStrEnum:
    """Any open string enum (statuses, a preset's kinds): a value it does not know is kept."""
    if isinstance(value, str):
        return cls(value)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return cls(str(value))
    raise TypeError(f"not a {cls.__name__}: {type(value).__name__}")


def _session_status(value: Any, _: Any) -> ActiveSessionStatus:
    if not isinstance(value, str):
        raise TypeError(f"not a session status: {type(value).__name__}")
    return ActiveSessionStatus(value)


def _json_object(value: Any, _: Any) -> dict[str, Any]:
    """`dict[str, Any]`: a JSON object, copied into a plain dict."""
    return dict(_mapping(value))


def configure_converter(conv: cattrs.Converter) -> None:
    """Register every hook the package decodes with on `conv`.

    Args:
        conv: a converter made with `forbid_extra_keys=False` (unknown keys are ignored).
    """
    conv.register_structure_hook(datetime, _datetime)
    conv.register_structure_hook(float, _number)
    conv.register_structure_hook(int, _integer)
    conv.register_structure_hook(bool, _boolean)
    conv.register_structure_hook(str, _string)
    # An open enum is a str: without a hook of its own the `str` hook above would win.
    conv.register_structure_hook(_OpenStrEnum, _open_enum)
    conv.register_structure_hook(ActiveSessionStatus, _session_status)
    conv.register_structure_hook(ActiveSession, _active_session_hook(conv))
    conv.register_structure_hook_factory(_is_plain_model, lambda tp: _model_hook(conv, tp))
    conv.register_structure_hook_func(_is_json_object, _json_object)
    conv.register_structure_hook_factory(
        _is_json_object_class, lambda tp: _json_object_hook(conv, tp)
    )
    conv.register_structure_hook_factory(_is_optional, lambda tp: _optional_hook(conv, tp))


def _is_optional(tp: Any) -> bool:
    """`X | None` (or `Optional[X]`) for one type `X`."""
    if get_origin(tp) is not Union and not isinstance(tp, types.UnionType):
        return False
    args = get_args(tp)
    return len(args) == 2 and type(None) in args


def _optional_hook(conv: cattrs.Converter, tp: Any) -> Callable[[Any, Any], Any]:
    """`X | None`: None, or `X`'s hook, looked up once (cattrs dispatches per value)."""
    inner = next(arg for arg in get_args(tp) if arg is not type(None))
    hook = _hook_for(conv, inner)

    def structure_optional(value: Any, _: Any) -> Any:
        return None if value is None else hook(value, inner)

    return structure_optional


def _hook_for(conv: cattrs.Converter, tp: Any) -> Callable[[Any, Any], Any]:
    """`tp`'s hook (cattrs >= 24.1), else `conv.structure`, which finds it per value."""
    get_hook = getattr(conv, "get_structure_hook", None)  # pragma: no mutate
    return conv.structure if get_hook is None else get_hook(tp)  # pragma: no mutate


# -- one hook per model field: strict or tolerant ----------------------------------------------


class _FieldError(ValueError):
    """A strict field that does not fit; the message names the field and types only."""


def _json_type(value: Any) -> str:
    """The JSON name of `value`'s type (what a decode error may say about a server value)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, Mapping):
        return "object"
    if isinstance(value, (list, tuple)):
        return "array"
    return type(value).__name__


def _type_name(tp: Any) -> str:
    if _is_optional(tp):
        tp = next(arg for arg in get_args(tp) if arg is not type(None))
    return getattr(tp, "__name__", None) or str(tp)


def _is_tolerant(cls: type[Any], field: attrs.Attribute[Any]) -> bool:
    """Informational: marked `TOLERANT`, or an optional value of a preset object (not a
    nested object: one that is not an object at all is the wrong shape)."""
    if field.metadata.get(TOLERANT):
        return True
    return (
        issubclass(cls, JsonObject)
        and field.default is not attrs.NOTHING
        and not _is_json_object_class(field.type)
    )


def _default_of(field: attrs.Attribute[Any]) -> Any:
    default: Any = field.default
    if isinstance(default, attrs.Factory):  # type: ignore[arg-type]
        return default.factory()
    return default


def _safe_reason(exc: BaseException) -> str | None:
    """The message of one of our own hooks' errors (they never quote a value), else None."""
    if isinstance(exc, (_Unfit, _FieldError, ResponseDecodeError)):
        return str(exc)
    if isinstance(exc, TypeError) and str(exc).startswith("not a"):
        return str(exc)
    return None


#: The JSON value types the hooks of `configure_converter` return unchanged, per field
#: type (`_string` keeps a str, `_number` an int or float, `_integer` an int, `_boolean`
#: a bool; `X | None` keeps None): `_field_hook` returns them without a call.
_KEPT_AS_IS: Final[dict[Any, frozenset[type]]] = {
    str: frozenset({str}),
    float: frozenset({int, float}),
    int: frozenset({int}),
    bool: frozenset({bool}),
    str | None: frozenset({str, type(None)}),
    float | None: frozenset({int, float, type(None)}),
    int | None: frozenset({int, type(None)}),
    bool | None: frozenset({bool, type(None)}),
    datetime | None: frozenset({type(None)}),
}


def _field_hook(
    conv: cattrs.Converter, cls: type[Any], field: attrs.Attribute[Any]
) -> Callable[[Any, Any], Any]:
    """The hook of one field: the type's own hook, and what to do when it fails."""
    where = f"{cls.__name__}.{field.name}"
    tp = field.type
    keep_going = _is_tolerant(cls, field)
    hooks: list[Callable[[Any, Any], Any]] = []
    # Values the type's hook would return unchanged (a str for `str | None`, ...): kept
    # as they are without calling it. The hooks above return these types unchanged.
    as_is = _KEPT_AS_IS.get(tp, ())

    def structure_field(value: Any, _: Any) -> Any:
        if type(value) in as_is:
            return value
        if not hooks:  # looked up at first use: the field's type may be the class itself
            hooks.append(_hook_for(conv, tp))
        try:
            return hooks[0](value, tp)
        except Exception as exc:  # any failure of one field is handled below
            reason = _safe_reason(exc)
        # Raised outside the `except` block, so no exception quoting the value is chained.
        if not keep_going:
            detail = reason or f"expected {_type_name(tp)}, got {_json_type(value)}"
            raise _FieldError(f"{where}: {detail}")
        logger.debug(
            "%s: a JSON %s does not read as %s; left as its default",
            where,
            _json_type(value),
            _type_name(tp),
        )
        return _default_of(field)

    return structure_field


def _field_overrides(conv: cattrs.Converter, cls: type[Any]) -> dict[str, Any]:
    attrs.resolve_types(cls)
    return {
        field.name: override(struct_hook=_field_hook(conv, cls, field))
        for field in attrs.fields(cls)
        if field.name != "raw" or not issubclass(cls, JsonObject)
    }


def _is_plain_model(tp: Any) -> bool:
    """A model of ours other than those with a hook of their own (sessions, preset objects)."""
    return (
        isinstance(tp, type)
        and attrs.has(tp)
        and tp.__module__.startswith("dyte_async.models")
        and not issubclass(tp, JsonObject)
        and tp is not ActiveSession
    )


def _model_hook(conv: cattrs.Converter, cls: type[Any]) -> Callable[[Any, Any], Any]:
    return make_dict_structure_fn(cls, conv, **_field_overrides(conv, cls))


def _is_json_object(tp: Any) -> bool:
    return bool(tp == dict[str, Any])


def _is_json_object_class(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, JsonObject)


def _json_object_hook(conv: cattrs.Converter, cls: type[JsonObject]) -> Callable[[Any, Any], Any]:
    """A preset's object: the typed fields of `cls` as usual, and `raw` the whole JSON object."""
    typed = make_dict_structure_fn(
        cls, conv, raw=override(omit=True), **_field_overrides(conv, cls)
    )

    def structure_json_object(value: Any, _: Any) -> JsonObject:
        if value is None:
            return cls()
        if not isinstance(value, Mapping):
            raise ResponseDecodeError(
                f"expected a JSON object for {cls.__name__}, got {type(value).__name__}"
            )
        return attrs.evolve(typed(value, cls), raw=copy.deepcopy(dict(value)))

    return structure_json_object


# Placeholders the API sends for "no time" (the spec's own example has `ended_at: 'null'`).
_NO_TIME: Final = frozenset({"", "null", "none"})
_SESSION_TIMES: Final = ("started_at", "ended_at", "created_at", "updated_at")


def _active_session_hook(conv: cattrs.Converter) -> Callable[[Any, Any], ActiveSession]:
    """`ActiveSession`, reading `'null'` times as None and a null `breakout_rooms` as none."""
    # Made at first use, once this hook is registered, so breakout rooms decode through it too.
    generated: list[Callable[[Mapping[str, Any], Any], ActiveSession]] = []

    def structure_active_session(value: Any, cls: Any) -> ActiveSession:
        if not isinstance(value, Mapping):
            raise ResponseDecodeError(
                f"expected a JSON object for ActiveSession, got {type(value).__name__}"
            )
        if not generated:
            generated.append(
                make_dict_structure_fn(ActiveSession, conv, **_field_overrides(conv, ActiveSession))
            )
        data = dict(value)
        for key in _SESSION_TIMES:
            raw = data.get(key)
            if isinstance(raw, str) and raw.strip().lower() in _NO_TIME:
                data[key] = None
        if data.get("breakout_rooms") is None:
            data.pop("breakout_rooms", None)
        return generated[0](data, cls)

    return structure_active_session


def make_converter() -> cattrs.Converter:
    """A converter configured for this API (unknown keys ignored, hooks above)."""
    conv = cattrs.Converter(detailed_validation=False, forbid_extra_keys=False)
    configure_converter(conv)
    return conv


converter = make_converter()


#: The models decoded on every poll and most calls: their decoders are made by `warm`.
_HOT_MODELS: Final = (Livestream, LivestreamSession, ActiveSession)


def warm() -> None:
    """Make the decoders of the hot models now (when a client opens), not at first use:
    each model's generated function and the hook of each of its fields' types."""
    for cls in _HOT_MODELS:
        _hook_for(converter, cls)
        for field in attrs.fields(attrs.resolve_types(cls)):
            _hook_for(converter, field.type)


def structure(data: Any, cls: type[T]) -> T:
    """Decode `data` as `cls`, or raise `ResponseDecodeError` saying what did not fit."""
    if not isinstance(data, Mapping):
        raise ResponseDecodeError(
            f"expected a JSON object for {cls.__name__}, got {type(data).__name__}"
        )
    try:
        return converter.structure(data, cls)
    except Exception as exc:  # cattrs raises many kinds; none may reach the caller
        failed = exc
    # Raised outside the `except`, chained to a stand-in without the answer's values (one
    # may be a stream key or a token): see `_redact.stripped`.
    error = ResponseDecodeError(f"cannot decode {cls.__name__}: {_describe(failed)}")
    raise error from stripped(failed)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, _FieldError):
        return str(exc)
    if isinstance(exc, KeyError):
        return f"missing field {exc.args[0]!r}" if exc.args else "missing field"
    return f"{type(exc).__name__}: {without_values(str(exc))}"


def _mapping(value: Any) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ResponseDecodeError(f"expected a JSON object, got {type(value).__name__}")
    return value


def paging_from(body: Mapping[str, Any]) -> Mapping[str, Any]:
    """The `paging` object, wherever the answer put it (top level or inside `data`)."""
    paging = body.get("paging")
    if paging is None:
        data = body.get("data")
        if isinstance(data, Mapping):
            paging = data.get("paging")
    return paging if isinstance(paging, Mapping) else {}


def list_items(data: Any, *keys: str) -> list[Any]:
    """The items of a list answer: `data` itself, or the list under one of `keys` in it.

    A single object (the schemas' wrong shape for list endpoints) becomes a one-item list;
    an object with no item at all (only `paging`) an empty one.
    """
    if isinstance(data, list):
        return data
    if not isinstance(data, Mapping):
        raise ResponseDecodeError(f"expected a list, got {type(data).__name__}")
    for key in keys:
        if key in data:
            inner = data[key]
            if isinstance(inner, list):
                return inner
            if isinstance(inner, Mapping):
                return [inner]
            if inner is None:
                return []
            raise ResponseDecodeError(f"expected a list under {key!r}")
    rest = {k: v for k, v in data.items() if k != "paging"}
    return [rest] if rest else []


def session_items(data: Any) -> list[Any]:
    """Session objects of a sessions answer (`data.data[]`, `data.sessions[]`, `data[]` or flat)."""
    return list_items(data, "data", "sessions", "session")


def _sessions_of(data: Mapping[str, Any]) -> tuple[LivestreamSession, ...]:
    raw = data.get("sessions", data.get("session"))
    if raw is None:
        return ()
    items = raw if isinstance(raw, list) else [raw]
    return tuple(structure(item, LivestreamSession) for item in items)


def details_from(data: Any) -> LivestreamDetails:
    """A `LivestreamDetails` from `{livestream, sessions[]}`, `{livestream, session}` or flat."""
    body = _mapping(data)
    if "livestream" in body:
        return LivestreamDetails(
            livestream=structure(body["livestream"], Livestream), sessions=_sessions_of(body)
        )
    if "livestreams" in body:
        items = livestream_details_items(body)
        if len(items) != 1:
            raise ResponseDecodeError(f"expected one livestream, got {len(items)}")
        return items[0]
    return LivestreamDetails(livestream=structure(body, Livestream))


def livestream_details_items(data: Any) -> list[LivestreamDetails]:
    """Livestreams with their sessions from a meeting's livestream list, in either shape.

    Example shape: `{livestream: {...}, sessions: [...]}`; schema shape:
    `{livestreams: [...], sessions: {...}}`. Sessions go to the livestream whose id they
    name; with one livestream, all of them do.
    """
    body = _mapping(data)
    if "livestream" in body and "livestreams" not in body:
        return [details_from(body)]
    livestreams = [structure(x, Livestream) for x in list_items(body, "livestreams")]
    sessions = _sessions_of(body)
    if len(livestreams) == 1:
        return [LivestreamDetails(livestream=livestreams[0], sessions=sessions)]
    return [
        LivestreamDetails(
            livestream=ls, sessions=tuple(s for s in sessions if s.livestream_id == ls.id)
        )
        for ls in livestreams
    ]
