"""The command line: exit codes, JSON and CSV output, `compare`, paths on stdin."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

import neardup
from neardup.cli import main
from neardup.output.json import lines as json_lines
from neardup.scoring import ALL_METHODS, PRESETS
from neardup.sources.files import expand_stdin

if TYPE_CHECKING:
    from conftest import FileMaker

SRC = Path(__file__).resolve().parents[1] / "src"
Capture = pytest.CaptureFixture[str]


@pytest.fixture
def dup_dir(photo_dir: Callable[..., Path], make: FileMaker) -> Path:
    """A photo with a smaller JPEG copy, an unrelated photo, and one bad file."""
    folder = photo_dir(
        {"astro.png": ("astronaut", 300), "astro_copy.jpg": ("astronaut", 180), "moon.png": "moon"}
    )
    make.text(folder / "notes.png")
    return folder


@pytest.fixture
def distinct_dir(photo_dir: Callable[..., Path]) -> Path:
    return photo_dir({"coffee.png": "coffee", "moon.png": "moon"}, name="distinct")


def scan(*args: str | Path) -> int:
    return main(["scan", *map(str, args), "--no-cache", "--workers", "1"])


def test_scan_exit_zero_and_table(dup_dir: Path, capsys: Capture) -> None:
    assert scan(dup_dir) == 0
    out = capsys.readouterr().out
    cut = PRESETS["default"]
    assert out.startswith(f"3 images, 1 duplicate group, 1 pair at confidence >= {cut}; 1 skipped")
    assert f"group 1: keep {dup_dir / 'astro.png'}  (300x300)" in out
    assert f"{dup_dir / 'astro_copy.jpg'}  (180x180)" in out
    assert f"{dup_dir / 'notes.png'}: not an image: the file holds text" in out


def test_quiet_prints_nothing(dup_dir: Path, capsys: Capture) -> None:
    assert scan(dup_dir, "-q") == 0
    assert capsys.readouterr().out == ""


def test_fail_on_duplicates(dup_dir: Path, distinct_dir: Path, capsys: Capture) -> None:
    assert scan(dup_dir, "-q", "--fail-on-duplicates") == 1
    assert scan(distinct_dir, "-q", "--fail-on-duplicates") == 0
    assert scan(dup_dir, "-q") == 0  # without the flag duplicates are not a failure


def test_nothing_readable_exits_three(tmp_path: Path, make: FileMaker, capsys: Capture) -> None:
    make.text(tmp_path / "notes.png")
    (tmp_path / "empty.jpg").write_bytes(b"")
    assert scan(tmp_path, "-q") == 3
    assert scan(tmp_path / "does-not-exist", "-q") == 2  # a usage error, before any work


@pytest.mark.parametrize("command", ["scan", "compare"])
def test_unknown_method_exits_two(dup_dir: Path, command: str, capsys: Capture) -> None:
    if command == "scan":
        code = scan(dup_dir, "--method", "pdq,bogus")
    else:
        a, b = str(dup_dir / "astro.png"), str(dup_dir / "moon.png")
        code = main(["compare", a, b, "--method", "bogus"])
    assert code == 2
    err = capsys.readouterr().err
    assert "unknown method 'bogus'" in err


def test_bad_threshold_exits_two(dup_dir: Path, capsys: Capture) -> None:
    assert scan(dup_dir, "--threshold", "1.5") == 2
    assert "threshold must be in [0, 1]" in capsys.readouterr().err


def test_usage_errors_exit_two(dup_dir: Path, capsys: Capture) -> None:
    for argv in (["scan"], ["scan", str(dup_dir), "--preset", "medium"], ["frobnicate"]):
        with pytest.raises(SystemExit) as stop:
            main(argv)
        assert stop.value.code == 2


def test_json_output(dup_dir: Path, tmp_path: Path, capsys: Capture) -> None:
    target = tmp_path / "out" / "result.json"
    assert scan(dup_dir, "-q", "--json", target) == 0
    doc = json.loads(target.read_text(encoding="utf-8"))
    assert {"schema", "groups", "pairs", "skipped", "stats", "settings"} <= doc.keys()
    assert doc["schema"] == "neardup.scan/2"
    assert doc["stats"]["images"] == 3 and doc["stats"]["skipped"] == 1
    assert doc["stats"]["groups"] == 1 and doc["stats"]["pairs"] == 1
    assert doc["settings"]["threshold"] == PRESETS["default"]
    assert doc["settings"]["methods"] == ["exact", "pdq", "sscd_distilled"]
    [group] = doc["groups"]
    assert group["keeper"]["path"] == str(dup_dir / "astro.png")
    assert (group["keeper"]["width"], group["keeper"]["height"]) == (300, 300)
    [member] = group["members"]
    assert member["path"] == str(dup_dir / "astro_copy.jpg")
    assert member["format"] == "JPEG"
    # The geometric check adds its two scores where it ran.
    assert {"exact", "pdq", "sscd_distilled"} <= set(member["scores"])
    checks = {"thumb", "geometry", "aligned", "agree"}
    assert set(member["scores"]) <= {"exact", "pdq", "sscd_distilled", *checks}
    assert 0.8 <= member["similarity"] < 1.0  # a re-encoded copy: alike, not identical
    assert PRESETS["default"] <= member["confidence"] <= 1.0
    assert member["matched"] == group["keeper"]["path"]
    [pair] = doc["pairs"]
    assert {pair["a"], pair["b"]} == {member["path"], group["keeper"]["path"]}
    assert pair["similarity"] == member["similarity"]
    assert pair["confidence"] == member["confidence"]
    assert doc["skipped"] == [
        {"path": str(dup_dir / "notes.png"), "reason": "not an image: the file holds text"}
    ]


def test_json_report_has_one_line_per_item(dup_dir: Path, tmp_path: Path) -> None:
    target = tmp_path / "result.json"
    assert scan(dup_dir, "-q", "--json", target) == 0
    text = target.read_text(encoding="utf-8")
    doc = json.loads(text)
    lines = text.splitlines()
    for key in ("groups", "pairs", "skipped"):  # each item whole on one line
        start = lines.index(f'  "{key}": [')
        items = [
            json.loads(line.rstrip(",")) for line in lines[start + 1 : start + 1 + len(doc[key])]
        ]
        assert items == doc[key]
    assert lines[0] == "{" and lines[-1] == "}"


def test_json_writer_round_trips() -> None:
    data = {"a": [], "b": [{"x": [1, 2]}, {"y": None}], "c": {"d": [3]}, "e": float("nan")}
    back = json.loads(json_lines(data))
    assert back.keys() == data.keys() and back["b"] == data["b"] and back["c"] == data["c"]
    assert back["a"] == [] and back["e"] != back["e"]  # NaN, as json.dumps writes it


def test_json_to_stdout_is_clean_json(dup_dir: Path, capsys: Capture) -> None:
    assert scan(dup_dir, "--json", "-") == 0
    doc = json.loads(capsys.readouterr().out)  # no table mixed in
    assert doc["schema"] == "neardup.scan/2"


def test_csv_output(dup_dir: Path, tmp_path: Path, capsys: Capture) -> None:
    target = tmp_path / "pairs.csv"
    assert scan(dup_dir, "-q", "--csv", target) == 0
    rows = list(csv.reader(io.StringIO(target.read_text(encoding="utf-8"))))
    header = ["a", "b", "similarity", "confidence", "evidence", "exact", "pdq", "sscd_distilled"]
    assert rows[0] == [*header, "differences"]
    [row] = rows[1:]
    assert {row[0], row[1]} == {str(dup_dir / "astro.png"), str(dup_dir / "astro_copy.jpg")}
    assert 0.8 <= float(row[2]) < 1.0
    assert PRESETS["default"] <= float(row[3]) <= 1.0
    assert row[4] in ("pdq", "sscd_distilled")
    assert row[5] == "0.0000"
    assert "scaled ×0." in row[8]  # the copy is the 300 px photo at 180 px


def test_csv_to_stdout(distinct_dir: Path, capsys: Capture) -> None:
    assert scan(distinct_dir, "--csv", "-") == 0
    assert capsys.readouterr().out == "a,b,similarity,confidence,evidence,differences\n"


def test_compare_json_to_a_file_as_scan_writes_it(dup_dir: Path, tmp_path: Path) -> None:
    a, b = dup_dir / "astro.png", dup_dir / "astro_copy.jpg"
    out = tmp_path / "pair.json"
    assert main(["compare", str(a), str(b), "--json", str(out)]) == 0
    assert json.loads(out.read_text())["verdicts"]["default"] is True
    assert main(["compare", str(a), str(b), "--json", str(tmp_path)]) == 2  # a folder
    assert main(["compare", "--json", str(a), str(b)]) == 0  # no FILE: stdout, as before
    with pytest.raises(SystemExit):  # B forgotten: not A against the output file (a review)
        main(["compare", str(a), "--json", str(out)])
    out.unlink()
    assert main(["compare", str(a), "--json", str(out), str(b)]) == 0 and out.is_file()
    assert main(["compare", "--json", str(out), str(a), str(b)]) == 0


def test_compare_json(dup_dir: Path, capsys: Capture) -> None:
    a, b = dup_dir / "astro.png", dup_dir / "astro_copy.jpg"
    assert main(["compare", str(a), str(b), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert (
        set(ALL_METHODS)
        <= set(doc["scores"])
        <= {*ALL_METHODS, "thumb", "geometry", "aligned", "agree"}
    )
    assert set(ALL_METHODS) == {
        "exact",
        "pdq",
        "phash",
        "dhash",
        "ahash",
        "whash",
        "sscd_distilled",
        "sscd",
    }
    assert all(0.0 <= v <= 1.0 for v in doc["scores"].values())
    assert doc["verdicts"] == {"strict": True, "default": True, "loose": True}
    assert set(doc["verdicts"]) == set(PRESETS)
    assert (doc["a"], doc["b"], doc["same_file"], doc["skipped"]) == (str(a), str(b), False, [])
    assert 0.9 <= doc["similarity"] < 1.0
    assert doc["confidence"] >= PRESETS["strict"]


def test_compare_unrelated_and_text(dup_dir: Path, capsys: Capture) -> None:
    assert main(["compare", str(dup_dir / "astro.png"), str(dup_dir / "moon.png")]) == 0
    out = capsys.readouterr().out
    assert f"at strict   (confidence >= {PRESETS['strict']}): different" in out
    assert f"at loose    (confidence >= {PRESETS['loose']}): different" in out
    for method in ALL_METHODS:
        assert f"  {method:15s} " in out


def test_compare_unreadable_exits_three(dup_dir: Path, capsys: Capture) -> None:
    code = main(["compare", str(dup_dir / "astro.png"), str(dup_dir / "notes.png"), "--json"])
    assert code == 3
    doc = json.loads(capsys.readouterr().out)
    assert doc["similarity"] is None
    assert doc["skipped"] == [
        {"path": str(dup_dir / "notes.png"), "reason": "not an image: the file holds text"}
    ]


def test_compare_same_file(dup_dir: Path, capsys: Capture) -> None:
    link = dup_dir / "link.png"
    link.symlink_to(dup_dir / "astro.png")
    astro = str(dup_dir / "astro.png")
    assert main(["compare", astro, str(link)]) == 0
    assert "both paths name the same file (a link)" in capsys.readouterr().out
    assert main(["compare", astro, astro]) == 0
    assert "both paths name the same file, so" in capsys.readouterr().out
    assert main(["compare", astro, str(dup_dir / "." / "astro.png")]) == 0  # no link
    assert "both paths name the same file, so" in capsys.readouterr().out
    # A tester: the JSON said no verdict at any preset and "differences": null (unread).
    assert main(["compare", astro, str(link), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["same_file"] and doc["verdicts"] == {"strict": True, "default": True, "loose": True}
    assert doc["differences"]["kinds"] == ["identical file"]


def test_a_newline_in_a_file_name_is_escaped_in_the_table(dup_dir: Path, capsys: Capture) -> None:
    (dup_dir / "astro.png").rename(dup_dir / "astro\nsecond line.png")
    assert scan(dup_dir, "--no-cache") == 0
    out = capsys.readouterr().out
    assert "astro\\nsecond line.png" in out and "\nsecond line.png" not in out


def test_compare_refuses_a_folder(dup_dir: Path, tmp_path: Path, capsys: Capture) -> None:
    """A folder is not one side of a pair: it once read as "the same file (a link)" when it
    held one of the images, and exited 3 in silence otherwise."""
    for folder in (dup_dir, tmp_path):
        assert main(["compare", str(folder), str(dup_dir / "astro.png")]) == 2
        assert "not a file" in capsys.readouterr().err
    found = neardup.compare(dup_dir, dup_dir / "astro.png")
    assert found.similarity is None and not found.same_file
    assert [s.path for s in found.skipped] == [str(dup_dir)]


def run_module(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]))
    return subprocess.run(
        [sys.executable, "-m", "neardup", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def test_paths_from_stdin(dup_dir: Path, tmp_path: Path, make: FileMaker) -> None:
    """`-` reads paths from stdin, one per line, as `find` prints them; only those are read."""
    spaced = make.image(tmp_path / "a dir" / "astro copy.jpg", "astronaut", 150)
    listing = "\n".join([str(dup_dir / "astro.png"), "", str(spaced), str(tmp_path / "gone.png")])
    target = tmp_path / "out.json"
    options = ["--no-cache", "--workers", "1", "-q", "--json", str(target)]
    done = run_module("scan", "-", *options, stdin=listing + "\n")
    assert done.returncode == 0, done.stderr
    doc = json.loads(target.read_text(encoding="utf-8"))
    assert doc["stats"]["images"] == 2  # not astro_copy.jpg or moon.png from the same folder
    [group] = doc["groups"]
    assert group["keeper"]["path"] == str(dup_dir / "astro.png")
    assert [m["path"] for m in group["members"]] == [str(spaced)]
    gone = {"path": str(tmp_path / "gone.png"), "reason": "no such file or folder"}
    assert doc["skipped"] == [gone]


def test_paths_from_stdin_separated_by_nul(
    dup_dir: Path, tmp_path: Path, make: FileMaker, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`find ... -print0 | neardup scan -`: NUL-separated paths, a name with a newline too
    (was "embedded null byte", exit 2)."""
    odd = make.image(tmp_path / "two\nlines.jpg", "astronaut", 150)
    listing = "\0".join([str(dup_dir / "astro.png"), str(odd)]) + "\0"
    monkeypatch.setattr("sys.stdin", io.StringIO(listing))
    assert expand_stdin(["-", "x.png"]) == [str(dup_dir / "astro.png"), str(odd), "x.png"]
    # One per line splits at newlines only: a form feed or U+2028 is part of a name.
    monkeypatch.setattr("sys.stdin", io.StringIO("a\x0cb.png\r\nc\u2028d.png\n\n"))
    assert expand_stdin(["-"]) == ["a\x0cb.png", "c\u2028d.png"]


