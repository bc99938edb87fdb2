"""`plait data` on the real tweets recipe: every step's counts, examples, the cache."""

from __future__ import annotations

import json


def test_plait_data_on_tweets_shows_each_step_and_reuses_the_cache(plait, tmp_path):
    proc = plait("data", "recipe=tweets_sentiment", timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    report = json.loads((tmp_path / "runs/tweets_sentiment/data_report.json").read_text())
    steps = {s["name"]: s for s in report["steps"]}
    exact, near = steps["dedupe_exact"], steps["dedupe_minhash"]
    assert exact["rows_in"] == 38_158 and exact["rows_in"] - exact["rows_out"] == 915
    assert near["rows_out"] < near["rows_in"] and len(near["removed_examples"]) == 3
    assert all("≈" in e for e in near["removed_examples"])
    assert steps["whitespace"]["changed"] > 1000
    assert sum(report["splits"].values()) == near["rows_out"] - sum(
        s["rows_in"] - s["rows_out"] for s in report["steps"] if s["name"].startswith("overlap")
    )
    assert report["cache"] == "miss"
    for line in ("dedupe_exact", "dedupe_minhash", "38,158", "37,243", "negative"):
        assert line in proc.stdout
    assert json.loads((tmp_path / "runs/tweets_sentiment/labels.json").read_text()) == [
        "negative",
        "neutral",
        "positive",
    ]
    again = plait("data", "recipe=tweets_sentiment")
    assert again.returncode == 0 and "cache: hit" in again.stdout


def test_plait_data_streaming_counts_what_it_holds(plait, tmp_path):
    proc = plait(
        "data",
        "data.streaming=true",
        "data.source.max_chars=300000",
        "data.tokenizer.vocab_size=300",
        "data.stream_val_blocks=20",
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    report = json.loads((tmp_path / "runs/stdlib_gpt/data_report.json").read_text())
    assert report["splits"] == {"train": -1, "val": 20} and "streamed" in proc.stdout
