"""Text for a person: an error or a message made into one short line."""

from __future__ import annotations

SHORT_LINE = 200
"""Characters of an error shown in a line (a few rows of a terminal); logs keep it whole."""


def one_line(error_or_text: BaseException | str, limit: int | None = SHORT_LINE) -> str:
    """One line of at most `limit` characters (None: any length), its space collapsed and
    its end marked "…" if cut: an exception as its type and the first line of its message,
    a text whole."""
    if isinstance(error_or_text, BaseException):
        lines = str(error_or_text).strip().splitlines()
        name = type(error_or_text).__name__
        text = f"{name}: {lines[0]}" if lines else name
    else:
        text = error_or_text
    text = " ".join(text.split())
    return text if limit is None or len(text) <= limit else text[:limit - 1] + "…"
