"""Pure parsers for HAProxy's runtime API answers: `show info`, `show stat`, `show ssl cert`.

`show stat` is read by header name, so versions with more or fewer columns parse alike.
Every failure is a `ParseError`; nothing else escapes these functions.
"""

from __future__ import annotations

import calendar
import csv
import time
from collections.abc import Collection
from dataclasses import dataclass
from itertools import repeat

from exporters.core.errors import ParseError
from exporters.haproxy.mapping import STAT_COLUMNS

# `show stat` object types (the `type` column)
FRONTEND, BACKEND, SERVER, LISTENER = "0", "1", "2", "3"
_REQUIRED_COLUMNS = ("pxname", "svname")
_BLOCK = 1024  # rows split at a time


@dataclass(frozen=True)
class StatTable:
    """`show stat` output, column by column: `data[i]` holds column `columns[i]` of every row.

    Only the columns asked for are kept (by default those the families read), so a table of
    10,000 servers holds about half the fields HAProxy sent. `type` column values: 0 frontend,
    1 backend, 2 server, 3 listener; when the column is missing (very old versions),
    `parse_stat` derives it from `svname`.
    """

    columns: tuple[str, ...]
    data: tuple[list[str], ...]

    def __len__(self) -> int:
        return len(self.data[0]) if self.data else 0

    def index(self) -> dict[str, int]:
        """Column name -> position."""
        return {name: i for i, name in enumerate(self.columns)}

    def column(self, name: str) -> list[str]:
        """Every row's field of column `name`."""
        return self.data[self.columns.index(name)]

    @property
    def rows(self) -> list[list[str]]:
        """The rows, each a list of fields (a copy; slow, for tests and debugging)."""
        return [list(row) for row in zip(*self.data, strict=True)]


@dataclass(frozen=True)
class Certificate:
    """One certificate from `show ssl cert <file>`."""

    file: str
    subject: str
    not_after: float
    serial: str = ""


def split_answers(raw: str, count: int) -> list[str]:
    """Split the answer to `count` commands sent as `a;b;c`.

    Each answer ends with an empty line; an empty answer (e.g. `show ssl cert` with no
    certificate) is that empty line alone.

    Raises:
        ParseError: fewer answers than commands, an unterminated one (truncated output), or
            text after the last one.
    """
    answers: list[str] = []
    pos, size = 0, len(raw)
    while len(answers) < count:
        if pos < size and raw[pos] == "\n":
            answers.append("")
            pos += 1
            continue
        end = raw.find("\n\n", pos)
        if end < 0:
            raise ParseError(
                f"truncated output: answer {len(answers) + 1} of {count} does not end with an empty line"
            )
        answers.append(raw[pos : end + 1])
        pos = end + 2
    if pos != size:
        raise ParseError(f"expected {count} answers, got more (garbled output)")
    return answers


def parse_info(text: str) -> dict[str, str]:
    """Parse `show info` (`Key: value` lines) into a dict.

    Raises:
        ParseError: a line that is not `Key: value`, or no `Name`/`Version` key.
    """
    info: dict[str, str] = {}
    for line in text.splitlines():
        if not line:
            continue
        key, sep, value = line.partition(":")
        if not sep or not key or key != key.strip():
            raise ParseError(f"show info: not a 'Key: value' line: {line[:80]!r}")
        info[key] = value.strip()
    if "Version" not in info and "Name" not in info:
        raise ParseError("show info: no Name or Version key (not a show info answer)")
    return info


def _type_from_svname(svname: str) -> str:
    if svname == "FRONTEND":
        return FRONTEND
    if svname == "BACKEND":
        return BACKEND
    return SERVER


@dataclass(frozen=True)
class StatHeader:
    """A `show stat` header line: its columns, the positions kept and their names."""

    columns: tuple[str, ...]
    picks: tuple[int, ...]

    @property
    def names(self) -> tuple[str, ...]:
        """The names of the columns kept, in order."""
        return tuple(self.columns[i] for i in self.picks)