def test_empty_stdin_is_a_usage_error() -> None:
    done = run_module("scan", "-", "--no-cache", stdin="")
    assert done.returncode == 2
    assert "no paths given" in done.stderr


def test_progress_is_told_of_every_stage(dup_dir: Path, capsys: Capture) -> None:
    """A progress callable taking (done, total, stage) hears of the pairs' stages after the
    features, in order and ending complete; one taking (done, total) hears of the features
    only, as before; the command line's bar draws one bar per stage."""
    import neardup
    from neardup.output.progress import ProgressBar

    heard: list[tuple[int, int, str]] = []
    neardup.scan(
        [dup_dir], cache=False, workers=1, progress=lambda d, t, s: heard.append((d, t, s))
    )
    stages = [s for n, (_, _, s) in enumerate(heard) if n == 0 or heard[n - 1][2] != s]
    order = ["features", "scoring", "check", "dense", "differences"]  # checks only where needed
    assert stages == [s for s in order if s in stages] and len(stages) >= 3
    for stage in stages:
        done, total, _ = [h for h in heard if h[2] == stage][-1]
        assert done == total > 0
    plain: list[tuple[int, int]] = []
    neardup.scan([dup_dir], cache=False, workers=1, progress=lambda d, t: plain.append((d, t)))
    assert plain and plain[-1][0] == plain[-1][1]
    bar = ProgressBar(True)
    neardup.scan([dup_dir], cache=False, workers=1, progress=bar)
    bar.close()
    drawn = capsys.readouterr().err
    assert all(f"{stage}:" in drawn for stage in stages)


