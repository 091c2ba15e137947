"""The keyword fields of the write methods, typed from the spec's request schemas, and `NULL`.

`dyte.meetings.create(**fields)` and the other write methods take the API's own field
names as keywords. Each set is a `TypedDict` used with `Unpack`, so a type checker (mypy,
pyright) rejects a misspelt field (`titel=`) or a value of the wrong type
(`title=123`) before anything runs:

=========================================  ==================================================
method                                     fields
=========================================  ==================================================
`meetings.create`, `meetings.replace`      `MeetingFields` (`CreateMeetingBody`)
`meetings.update`                          `MeetingUpdateFields` (`UpdateMeetingBody`)
`participants.update`                      `ParticipantUpdateFields` (`EditParticipantBody`)
`presets.create`, `update`,                `PresetFields` (`Preset`, `UpdatePreset`)
`get_or_create`
=========================================  ==================================================

Sending null
------------

A field passed as None is not sent (it means "not given", so `title=maybe_title` can be
written without an `if`). To send JSON `null` (clear a participant's picture, say), pass
`NULL`: ``await dyte.participants.update(mid, pid, picture=NULL)`` sends
``{"picture": null}``. `NULL` works in every field, at any depth of a nested object
(``ai_config={"summarization": NULL}``); the server decides what it accepts.

The methods annotate `**fields: Unpack[...]` with `typing_extensions.Unpack`, imported for
the type checkers only (annotations are never evaluated at run time), so Python 3.10 needs
no extra package. Nothing else of ours is imported at run time.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final, Literal, TypedDict

if TYPE_CHECKING:
    from dyte_async.models import MeetingStatus, PresetConfig, PresetPermissions

__all__ = [
    "NULL",
    "MeetingFields",
    "MeetingUpdateFields",
    "Null",
    "ParticipantUpdateFields",
    "PreferredRegion",
    "PresetFields",
    "request_fields",
    "to_wire",
]


class Null(enum.Enum):
    """The type of `NULL`, the value that sends JSON `null` (None means "not given")."""

    NULL = "null"

    def __repr__(self) -> str:
        return "NULL"

    __str__ = __repr__

    def __bool__(self) -> bool:
        return False


#: Send JSON `null` for this field (a field passed as None is not sent at all).
NULL: Final = Null.NULL

#: The regions a meeting can be created in (`preferred_region`).
PreferredRegion = Literal["ap-south-1", "ap-southeast-1", "us-east-1", "eu-central-1"]

#: A JSON object the API documents separately (`recording_config`, `ai_config`, `ui`).
JsonMapping = Mapping[str, object]


class MeetingFields(TypedDict, total=False):
    """Fields of `meetings.create` and `meetings.replace` (the spec's `CreateMeetingBody`).

    Every field may be None (not sent) or `NULL` (sent as JSON null).
    """

    title: str | Null | None
    preferred_region: PreferredRegion | Null | None
    record_on_start: bool | Null | None
    live_stream_on_start: bool | Null | None
    recording_config: JsonMapping | Null | None
    ai_config: JsonMapping | Null | None
    persist_chat: bool | Null | None
    summarize_on_end: bool | Null | None


class MeetingUpdateFields(TypedDict, total=False):
    """Fields of `meetings.update` (the spec's `UpdateMeetingBody`: a PATCH).

    `status="INACTIVE"` closes the meeting to new joins. None: not sent; `NULL`: JSON null.
    """

    title: str | Null | None
    preferred_region: PreferredRegion | Null | None
    record_on_start: bool | Null | None
    live_stream_on_start: bool | Null | None
    status: MeetingStatus | Literal["ACTIVE", "INACTIVE"] | Null | None
    persist_chat: bool | Null | None
    summarize_on_end: bool | Null | None
    ai_config: JsonMapping | Null | None


class ParticipantUpdateFields(TypedDict, total=False):
    """Fields of `participants.update` (the spec's `EditParticipantBody`, all nullable).

    None: not sent; `NULL`: JSON null (e.g. `picture=NULL` removes the picture).
    """

    name: str | Null | None
    picture: str | Null | None
    preset_name: str | Null | None


class PresetFields(TypedDict, total=False):
    """Fields of `presets.create`, `update` and `get_or_create` (the spec's `Preset`).

    `config` and `permissions` take the typed objects of `dyte_async.models` or plain
    mappings; objects are merged key by key over the `body` argument. `name` is required
    to create (here or in `body`). None: not sent; `NULL`: JSON null.
    """

    name: str | Null | None
    config: PresetConfig | JsonMapping | Null | None
    permissions: PresetPermissions | JsonMapping | Null | None
    ui: JsonMapping | Null | None


def to_wire(value: Any) -> Any:
    """`value` with every `NULL` (at any depth of mappings and lists) made None (JSON null).

    Args:
        value: a field's value.

    Returns:
        The value, its containers copied only where a `NULL` was replaced.
    """
    if value is NULL:
        return None
    if isinstance(value, Mapping) and any(_holds_null(v) for v in value.values()):
        return {k: to_wire(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)) and any(_holds_null(v) for v in value):
        return [to_wire(v) for v in value]
    return value


def _holds_null(value: Any, depth: int = 0) -> bool:
    if value is NULL:
        return True
    if depth > 64:
        return False
    if isinstance(value, Mapping):
        return any(_holds_null(v, depth + 1) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(_holds_null(v, depth + 1) for v in value)
    return False


def request_fields(fields: Mapping[str, Any]) -> dict[str, Any]:
    """The JSON body of keyword fields: None left out (not given), `NULL` sent as null.

    Args:
        fields: the keyword fields of a write method.

    Returns:
        A new dict, ready to send.
    """
    return {k: to_wire(v) for k, v in fields.items() if v is not None}