def parse_header(line: str, keep: Collection[str] | None = STAT_COLUMNS) -> StatHeader:
    """Parse the `# pxname,svname,...` line of `show stat`; keep the columns in `keep` (None: all).

    Raises:
        ParseError: not such a header, or one missing a required column.
    """
    if not line.startswith("# "):
        raise ParseError("show stat: no '# pxname,...' header")
    columns = tuple(line[2:].split(","))
    for name in _REQUIRED_COLUMNS:
        if name not in columns:
            raise ParseError(f"show stat: header has no {name!r} column")
    wanted = set(columns) if keep is None else {*keep, *_REQUIRED_COLUMNS}
    picks = tuple(i for i, name in enumerate(columns) if name in wanted)
    return StatHeader(columns, picks)


def parse_rows(header: StatHeader, lines: list[str]) -> StatTable:
    """Parse the rows of `show stat` (non-empty lines) under `header` into a table.

    The usual rows (no quoted field) are split a block at a time, one C-level pass per block,
    and only the columns kept are kept, as lists: no object per row, and the fields of the
    columns not kept are freed block by block.

    Raises:
        ParseError: a row whose number of fields differs from the header's (truncated or
            garbled output).
    """
    width = len(header.columns)
    picks = header.picks
    data: list[list[str]] = [[] for _ in picks]
    if set(map(str.count, lines, repeat(","))) <= {width - 1}:
        for start in range(0, len(lines), _BLOCK):
            fields = ",".join(lines[start : start + _BLOCK]).split(",")
            for column, i in zip(data, picks, strict=True):
                column.extend(fields[i::width])
    else:
        rows = [_row(line, width) for line in lines]
        data = [[row[i] for row in rows] for i in picks]
    names = list(header.names)
    if "type" not in header.columns:
        data.append([_type_from_svname(sv) for sv in data[names.index("svname")]])
        names.append("type")
    return StatTable(tuple(names), tuple(data))


def parse_stat(text: str, keep: Collection[str] | None = STAT_COLUMNS) -> StatTable:
    """Parse `show stat` / stats page CSV by header name (see `parse_header`, `parse_rows`).

    Raises:
        ParseError: no `# pxname,...` header, missing required columns, or a row whose number
            of fields differs from the header's (truncated or garbled output).
    """
    lines = text.split("\n")
    header = parse_header(lines[0], keep)
    return parse_rows(header, [line for line in lines[1:] if line])


def _row(line: str, width: int) -> list[str]:
    row = line.split(",")
    if len(row) != width and '"' in line:  # a quoted field holding a comma (check descriptions)
        row = next(csv.reader([line]))
    if len(row) != width:
        raise ParseError(f"show stat: row has {len(row)} fields, header {width} (truncated or garbled)")
    return row


def parse_cert_list(text: str) -> list[str]:
    """Parse `show ssl cert` (no argument): the committed certificate files.

    Files in an uncommitted transaction (`*` prefix) are skipped.

    Raises:
        ParseError: not a `# filename` listing.
    """
    lines = [line for line in text.splitlines() if line]
    if not lines or not lines[0].startswith("# filename"):
        raise ParseError("show ssl cert: no '# filename' header")
    return [line for line in lines[1:] if not line.startswith("*")]


def parse_cert_date(value: str) -> float:
    """Parse an OpenSSL date (`Dec 25 23:34:24 2026 GMT`) into a Unix timestamp.

    Raises:
        ParseError: not such a date.
    """
    try:
        parsed = time.strptime(" ".join(value.split()), "%b %d %H:%M:%S %Y %Z")
    except (ValueError, OverflowError):
        raise ParseError(f"show ssl cert: bad date {value[:40]!r}") from None
    return float(calendar.timegm(parsed))


def parse_cert(text: str) -> Certificate:
    """Parse `show ssl cert <file>`.

    Raises:
        ParseError: no `Filename` or `notAfter`, or a bad date.
    """
    fields: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep and key not in fields:
            fields[key] = value.strip()
    if "Filename" not in fields or "notAfter" not in fields:
        raise ParseError("show ssl cert <file>: no Filename or notAfter")
    return Certificate(
        file=fields["Filename"].lstrip("*"),
        subject=fields.get("Subject", ""),
        not_after=parse_cert_date(fields["notAfter"]),
        serial=fields.get("Serial", ""),
    )
