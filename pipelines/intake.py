"""Reading job IDs from files dropped in the inbox (or given on the command line).

A file is either one ID per line or a CSV with a `job_id` column. Whatever a
file holds, every non-blank line is accounted for: it becomes a valid ID, a
duplicate of one already read, or an invalid entry whose reason names the file
and the line. Nothing in a file can crash the batch:

- a UTF-8 byte-order mark, CRLF line ends, blank lines and surrounding spaces
  are tolerated;
- a line that is not UTF-8, holds control characters, or breaks the ID rule
  of `pipelines.bedrock.ids` becomes an invalid entry (it never reaches the
  wire);
- a CSV without a `job_id` column is refused whole, with a clear error.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from pipelines.bedrock.ids import invalid_reason

# How much of a bad line the ledger keeps: enough to recognise it, never a 10 MB line.
MAX_SHOWN = 80


class IntakeError(ValueError):
    """A whole file can't be read as IDs (e.g. a CSV without a `job_id` column)."""


@dataclass(frozen=True, slots=True)
class Rejected:
    """A line that is not a requestable ID, with where it came from and why."""

    shown: str  # the line, printable and truncated: the ledger's key for it
    reason: str


@dataclass
class IdBatch:
    """What one input held: valid IDs (first occurrence order), rejects, and counts."""

    source: str
    ids: list[str] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    duplicates: int = 0
    blank_lines: int = 0
    _seen: set[str] = field(default_factory=set, repr=False)

    def add(self, raw: str, where: str) -> None:
        value = raw.strip()
        if not value:
            self.blank_lines += 1
            return
        reason = invalid_reason(value)
        if reason is not None:
            self.rejected.append(Rejected(shown(value), f"{where}: {reason}"))
        elif value in self._seen:
            self.duplicates += 1
        else:
            self._seen.add(value)
            self.ids.append(value)

    @property
    def lines(self) -> int:
        return len(self.ids) + len(self.rejected) + self.duplicates + self.blank_lines


def shown(value: str) -> str:
    """A printable, bounded rendering of untrusted text, for keys and messages."""
    printable = value.encode("unicode_escape").decode("ascii")
    if len(printable) > MAX_SHOWN:
        return f"{printable[:MAX_SHOWN]}…(+{len(printable) - MAX_SHOWN} chars)"
    return printable


def read_ids(lines: Iterable[str], source: str) -> IdBatch:
    """IDs given one per item (run config, `--ids -`), each item checked like a file line."""
    batch = IdBatch(source=source)
    for number, line in enumerate(lines, start=1):
        batch.add(line, f"{source} item {number}")
    return batch


def read_id_file(path: Path) -> IdBatch:
    """The IDs in one inbox file: one per line, or a CSV with a `job_id` column."""
    data = path.read_bytes()
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    batch = IdBatch(source=f"file:{path.name}")
    lines = _decoded_lines(data)
    header = next((text for _, text, _ in lines if text and text.strip()), "")
    if _looks_like_csv(header):
        _read_csv(lines, path.name, batch)
    else:
        for number, text, raw in lines:
            if not _rejected_undecodable(batch, path.name, number, text, raw):
                batch.add(text, f"{path.name} line {number}")
    return batch


def _decoded_lines(data: bytes) -> list[tuple[int, str | None, bytes]]:
    """(line number, text or None where it is not UTF-8, raw bytes) for every line.

    Decoded line by line, so one bad line costs that line, not the file.
    """
    pieces = data.split(b"\n")
    if pieces and pieces[-1] == b"":
        pieces.pop()  # the empty piece after a final newline is not a line
    lines: list[tuple[int, str | None, bytes]] = []
    for number, raw in enumerate(pieces, start=1):
        raw = raw.rstrip(b"\r")
        try:
            lines.append((number, raw.decode("utf-8"), raw))
        except UnicodeDecodeError:
            lines.append((number, None, raw))
    return lines


def _rejected_undecodable(
    batch: IdBatch, name: str, number: int, text: str | None, raw: bytes
) -> bool:
    """Record a line that is not UTF-8 as rejected; True if it was."""
    if text is None:
        batch.rejected.append(Rejected(shown(raw.decode("latin-1")),
                                       f"{name} line {number}: not UTF-8 text"))
        return True
    return False


def _looks_like_csv(header: str) -> bool:
    # IDs never hold commas, so a comma in the first line means a table.
    return "," in header or _cells(header) == ["job_id"]


def _cells(text: str) -> list[str]:
    # One line at a time: IDs never need quoted multi-line fields, and line
    # numbers in reasons stay true.
    return [cell.strip().lower() for cell in next(csv.reader([text]), [])]


def _read_csv(lines: list[tuple[int, str | None, bytes]], name: str, batch: IdBatch) -> None:
    rows = iter(lines)
    header = ""
    for number, text, raw in rows:  # the header: the first non-blank UTF-8 line
        if _rejected_undecodable(batch, name, number, text, raw):
            continue
        if text.strip():
            header = text
            break
        batch.blank_lines += 1
    if "job_id" not in _cells(header):
        raise IntakeError(f"{name}: a CSV needs a job_id column (header: {shown(header)})")
    column = _cells(header).index("job_id")
    for number, text, raw in rows:
        if _rejected_undecodable(batch, name, number, text, raw):
            continue
        if not text.strip():
            batch.blank_lines += 1
            continue
        row = next(csv.reader([text]), [])
        value = row[column] if column < len(row) else ""
        if not value.strip():
            batch.rejected.append(Rejected(shown(text), f"{name} line {number}: no job_id"))
            continue
        batch.add(value, f"{name} line {number}")
