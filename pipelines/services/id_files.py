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
import errno
import itertools
import os
import shutil
import stat
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from pipelines.bedrock.ids import invalid_reason

REASON_SUFFIX = ".reason.txt"

# How much of a bad line the ledger keeps: enough to recognise it, never a 10 MB line.
MAX_SHOWN = 80


# Where read files go, beside the files still waiting.
SET_ASIDE = ("processed", "rejected")
# The name `bedrock-jobs ingest` stages its file under (a dot: the sensor leaves it alone).
STAGED_PREFIX = ".cli-"
# Files `prune_set_aside` deletes at most per call: one call's work stays bounded.
PRUNE_LIMIT = 1000
LINK_REASON = ("is a symbolic link: the inbox reads regular files only and never follows "
               "a link (move or copy the file itself in)")


def set_aside(path: Path, where: str, reason: str | None = None) -> Path:
    """Move a read inbox file to `processed/` or `rejected/` beside it, stamped with the
    time (UTC), so it is read once; a refused one keeps its reason beside it. A symbolic
    link is moved itself, never its target. The moved file's mtime becomes now: its days
    in `processed/` or `rejected/` count from here (see `prune_set_aside`)."""
    target_dir = path.parent / where
    target_dir.mkdir(exist_ok=True)
    target = target_dir / f"{datetime.now(UTC):%Y%m%dT%H%M%S}-{path.name}"
    shutil.move(str(path), target)
    os.utime(target, follow_symlinks=False)
    if reason:
        target.with_name(target.name + REASON_SUFFIX).write_text(reason + "\n")
    return target


def rejected_reason(inbox: Path, name: str) -> str | None:
    """Why the inbox file `name` was refused whole, if it was (see `set_aside`)."""
    reasons = sorted((inbox / "rejected").glob(f"*-{name}{REASON_SUFFIX}"))
    return reasons[-1].read_text().strip() if reasons else None


def _kind(path: Path) -> int | None:
    """The file type bits of `path` itself (a link is a link), None if it is gone."""
    try:
        return stat.S_IFMT(path.lstat().st_mode)
    except FileNotFoundError:
        return None


def inbox_files(folder: Path) -> list[Path]:
    """The ID files waiting in the inbox, by name: regular files only (a symbolic link
    is not one, whatever it points to). Names starting with a dot are not waiting:
    `bedrock-jobs ingest` stages its file that way, so the inbox sensor leaves it to
    the command's own run."""
    return [p for p in _waiting(folder) if _kind(p) == stat.S_IFREG]


