"""data/engine=ray on a real two-node Ray cluster (``ray.cluster_utils.Cluster``, one CPU
each) against the local engine, on a GCIDE slice with planted exact and near duplicates."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import ray
from omegaconf import OmegaConf

from framework.data.stage import DataStage
from framework.tasks.causal_lm import causal_lm
from framework.training.datamodule import PlaitDataModule

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.xdist_group("ray")  # one worker builds the cluster and both engines,
# once: session fixtures outlive the other modules whose tests run between these


@pytest.fixture(scope="session")
def cluster():
    """Two Ray nodes of one CPU each on this machine; this process is the driver."""
    from ray.cluster_utils import Cluster

    c = Cluster(initialize_head=True, head_node_args={"num_cpus": 1})
    c.add_node(num_cpus=1)
    ray.init(address=c.address, log_to_driver=False)
    yield c
    ray.shutdown()
    c.shutdown()


@pytest.fixture(scope="session")
def corpus(tmp_path_factory):
    """1,500 GCIDE entries, 60 of them repeated exactly and 60 with one word changed, in
    four JSON Lines files (a glob)."""
    from framework.data.sources.corpora import gcide_entries

    entries = []
    for _name, text in gcide_entries():
        if len(text) > 200:
            entries.append(text)
        if len(entries) == 1500:
            break
    rng = random.Random(0)
    records = [*entries, *rng.sample(entries, 60)]
    for text in rng.sample(entries, 60):
        words = text.split()
        words[len(words) // 2] = "zzz"
        records.append(" ".join(words))
    rng.shuffle(records)
    folder = tmp_path_factory.mktemp("corpus")
    for k in range(4):  # four files: the Ray engine reads one per task
        part = records[k * len(records) // 4 : (k + 1) * len(records) // 4]
        (folder / f"gcide-{k}.jsonl").write_text(
            "".join(json.dumps({"text": t}) + "\n" for t in part), "utf-8"
        )
    return folder / "*.jsonl"


def data_cfg(path: Path, engine: str, **over):
    cfg = {
        "source": {"_name_": "jsonl", "paths": [str(path)]},
        "curate": {
            "normalize": {"_name_": "normalize"},
            "dedupe_exact": {"_name_": "dedupe_exact"},
            "dedupe_minhash": {"_name_": "dedupe_minhash", "threshold": 0.7},
        },
        "clean": {"whitespace": {"_name_": "whitespace"}},
        "tokenizer": {"_name_": "bpe", "vocab_size": 400},
        "split": {"_name_": "random", "val": 0.1},
        "balance": None,
        "max_length": 32,
        "num_proc": 1,
        "cache": True,
        "streaming": False,
        "tokenizer_max_chars": 200_000,
        "engine": {"name": engine, "address": None, "num_cpus": None, "object_store_mb": None,
                   "cpus_per_task": 1.0, "block_rows": 300, "shard_rows": 250},
    }  # fmt: skip
    out = OmegaConf.create(cfg)
    for key, value in over.items():
        OmegaConf.update(out, key, value, force_add=True)
    return out


def counts(report):
    """Every step's counts and examples (the data stage's: not how training reads them)."""
    return [(s.stage, s.name, s.rows_in, s.rows_out, s.changed, s.removed_examples,
             s.changed_examples) for s in report.steps if s.name != "train (stream)"]  # fmt: skip


def first_batches(prepared, n=3):
    dm = PlaitDataModule(prepared.datasets, batch_size=8, seed=5, num_workers=2)
    out = []
    for i, (x, y) in enumerate(dm.train_dataloader()):
        out.append((x.tolist(), y.tolist()))
        if i + 1 == n:
            return out
    return out


@pytest.fixture(scope="session")
def both(cluster, corpus, tmp_path_factory):
    """The same data config prepared by the local engine, then by Ray (separate caches)."""
    from framework.data.sources import ranges
    from framework.registry import default_registry

    registry = default_registry()
    out, caches = {}, {}
    for engine in ("local", "ray"):
        caches[engine] = str(tmp_path_factory.mktemp(f"cache-{engine}"))
        cfg = data_cfg(corpus, engine, train_stream=True)  # Ray: its default; local: asked
        with pytest.MonkeyPatch.context() as mp:  # each 250 KB file in byte ranges
            mp.setenv("PLAIT_CACHE", caches[engine])
            mp.setattr(ranges, "RANGE_BYTES", 40_000)
            out[engine] = DataStage(cfg, causal_lm(), registry, seed=3).prepare()
    out["caches"] = caches
    return out


def test_ray_keeps_the_local_records_tokens_report_and_batches(both, monkeypatch):
    local, far = both["local"], both["ray"]
    assert [s.rows_out for s in local.report.steps if s.name.startswith("dedupe")] == [1560, 1500]
    assert counts(far.report) == counts(local.report)
    assert far.report.steps[0].note.startswith("read in 24 pieces")  # 4 files, 6 ranges each
    for split in ("train", "val"):
        assert far.tables.splits[split]["_row"] == local.tables.splits[split]["_row"]
        assert far.tables.splits[split]["input_ids"] == local.tables.splits[split]["input_ids"]
    assert far.tokenizer.to_str() == local.tokenizer.to_str()
    # training streams the Ray engine's shard files where they lie (two workers, each its own
    # shards), and gets the blocks the local engine's table gives in the same stream
    from framework.data.ray.stage import work_folder
    from framework.data.shard_stream import TokenShards

    monkeypatch.setenv("PLAIT_CACHE", both["caches"]["ray"])
    stream = far.datasets["train"]
    assert isinstance(stream, TokenShards) and len(stream.shards) == 6  # 1,264 / 250 records
    shard_files = {Path(f["filename"]).parent for f in far.tables.splits["train"].cache_files}
    assert shard_files == {work_folder(far.report.fingerprint) / "shards" / "train"}
    assert first_batches(far) == first_batches(local)


def test_the_data_cache_refers_to_the_ray_shards_without_copying_them(
    cluster, corpus, both, monkeypatch
):
    from framework.data.cache import cache_root
    from framework.data.ray.stage import work_folder
    from framework.registry import default_registry

    monkeypatch.setenv("PLAIT_CACHE", both["caches"]["ray"])
    fp = both["ray"].report.fingerprint
    work, entry = work_folder(fp), cache_root() / fp
    assert not (work / "curated").exists()  # only a killed stage needed the parts
    assert not (entry / "splits" / "train").exists()  # no copy of the shards
    again = DataStage(data_cfg(corpus, "ray", train_stream=True), causal_lm(),
                      default_registry(), seed=3).prepare()  # fmt: skip
    assert again.report.cache == "hit"
    files = {Path(f["filename"]) for f in again.tables.splits["train"].cache_files}
    assert files == set((work / "shards" / "train").glob("*.arrow"))
    assert first_batches(again) == first_batches(both["ray"])
    # shards removed by hand: the entry that refers to them is a miss, and is stored anew
    from framework.data import cache

    shutil.rmtree(work / "shards")
    assert cache.lookup(fp) is None and not entry.exists()


def test_a_worker_killed_mid_stage_is_retried_with_the_same_result(
    cluster, corpus, both, tmp_path, monkeypatch
):
    from framework.data.steps import TextMap
    from framework.registry import default_registry

    flag = tmp_path / "killed-once"

    def kill_once(path: str = str(flag)):
        """A clean step that kills its Ray worker the first time it runs."""

        def fn(text):
            if not os.path.exists(path):
                Path(path).write_text("x")
                os._exit(1)
            return text

        return TextMap(fn)

    registry = default_registry()
    registry.add("clean", "kill_once", kill_once, streams=True)
    monkeypatch.setenv("PLAIT_CACHE", str(tmp_path / "cache"))
    cfg = data_cfg(corpus, "ray")
    OmegaConf.update(cfg, "clean.kill", {"_name_": "kill_once"}, force_add=True)
    tables = DataStage(cfg, causal_lm(), registry, seed=3).tables()
    assert flag.is_file()  # a worker did die
    want = both["local"].tables
    assert tables.splits["train"]["_row"] == want.splits["train"]["_row"]
    assert tables.splits["train"]["input_ids"] == want.splits["train"]["input_ids"]
    assert [c for c in counts(tables.report) if c[1] != "kill"] == counts(want.report)


DRIVER = """
import os, sys
import ray
ray.init(address=sys.argv[2], log_to_driver=False)
sys.path.insert(0, sys.argv[3])
from omegaconf import OmegaConf
from framework.data.stage import DataStage
from framework.registry import default_registry
from framework.tasks.causal_lm import causal_lm

