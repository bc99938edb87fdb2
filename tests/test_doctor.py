"""`plait doctor`: true facts about this machine (checked against torch and the OS), a
recipe's memory needs with measured activations, and advice that follows from them."""

from __future__ import annotations

import json
import os

import torch

from tests.conftest import TINY_LM


def test_activations_are_the_tensors_the_backward_pass_keeps():
    from torch import nn

    from framework.datainfo import DataInfo
    from framework.models.footprint import activation_bytes

    model = nn.Sequential(nn.Linear(10, 20), nn.ReLU(), nn.Linear(20, 3))
    # the input (10 floats) for the first weight's gradient, the ReLU's output (20 floats,
    # one storage kept by the ReLU and the second linear layer); no weight counted
    assert activation_bytes(model, DataInfo(image_shape=[10])) == (10 + 20) * 4


def test_doctor_reports_this_machine_and_advises_for_a_recipe(cli):
    import torch.distributed as dist

    from framework.training.hardware import resolve_precision

    proc = cli("doctor", "--json", *TINY_LM, "trainer.precision=auto")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    m = doc["machine"]
    from framework.training.threads import usable_cpus

    assert m["cores"] == os.cpu_count() and m["usable_cores"] == usable_cpus()
    assert m["usable_cores"] <= len(os.sched_getaffinity(0))  # a cgroup quota may cap it
    assert m["memory"] == os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    assert 0 < m["available_memory"] <= m["memory"]
    assert len(m["gpus"]) == (torch.cuda.device_count() if torch.cuda.is_available() else 0)
    assert (m["torch"], m["cuda"]) == (torch.__version__, torch.version.cuda)
    assert m["gloo"] == dist.is_gloo_available() and m["nccl"] == dist.is_nccl_available()
    with open("/proc/cpuinfo", encoding="utf-8") as fh:
        model_name = next(x for x in fh if x.startswith("model name")).split(":", 1)[1].strip()
    assert m["cpu"] == model_name

    need, advice = doc["needs"], doc["advice"]
    accelerator = "gpu" if m["gpus"] else "cpu"
    assert advice["accelerator"] == accelerator
    assert advice["precision"] == need["precision"] == resolve_precision("auto", accelerator)
    if accelerator == "cpu":
        assert advice["hardware"] == "hardware=cpu" and advice["devices"] == 1
    assert need["weights"] == need["params"] * 4 and need["activations_per_example"] > 0
    fits = (advice["budget"] - need["state"]) // need["activations_per_example"]
    assert advice["max_batch"] == fits >= need["batch"] == 8
    assert advice["accumulate"] == 1


def test_a_batch_that_does_not_fit_is_split_by_accumulation(cli):
    proc = cli("doctor", "--json", *TINY_LM, "trainer.batch_size=100000000")
    assert proc.returncode == 0, proc.stderr
    advice = json.loads(proc.stdout)["advice"]
    assert 0 < advice["max_batch"] < 100_000_000
    assert advice["accumulate"] * advice["max_batch"] >= 100_000_000
    assert any("does not fit" in note for note in advice["notes"])


def test_auto_picks_what_this_machine_has(registry):
    found = torch.cuda.device_count() if torch.cuda.is_available() else 0
    built = registry.build("hardware", {"_name_": "auto"})
    if found == 0:
        # threads: null, chosen when the run starts (framework.training.threads)
        assert built == {
            "accelerator": "cpu",
            "devices": 1,
            "threads": None,
            "precision": "32-true",
        }
    else:
        assert (built["accelerator"], built["devices"]) == ("gpu", found)


def test_doctor_says_which_data_engine_the_corpus_needs(cli, tmp_path):
    import dataclasses

    from framework.doctor import RAY_MEMORY_FACTOR, engine_advice
    from framework.machine import machine

    corpus = tmp_path / "c.jsonl"
    corpus.write_text("".join(json.dumps({"text": f"record {i} of {i * 7}"}) + "\n"
                              for i in range(5000)))  # fmt: skip
    proc = cli("doctor", "--json", "~recipe", "data/source=jsonl", f"data.source.paths=[{corpus}]",
               "model=gpt_tiny", "data.tokenizer.vocab_size=300")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    advice = json.loads(proc.stdout)["advice"]
    assert advice["data_engine"] == "data/engine=local"
    from framework.models.footprint import human

    assert human(corpus.stat().st_size, "B") in advice["data_note"]
    here = machine()
    small = dataclasses.replace(here, available_memory=corpus.stat().st_size * RAY_MEMORY_FACTOR
                                - 1)  # fmt: skip
    assert engine_advice(corpus.stat().st_size, small)[0].startswith("data/engine=ray")
    assert engine_advice(None, here)[0] == "data/engine=local"