def _read_all(master: int) -> str:
    """Everything written to a pty so far: one read returns one write's worth at a time (the
    bar's first draw without its last, now and then)."""
    import select

    chunks = []
    while select.select([master], [], [], 0.2)[0]:
        chunks.append(os.read(master, 65536))
    return b"".join(chunks).decode()


def test_the_progress_bar_draws_on_a_terminal_that_reports_no_width(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A pty never sized reports 0 columns: tqdm drew only blank lines (a tester saw 138 s of
    them); the bar then takes 80 columns."""
    import pty

    from neardup.output.progress import ProgressBar

    master, slave = pty.openpty()  # a new pty's window is 0 x 0
    with os.fdopen(slave, "w") as terminal:
        monkeypatch.setattr(sys, "stderr", terminal)
        bar = ProgressBar(True)
        bar(5, 10, "features")
        bar.close()
        terminal.flush()
        drawn = _read_all(master)
    os.close(master)
    assert "features:" in drawn and "5/10" in drawn


def test_a_missing_path_fails_a_check_and_stdout_takes_one_format(
    dup_dir: Path, tmp_path: Path, capsys: Capture
) -> None:
    """A mistyped folder beside a good one must not pass a CI check silently, not even with
    --quiet; JSON and CSV cannot both go to stdout."""
    typo = tmp_path / "no-such-split"
    assert main(["scan", str(dup_dir), str(typo), "--no-cache", "-q", "--workers", "1"]) == 2
    assert "no such file or folder" in capsys.readouterr().err
    assert main(["scan", str(typo), "--no-cache", "-q"]) == 2
    assert "no such file or folder" in capsys.readouterr().err
    assert main(["scan", str(dup_dir), "--json", "-", "--csv", "-", "--no-cache"]) == 2