cfg = OmegaConf.create(open(sys.argv[1]).read())
DataStage(cfg, causal_lm(), default_registry(), seed=3).tables()
"""


def test_a_killed_driver_resumes_from_its_finished_shards(
    cluster, corpus, both, tmp_path, monkeypatch
):
    cache = tmp_path / "cache"
    cfg = data_cfg(corpus, "ray", **{"engine.shard_rows": 20})
    (tmp_path / "cfg.yaml").write_text(OmegaConf.to_yaml(cfg))
    env = {**os.environ, "PLAIT_CACHE": str(cache)}
    proc = subprocess.Popen(
        [sys.executable, "-c", DRIVER, str(tmp_path / "cfg.yaml"), cluster.address, str(REPO)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    marks: list[Path] = []
    deadline = time.time() + 240
    while time.time() < deadline and proc.poll() is None:
        marks = sorted((cache / "ray").glob("*/shards/train/*.done"))
        if len(marks) >= 10:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    total = -(-len(both["local"].tables.splits["train"]) // 20)
    before = {p.name: json.loads(p.read_text())["attempt"] for p in marks}
    assert 10 <= len(before) < total, "the driver was to be killed mid-stage"

    monkeypatch.setenv("PLAIT_CACHE", str(cache))
    from framework.registry import default_registry

    tables = DataStage(cfg, causal_lm(), default_registry(), seed=3).tables()
    after = {p.name: json.loads(p.read_text())["attempt"]
             for p in (cache / "ray").glob("*/shards/train/*.done")}  # fmt: skip
    assert len(after) == total
    assert all(after[name] == attempt for name, attempt in before.items())  # none rewritten
    assert "shards reused" in tables.report.steps[-1].note
    want = both["local"].tables
    assert tables.splits["train"]["input_ids"] == want.splits["train"]["input_ids"]
    assert tables.splits["val"]["_row"] == want.splits["val"]["_row"]


@pytest.mark.parametrize("clusters", ["kept", "components"])
def test_ray_minhash_clusters_as_the_local_engine_does(cluster, clusters):
    import datasets

    from framework.data import curate
    from framework.data.ray import dedupe
    from framework.data.ray.context import RayContext
    from framework.data.steps import StepContext
    from tests.data.test_steps import chain

    texts = chain()
    step = curate.dedupe_minhash(threshold=0.8, clusters=clusters)
    local = step(datasets.Dataset.from_dict({"text": texts, "_row": list(range(7))}),
                 StepContext(name="dedupe_minhash"))  # fmt: skip
    blocks = ray.data.from_items([{"text": t, "_row": i} for i, t in enumerate(texts)])
    ctx = RayContext("dedupe_minhash", "curate", len(texts), 0, 1.0, 2)
    far, rec = dedupe.dedupe_minhash(step, blocks.repartition(3), ctx)
    assert sorted(r["_row"] for r in far.take_all()) == local["_row"]
    assert rec.rows_out == len(local) == (6 if clusters == "kept" else 5)


def test_ray_missing_is_one_line_naming_the_extra(monkeypatch):
    from framework.data.ray import cluster

    monkeypatch.setattr(cluster.importlib.util, "find_spec", lambda name: None)
    problems = cluster.engine_problems({"engine": {"name": "ray", "address": None}})
    assert problems == [
        "data/engine=ray needs Ray Data, which is not installed: pip install 'plait[ray]'"
    ]
    assert cluster.engine_problems({"engine": {"name": "local"}}) == []
