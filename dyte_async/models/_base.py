"""What the models share: the open string enum and one page of a list.

Nothing of ours is imported here.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator, Mapping
from types import MappingProxyType
from typing import Any, Final, Generic, TypeVar

import attrs

from dyte_async.models._serialize import Serializable

__all__ = ["INFORMATIONAL", "TOLERANT", "Page"]

T = TypeVar("T")

#: Field metadata key: an informational field. When the server's value cannot be read as
#: the field's type, the decoder keeps the field's default (None, False, 0 or an empty
#: object) and logs one DEBUG line, instead of failing the call (see `models/__init__`).
TOLERANT = "dyte_async.tolerant"


#: The metadata of an informational field: `attrs.field(default=..., metadata=INFORMATIONAL)`.
INFORMATIONAL: Final[Mapping[str, bool]] = MappingProxyType({TOLERANT: True})


class _OpenStrEnum(str, enum.Enum):
    """A string enum that keeps values it does not know instead of raising.

    `LivestreamStatus("STARTING")` gives a member-like value equal to `"STARTING"` whose
    `.known` is False, so a status the API adds later never breaks decoding.
    """

    @classmethod
    def _missing_(cls, value: object) -> Any:
        if not isinstance(value, str):
            return None
        member = str.__new__(cls, value)
        member._name_ = value
        member._value_ = value
        return member

    @property
    def known(self) -> bool:
        """True when the value is one the library knows by name."""
        return self._name_ in type(self).__members__

    def __str__(self) -> str:
        return str(self.value)


@attrs.frozen(kw_only=True)
class Page(Serializable, Generic[T]):
    """One page of a list endpoint.

    Attributes:
        items: the items of this page.
        total_count: the total over all pages, when the API said.
        start_offset, end_offset: 1-based inclusive offsets of this page's items.
        page_no: the page number asked for (1-based).
    """

    items: tuple[T, ...]
    total_count: int | None = None
    start_offset: int | None = None
    end_offset: int | None = None
    page_no: int = 1

    def __iter__(self) -> Iterator[T]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)
