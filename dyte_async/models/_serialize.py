"""`to_dict()` / `to_json()` for every result: plain JSON data, secrets redacted unless asked.

A result becomes a dict of its attribute names (the API's own names) with JSON values only:
datetimes as ISO 8601 strings with their offset, enums as their value (an unknown status
too), tuples as lists, nested results as dicts. So a result can be returned from a web
handler as it is (`return ls.to_dict()` in FastAPI or Starlette) or logged as JSON.

Secrets are the fields marked `SECRET` (a livestream's `stream_key`, a participant's
`token`) and, inside free-form objects the API sends (`recording_config`, `meta`, ...),
the values under a secret-looking key (`secret`, `password`, `access_key`, `private_key`,
`api_key`, `token`, ...): they become ``"<redacted>"`` unless `include_secrets=True`. A
secret that is absent stays None.

Nothing else of ours is imported here (models are a leaf of the import graph).
"""

from __future__ import annotations

import enum
import json
import math
import re
from collections.abc import Mapping
from datetime import date, datetime, time
from typing import Any, Final

import attrs

__all__ = ["REDACTED", "SECRET", "Serializable", "is_secret_key", "to_plain"]

#: What a secret becomes in `to_dict()` / `to_json()` unless `include_secrets=True`.
REDACTED: Final = "<redacted>"

#: Field metadata key: the field holds a secret (redacted by `to_dict()` unless asked).
SECRET = "dyte_async.secret"

# Keys of free-form objects whose values are secrets. `token` only as a whole word or a
# suffix (`token`, `refresh_token`), so `design_tokens` of a preset's theme is kept.
_SECRET_KEY: Final = re.compile(
    r"(?i)(stream[_-]?key|api[_-]?key|access[_-]?key|private[_-]?key|secret|password|passwd"
    r"|authorization|credential|(^|[_-])token$)"
)
_MAX_DEPTH: Final = 64


def is_secret_key(name: str) -> bool:
    """Whether a key of a free-form object names a secret (`secret`, `access_key`, ...)."""
    return bool(_SECRET_KEY.search(name))


def to_plain(value: Any, *, include_secrets: bool = False, depth: int = 0) -> Any:
    """`value` as plain JSON data (dicts, lists, str, int, float, bool, None).

    Args:
        value: a result, a container of results, or plain data.
        include_secrets: keep secrets as they are instead of ``"<redacted>"``.
        depth: the current nesting (past 64 levels the value becomes ``"<redacted>"``).

    Returns:
        New objects, safe to change; ready for `json.dumps`.
    """
    if depth > _MAX_DEPTH:
        return REDACTED
    if isinstance(value, Serializable):
        return value.to_dict(include_secrets=include_secrets)
    if isinstance(value, enum.Enum):
        return to_plain(value.value, include_secrets=include_secrets, depth=depth + 1)
    if isinstance(value, float) and not math.isfinite(value):
        return None  # NaN and infinities are not JSON (a strict encoder refuses them)
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {
            str(key): (
                REDACTED
                if not include_secrets and is_secret_key(str(key)) and item not in (None, "")
                else to_plain(item, include_secrets=include_secrets, depth=depth + 1)
            )
            for key, item in value.items()
        }
    if isinstance(value, (list, tuple, set, frozenset)):
        return [to_plain(item, include_secrets=include_secrets, depth=depth + 1) for item in value]
    if attrs.has(type(value)):
        return _fields_of(value, include_secrets=include_secrets, depth=depth)
    return str(value)


def _fields_of(obj: Any, *, include_secrets: bool, depth: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for field in attrs.fields(type(obj)):
        value = getattr(obj, field.name)
        if field.metadata.get(SECRET) and not include_secrets and value not in (None, ""):
            out[field.name] = REDACTED
        else:
            out[field.name] = to_plain(value, include_secrets=include_secrets, depth=depth + 1)
    return out


class Serializable:
    """What every result has: `to_dict()` and `to_json()` (secrets redacted unless asked)."""

    __slots__ = ()

    def to_dict(self, *, include_secrets: bool = False) -> dict[str, Any]:
        """This result as plain JSON data: a dict of its attributes.

        Datetimes become ISO 8601 strings, enums their value, nested results dicts and
        tuples lists.

        Args:
            include_secrets: keep stream keys, join tokens and the secrets of free-form
                objects as they are (default: each becomes ``"<redacted>"``).

        Returns:
            A new dict, safe to change, ready for `json.dumps` or a web framework.
        """
        return _fields_of(self, include_secrets=include_secrets, depth=0)

    def to_json(self, *, include_secrets: bool = False, indent: int | None = None) -> str:
        """This result as a JSON string (`json.dumps` of `to_dict()`).

        Args:
            include_secrets: keep secrets as they are (default: redacted).
            indent: passed to `json.dumps` (None: one line).

        Returns:
            The JSON text.
        """
        return json.dumps(self.to_dict(include_secrets=include_secrets), indent=indent)

    # pydantic (FastAPI's `response_model`, a handler's return annotation) asks for these.

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: Any) -> Any:
        """pydantic's schema: an instance of this class, serialized by `to_dict()`."""
        from dyte_async.models._pydantic import core_schema_of

        return core_schema_of(cls)

    @classmethod
    def __get_pydantic_json_schema__(cls, schema: Any, handler: Any) -> dict[str, Any]:
        """The JSON schema of `to_dict()`: an object of this class's fields."""
        from dyte_async.models._pydantic import json_schema_of

        return json_schema_of(cls)
