"""The pairs CSV reads back whole: a path holding a carriage return or a newline is quoted,
and rows still end in a bare newline."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from conftest import make_photo

from neardup.cli import main
from neardup.output.csv import RowWriter


def test_fields_with_line_breaks_are_quoted_and_rows_end_in_newline() -> None:
    out = io.StringIO()
    writer = RowWriter(out)
    writer.writerow(["a\rb", "c\nd", "e\r\nf", 'g"h', "plain", 1.5])
    writer.writerow(["x", "y"])
    text = out.getvalue()
    assert text == '"a\rb","c\nd","e\r\nf","g""h",plain,1.5\nx,y\n'
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows == [["a\rb", "c\nd", "e\r\nf", 'g"h', "plain", "1.5"], ["x", "y"]]


def test_a_path_with_a_carriage_return_round_trips_through_the_scan_csv(tmp_path: Path) -> None:
    """It was written unquoted, and csv.reader read the row as 9, 1 and 9 fields."""
    folder = tmp_path / "pics"
    folder.mkdir()
    photo = make_photo("astronaut", 200)
    photo.save(folder / "plain.jpg", quality=90)
    photo.save(folder / "cr\rname.jpg", quality=80)
    photo.save(folder / "nl\nname.jpg", quality=70)
    target = tmp_path / "pairs.csv"
    argv = ["scan", str(folder), "--no-cache", "-q", "--method", "pdq", "--workers", "1"]
    assert main([*argv, "--csv", str(target)]) == 0
    data = target.read_bytes()
    with open(target, newline="", encoding="utf-8") as file:
        rows = list(csv.reader(file))
    assert len(rows) == 4 and {len(row) for row in rows} == {len(rows[0])}
    assert {row[0] for row in rows[1:]} | {row[1] for row in rows[1:]} == {
        str(folder / name) for name in ("plain.jpg", "cr\rname.jpg", "nl\nname.jpg")
    }
    inside = "".join(field for row in rows for field in row)
    assert data.count(b"\r") == inside.count("\r")  # rows end in a bare newline
    assert data.count(b"\n") == len(rows) + inside.count("\n")
