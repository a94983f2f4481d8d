"""The benchmark scripts still run end to end (tiny sizes; the real runs are in RESULTS.md)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TINY = (  # noqa: SIM905 (one readable command line)
    "--n 20000 --dim 32 --pairs 200 --add 200 --queries 100 --latency 10 "
    "--sweep-n 5000 --sizes 64 --nprobe-sweep 1,4 --chunk 4096 --train-n 4096"
).split()


def test_index_benchmark_runs_at_a_tiny_size(tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    for codec in ("flat", "sq8"):
        done = subprocess.run(
            [
                sys.executable,
                str(ROOT / "benchmarks" / "index_bench.py"),
                *TINY,
                *("--codec", codec, "--json", str(out)),
            ],
            capture_output=True,
            text=True,
            env=env,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr[-2000:]
        assert "build + add + all-pairs" in done.stdout
    results = json.loads(out.read_text())
    for codec in ("flat", "sq8"):
        main = results[f"main/{codec}/n20000/d32"]
        assert main["n"] == 20000 and main["nlist"] == 78 and main["probes_reused"]
        assert main["recall_planted"] >= 0.95 and main["recall_vs_exact"] >= 0.95
        assert main["removed_ok"] and main["removed_absent"]
        assert main["peak_rss_mib"] > 0 and set(main["latency"]) == {"add", "search", "remove"}
        assert sorted(main["by_nprobe"]) == ["1", "16", "2", "4", "8"]
    assert [row["nprobe"] for row in results["sweep/flat/n5000/d32"]["rows"]] == [1, 4]


def test_million_benchmark_runs_end_to_end_at_a_tiny_size(tmp_path: Path) -> None:
    """benchmarks/million.py at 3,000 images: every stage through the real index, the
    planted groups found, no look-alike grouped, the query answered in a fresh process."""
    out = tmp_path / "results.jsonl"
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "million.py"),
            *("--n", "3000", "--first-chunk", "2000", "--chunk", "1000", "--workers", "1"),
            *("--tmp", str(tmp_path), "--json", str(out)),
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    run = json.loads(out.read_text())
    assert run["counts"]["stored"] + run["counts"]["aliases"] == 3000
    assert run["counts"]["groups"] > 0 and run["counts"]["candidates_per_image"] > 3
    assert run["recall"]["pairs_at_cut_exactly"] > 50
    assert run["recall"]["group_recall"] >= 0.99 and run["recall"]["lookalike_pairs_reported"] == 0
    assert run["query"]["planted_original_found"] and run["query"]["decoded"] >= 1
    assert {"store_write", "open", "duplicates", "json_out"} <= set(run)
    assert not list(tmp_path.glob("million.*"))  # the work folder is removed


def test_the_benchmarks_name_the_commit_they_measured(tmp_path: Path) -> None:
    """`benchmarks/checkout.py` gives the checkout's short commit (what every results table
    records), and "unknown" where its copy lies outside any git checkout."""
    code = "import sys; sys.path.insert(0, sys.argv[1]); import checkout; print(checkout.commit())"
    head = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    )
    if head.returncode != 0:
        pytest.skip("not a git checkout")
    here = subprocess.run(
        [sys.executable, "-c", code, str(ROOT / "benchmarks")], capture_output=True, text=True
    )
    assert here.stdout.strip() == head.stdout.strip()
    alone = tmp_path / "alone"
    alone.mkdir()
    (alone / "checkout.py").write_text((ROOT / "benchmarks" / "checkout.py").read_text())
    outside = subprocess.run(
        [sys.executable, "-c", code, str(alone)],
        capture_output=True,
        text=True,
        env={**os.environ, "GIT_CEILING_DIRECTORIES": str(tmp_path)},
    )
    assert outside.stdout.strip() == "unknown"


def test_every_benchmark_script_imports() -> None:
    """Each script in benchmarks/ imports against today's package (a moved module broke
    stage_costs.py once, unnoticed): all are loaded, not run, in one fresh process."""
    code = (
        "import importlib.util, pathlib, sys\n"
        "bench = pathlib.Path(sys.argv[1])\n"
        "sys.path.insert(0, str(bench))\n"
        "bad = []\n"
        "for path in sorted(bench.glob('*.py')):\n"
        "    spec = importlib.util.spec_from_file_location('bench_' + path.stem, path)\n"
        "    try:\n"
        "        module = importlib.util.module_from_spec(spec)\n"
        "        sys.modules[spec.name] = module  # dataclasses look their module up\n"
        "        spec.loader.exec_module(module)\n"
        "    except Exception as error:\n"
        "        bad.append(f'{path.name}: {type(error).__name__}: {error}')\n"
        "print('\\n'.join(bad))\n"
        "sys.exit(1 if bad else 0)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(ROOT / "benchmarks")],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
        timeout=300,
    )
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]


def test_the_fresh_seeds_table_names_the_weakest_kind() -> None:
    """benchmarks/docs_seeds.py: one row per half, groups and pairs P / R and the edit kind
    with the lowest group recall (kinds without a recall, such as look-alikes, left out)."""
    import importlib.util
    import math

    from neardup.eval.metrics import EvalReport, KindScore

    script = ROOT / "benchmarks" / "docs_seeds.py"
    spec = importlib.util.spec_from_file_location("docs_seeds", script)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    kinds = [
        KindScore("blur", 0.9, 0.8, 0.85, 10, 9, 8),
        KindScore("same_template", 0.0, math.nan, 0.0, 0, 3, 0),
        KindScore("crop", 1.0, 0.95, 0.97, 20, 19, 19),
    ]
    report = EvalReport(
        KindScore("overall", 0.95, 0.9, 0.92, 30, 28, 27),
        [],
        [],
        groups=KindScore("groups", 0.97, 0.91, 0.94, 30, 28, 27),
        groups_per_kind=kinds,
    )
    assert module.row("3", "test", report, 420, 12.0) == (
        "| 3 | test | 420 | 0.970 / 0.910 | 0.950 / 0.900 | 0.800 (blur) | 12 s |"
    )


def test_the_judge_reads_an_evals_pairs_groups_and_reliability() -> None:
    """benchmarks/judge_halves.py reads back what `neardup eval` prints (`format_report`): the
    pairs' and the groups' overall lines (not a kind of that name below them; `-` as NaN) and
    the reliability rows, and counts the bins off (a gap over 0.05 whose interval leaves out
    the bin's mean), the pair-weighted calibration error and precision from the counts."""
    import importlib.util
    import math

    from neardup.eval.calibration import Bin
    from neardup.eval.metrics import EvalReport, KindScore
    from neardup.eval.table import format_report

    script = ROOT / "benchmarks" / "judge_halves.py"
    spec = importlib.util.spec_from_file_location("judge_halves", script)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    bins = [
        Bin(0.0, 0.1, 300, 0.01, 0.02, (0.01, 0.04)),  # within 0.05
        Bin(0.8, 0.9, 20, 0.85, 1.0, (0.84, 1.0)),  # gap 0.15, but its interval holds 0.85
        Bin(0.8, 0.9, 20, 0.85, 1.0, (0.90, 1.0)),  # gap 0.15, the interval leaves it out
        Bin(0.9, 1.0, 80, 0.99, 0.95, (0.88, 0.98)),  # gap 0.04
    ]
    report = EvalReport(
        KindScore("overall", 0.98, 0.9, 0.94, 100, 92, 90),
        [KindScore("blur", 1.0, 0.5, 0.67, 4, 2, 2), KindScore("overall", 0.1, 0.1, 0.1, 1, 1, 1)],
        [(0.5, 0.97, 0.95, 0.96)],
        threshold=0.85,
        split="test",
        groups=KindScore("groups", 0.97, math.nan, 0.94, 0, 94, 91),
        groups_per_kind=[KindScore("groups", 0.5, 0.5, 0.5, 2, 2, 1)],
        reliability=bins,
    )
    half = module.read_eval(format_report(report))
    assert (half.pairs.precision, half.pairs.recall, half.pairs.correct) == (0.98, 0.9, 90)
    assert half.groups.precision == 0.97 and math.isnan(half.groups.recall)
    assert (half.groups.predicted, half.groups.correct) == (94, 91)
    assert half.groups.exact_precision() == 91 / 94
    assert [(b.pairs, b.confidence, b.duplicates, b.low, b.high) for b in half.bins] == [
        (b.pairs, b.confidence, b.duplicates, *b.likely) for b in bins
    ]
    assert module.bins_off(half.bins) == 1
    gaps = 300 * 0.01 + 20 * 0.15 + 20 * 0.15 + 80 * 0.04
    assert module.calibration_error(half.bins) == pytest.approx(gaps / 420, abs=1e-9)
    assert module.mean_recall([half]) == 0.0  # no half requires pairs: nothing to average


def test_the_fresh_seeds_script_draws_every_seeded_generator() -> None:
    """benchmarks/docs_seeds.py draws all seven seeded generators as the sessions draw them:
    the held set from its fetched sources, the original set from make_eval_set.py, the blind
    set from its own default sources."""
    import importlib.util

    script = ROOT / "benchmarks" / "docs_seeds.py"
    spec = importlib.util.spec_from_file_location("docs_seeds", script)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    here = ROOT / "benchmarks"
    assert set(module.GENERATORS) == {
        "docs",
        "graphics",
        "mixed",
        "photos",
        "held",
        "original",
        "blind",
    }
    for name in module.GENERATORS:
        command = module.generator_command(name, Path("/tmp/eval-x71"), 71)
        script_name = "make_eval_set.py" if name == "original" else f"make_set_{name}.py"
        assert command[1] == str(here / script_name) and (here / script_name).exists()
        assert command[2] == "/tmp/eval-x71" and command[-2:] == ["--seed", "71"]
        assert ("--sources" in command) == (name == "held")
    held = module.generator_command("held", Path("/tmp/eval-held71"), 71)
    assert held[held.index("--sources") + 1] == str(here / "work" / "held")


def test_the_fresh_seeds_script_generates_what_is_missing_and_scores_every_half(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """benchmarks/docs_seeds.py over several generators: a set already generated is not drawn
    again, a missing one is (its own command), and each set's two halves get a row labelled
    with the set and the seed, their caches kept apart per set and half."""
    import importlib.util

    from neardup.eval.metrics import EvalReport, KindScore

    script = ROOT / "benchmarks" / "docs_seeds.py"
    spec = importlib.util.spec_from_file_location("docs_seeds", script)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    (tmp_path / "eval-held71").mkdir()
    (tmp_path / "eval-held71" / "truth.json").write_text("{}")  # drawn before
    drawn: list[list[str]] = []
    monkeypatch.setattr(module.subprocess, "run", lambda command, **_: drawn.append(command))
    report = EvalReport(
        KindScore("overall", 1.0, 1.0, 1.0, 2, 2, 2),
        [],
        [],
        groups=KindScore("groups", 1.0, 0.5, 0.67, 2, 1, 1),
        groups_per_kind=[KindScore("crop", 1.0, 0.5, 0.67, 2, 1, 1)],
    )
    caches: list[str] = []

    def scored(truth: Path, split: str, cache: str) -> tuple[EvalReport, int, float]:
        caches.append(cache)
        return report, 10, 1.0

    monkeypatch.setattr(module, "scored", scored)
    out = tmp_path / "caches"
    argv = ["docs_seeds.py", str(tmp_path), "--seeds", "71", "--set", "held", "original"]
    monkeypatch.setattr(sys, "argv", [*argv, "--cache-dir", str(out)])
    assert module.main() == 0
    assert drawn == [module.generator_command("original", tmp_path / "eval-original71", 71)]
    assert caches == [
        str(out / f"{s}71-{h}.sqlite") for s in ("held", "original") for h in ("calib", "test")
    ]
    table = capsys.readouterr().out.split("\n")
    for label in ("| held 71 | calib |", "| held 71 | test |", "| original 71 | test |"):
        assert any(line.startswith(label) for line in table)


@pytest.mark.parametrize("script", ["judge_halves.py", "run_scan_bench.py"])
def test_a_baseline_without_its_sources_is_refused(tmp_path: Path, script: str) -> None:
    """A `--baseline` folder holding no `src/neardup` (a path mistyped, an archive not made) is
    refused: its scans would otherwise import the installed neardup and compare this checkout
    with itself (session 59: a judge run so compared main with main)."""
    args = ["--baseline", str(tmp_path / "missing")]
    args += [str(tmp_path)] if script == "run_scan_bench.py" else ["--split", "calib", "x"]
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / script), *args],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert "holds no src/neardup" in done.stderr
