"""Meeting ids in and out of files: `--from-file` reads them, `--failed-out` writes the
ones to run again.

A file is one id per line or a CSV. A CSV whose first line names a `meeting_id` column
(`title,meeting_id`) is read from that column; any other file from its first column. A
`--failed-out` file is a CSV with a `meeting_id` column, so `--from-file` reads it back.
"""

from __future__ import annotations

import csv
import os
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path

__all__ = ["ID_COLUMN", "IdsFileError", "read_ids", "write_failed"]

#: The column `--from-file` looks for by its header, and `--failed-out` writes.
ID_COLUMN = "meeting_id"


class IdsFileError(ValueError):
    """A file of meeting ids that cannot be read as one (names the line)."""


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in next(csv.reader([line]), [])]


def _id_of(cell: str) -> str:
    # An id never holds `#`: what follows one is a comment (`m4  # trailing comment`).
    return cell.split("#", 1)[0].strip().strip('"').strip()


def read_ids(lines: Iterable[str]) -> list[str]:
    """Meeting ids from lines: one per line, a CSV's `meeting_id` column, or its first.

    The first line that is not blank or a `#` comment decides: when one of its cells is
    `meeting_id`, it is the header and the ids are read from that column; otherwise every
    line's first cell is an id (a lone `meeting_id` header is skipped). Blank lines and
    comments are skipped everywhere.

    Args:
        lines: the file's lines (a text file, `sys.stdin`, a list).

    Returns:
        The ids in file order (duplicates kept).

    Raises:
        IdsFileError: a line has no cell in the `meeting_id` column.
    """
    out: list[str] = []
    column: int | None = None
    for number, line in enumerate(lines, start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        cells = _cells(line.rstrip("\r\n"))
        if column is None:
            names = [_id_of(cell).lower() for cell in cells]
            column = names.index(ID_COLUMN) if ID_COLUMN in names else 0
            if ID_COLUMN in names:
                continue
        if column >= len(cells):
            raise IdsFileError(f"line {number} has no {ID_COLUMN} (column {column + 1})")
        text = _id_of(cells[column])
        if text:
            out.append(text)
    return out


def write_failed(path: str, failed: Sequence[tuple[str, str]]) -> None:
    """Write the meetings to run again as a CSV (`meeting_id,error`), replacing `path`.

    Written to a temporary file beside `path` and moved over it, so a reader never sees
    half a file.

    Args:
        path: where to write (`--failed-out FILE`).
        failed: `(meeting_id, why)` pairs: the error's type, or `not run`.

    Raises:
        OSError: the file cannot be written.
    """
    target = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh, lineterminator="\n")
            writer.writerow([ID_COLUMN, "error"])
            writer.writerows(failed)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