def _waiting(folder: Path) -> list[Path]:
    """The inbox's entries, by name (its `processed/` and `rejected/` folders among
    them), except names starting with a dot."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if not p.name.startswith("."))


def readable_inbox_files(folder: Path, names: list[str] | None = None) -> list[Path]:
    """The inbox files to read: `names` (None: every waiting file), regular files only.

    A symbolic link among them is moved to `rejected/` with its reason (the link
    itself: its target is never read). A name never points outside the inbox.
    """
    candidates = (_waiting(folder) if names is None
                  else [folder / Path(name).name for name in names])
    found = []
    for path in candidates:
        kind = _kind(path)
        if kind == stat.S_IFLNK:
            set_aside(path, "rejected", reason=f"{path.name} {LINK_REASON}")
        elif kind == stat.S_IFREG:
            found.append(path)
    return found


def still_since(paths: list[Path], seconds: float, now: float) -> tuple[list[Path], list[Path]]:
    """`paths` split into those unchanged for `seconds` up to `now` (by mtime) and those
    changed more recently: maybe still being written."""
    ready, changing = [], []
    for path in paths:
        try:
            (ready if now - path.stat().st_mtime >= seconds else changing).append(path)
        except FileNotFoundError:  # read and moved by another run meanwhile
            continue
    return ready, changing


def prune_set_aside(inbox: Path, keep_days: int, now: float, limit: int = PRUNE_LIMIT) -> int:
    """Delete what `processed/` and `rejected/` hold since more than `keep_days` days (by
    mtime, which `set_aside` sets), and files `bedrock-jobs ingest` staged that long ago
    and never ran (interrupted); 0 keeps everything. At most `limit` files a call, so its
    work stays bounded: the rest go on a later call. Returns how many were deleted."""
    if keep_days <= 0:
        return 0
    cutoff = now - keep_days * 86_400
    deleted = 0
    for folder, prefix in [*((inbox / where, "") for where in SET_ASIDE), (inbox, STAGED_PREFIX)]:
        deleted += _prune(folder, prefix, cutoff, limit - deleted)
    return deleted


def _prune(folder: Path, prefix: str, cutoff: float, limit: int) -> int:
    """Delete up to `limit` files of `folder` named `prefix…` last changed before `cutoff`."""
    if limit <= 0 or not folder.is_dir():
        return 0
    deleted = 0
    with os.scandir(folder) as entries:
        for entry in entries:
            if deleted >= limit:
                break
            try:
                info = entry.stat(follow_symlinks=False)
                if (not entry.name.startswith(prefix) or stat.S_ISDIR(info.st_mode)
                        or info.st_mtime >= cutoff):
                    continue
                os.unlink(entry.path)
            except FileNotFoundError:  # another run pruned it first
                continue
            deleted += 1
    return deleted


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
    return next(iter_id_file(path, chunk_lines=None))


# Lines per chunk of a large file: memory stays bounded whatever the file's size.
CHUNK_LINES = 100_000

Line = tuple[int, str | None, bytes]  # (number, text or None where not UTF-8, raw bytes)


def iter_id_file(path: Path, chunk_lines: int | None = CHUNK_LINES) -> Iterator[IdBatch]:
    """`read_id_file` a chunk of `chunk_lines` lines at a time (None: the whole file).

    The file is read line by line, never whole. Duplicates are found within a
    chunk; the ledger finds those across chunks. At least one batch is yielded,
    and a CSV without a `job_id` column is refused at its header, before any.
    """
    source = f"file:{path.name}"
    with _open_no_link(path) as handle:
        lines = _decoded_lines(handle)
        head: list[Line] = []  # up to the first non-blank UTF-8 line: it says the format
        for line in lines:
            head.append(line)
            if line[1] is not None and line[1].strip():
                break
        header = head[-1][1] if head and head[-1][1] and head[-1][1].strip() else ""
        take = _csv_reader(path.name) if _looks_like_csv(header) else _plain_reader(path.name)
        batch = IdBatch(source=source)
        yielded = False
        for number, text, raw in itertools.chain(head, lines):
            take(batch, number, text, raw)
            if chunk_lines is not None and batch.lines >= chunk_lines:
                yield batch
                yielded = True
                batch = IdBatch(source=source)
        if batch.lines or batch.rejected or not yielded:
            yield batch


def _open_no_link(path: Path) -> BinaryIO:
    """`path` opened for reading, refused whole if it is a symbolic link (O_NOFOLLOW: a
    link put in its place after the inbox was listed is not followed either)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise IntakeError(f"{path.name} {LINK_REASON}") from None
        raise
    return os.fdopen(fd, "rb")


def _decoded_lines(handle: BinaryIO) -> Iterator[Line]:
    """Every line of the file, decoded one by one, so one bad line costs that line."""
    for number, raw in enumerate(handle, start=1):
        if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]
        if raw.endswith(b"\n"):
            raw = raw[:-1]
        raw = raw.rstrip(b"\r")
        try:
            yield number, raw.decode("utf-8"), raw
        except UnicodeDecodeError:
            yield number, None, raw


Reader = Callable[[IdBatch, int, "str | None", bytes], None]


def _plain_reader(name: str) -> Reader:
    def take(batch: IdBatch, number: int, text: str | None, raw: bytes) -> None:
        if not _rejected_undecodable(batch, name, number, text, raw):
            batch.add(text, f"{name} line {number}")

    return take


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


def _csv_reader(name: str) -> Reader:
    column: int | None = None  # known once the header (first non-blank UTF-8 line) is read

    def take(batch: IdBatch, number: int, text: str | None, raw: bytes) -> None:
        nonlocal column
        if _rejected_undecodable(batch, name, number, text, raw):
            return
        assert text is not None
        if column is None:
            if not text.strip():
                batch.blank_lines += 1
                return
            if "job_id" not in _cells(text):
                raise IntakeError(f"{name}: a CSV needs a job_id column (header: {shown(text)})")
            column = _cells(text).index("job_id")
            return
        if not text.strip():
            batch.blank_lines += 1
            return
        row = next(csv.reader([text]), [])
        value = row[column] if column < len(row) else ""
        if not value.strip():
            batch.rejected.append(Rejected(shown(text), f"{name} line {number}: no job_id"))
            return
        batch.add(value, f"{name} line {number}")

    return take
