"""ID files: every non-blank line becomes a valid ID, a counted duplicate, or a reasoned reject."""

from __future__ import annotations

import pytest

from pipelines.services.id_files import IntakeError, read_id_file, read_ids


def _write(tmp_path, name, data: bytes):
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_plain_file_with_bom_crlf_blanks_spaces_and_duplicates(tmp_path):
    path = _write(tmp_path, "ids.txt",
                  b"\xef\xbb\xbfjob_1\r\n\r\n  job_2  \r\njob_1\r\n\t\r\njob-3_x\r\n")
    batch = read_id_file(path)
    assert batch.ids == ["job_1", "job_2", "job-3_x"]
    assert batch.duplicates == 1 and batch.blank_lines == 2 and batch.rejected == []
    assert batch.lines == 6 and batch.source == "file:ids.txt"


def test_hostile_lines_are_rejected_with_file_and_line(tmp_path):
    hostile = [
        "../../etc/passwd", "job_1?x=1", "job_1#a", "%2F", "jöb_1",
        "'; DROP TABLE core.jobs; --", "x" * 10_000, "job\x00nul",
    ]
    data = ("job_ok\n" + "\n".join(hostile) + "\n").encode() + b"\xff\xfe binary\n"
    batch = read_id_file(_write(tmp_path, "evil.txt", data))
    assert batch.ids == ["job_ok"]
    assert len(batch.rejected) == len(hostile) + 1
    for number, rejected in enumerate(batch.rejected, start=2):
        assert rejected.reason.startswith(f"evil.txt line {number}: ")
        assert len(rejected.shown) < 120 and rejected.shown.isprintable()
    assert batch.rejected[-1].reason.endswith("not UTF-8 text")
    assert "+9920 chars" in batch.rejected[6].shown


def test_csv_with_a_job_id_column(tmp_path):
    path = _write(tmp_path, "export.csv",
                  b'name,job_id,note\r\na,job_1,x\r\nb,"job_2",y\r\n\r\nc,,z\r\nd,bad id,w\r\n')
    batch = read_id_file(path)
    assert batch.ids == ["job_1", "job_2"]
    assert batch.blank_lines == 1
    assert [r.reason for r in batch.rejected] == [
        "export.csv line 5: no job_id",
        "export.csv line 6: job id may only contain letters, digits, '-' and '_'",
    ]


def test_single_column_csv_header_is_not_an_id(tmp_path):
    batch = read_id_file(_write(tmp_path, "one.csv", b"job_id\njob_9\n"))
    assert batch.ids == ["job_9"] and batch.rejected == []


def test_csv_without_job_id_column_is_refused_whole(tmp_path):
    with pytest.raises(IntakeError, match="job_id column"):
        read_id_file(_write(tmp_path, "wrong.csv", b"id,name\njob_1,a\n"))


def test_ids_from_config_are_checked_the_same_way():
    batch = read_ids(["job_1", " job_1 ", "", "a/b"], source="run_config")
    assert batch.ids == ["job_1"] and batch.duplicates == 1 and batch.blank_lines == 1
    assert batch.rejected[0].reason.startswith("run_config item 4: ")


def test_empty_file(tmp_path):
    batch = read_id_file(_write(tmp_path, "empty.txt", b""))
    assert batch.ids == [] and batch.lines == 0
