"""`one_line`: every error a person reads, as one short line."""

from __future__ import annotations

from pipelines.services.text import one_line


def test_an_error_is_its_type_and_the_first_line_of_its_message():
    assert one_line(ValueError("bad  value\nsecond line")) == "ValueError: bad value"
    assert one_line(KeyError()) == "KeyError"


def test_a_text_is_whole_on_one_line_and_cut_at_the_limit_with_a_mark():
    assert one_line("a\n  b\tc") == "a b c"
    assert one_line("x" * 300) == "x" * 199 + "…"
    assert one_line("x" * 300, limit=10) == "x" * 9 + "…"
    assert one_line("x" * 300, limit=None) == "x" * 300
