"""``--estimate``: a timed trial of the recipe predicts the whole ``plait train``. The
prediction is checked against the measured run (a ratio) on two kinds of recipe: a
bag-of-n-grams classifier on the tweets and a small GPT on Python code."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest
from omegaconf import OmegaConf

from framework.estimate import count_validations, gpu_peak
from tests.quiet import wait_until_quiet

RECIPES = {
    "classifier": ["recipe=tweets_fasttext", "trainer.max_steps=600", "trainer.val_every=200",
                   "trainer.ckpt_every=200"],
    "language model": ["recipe=stdlib_gpt", "model=gpt_tiny", "data.source.max_chars=300000",
                       "trainer.max_steps=150", "trainer.val_every=50", "trainer.ckpt_every=50",
                       "trainer.batch_size=8", "data.max_length=64"],
}  # fmt: skip


def test_validations_are_counted_the_way_the_engine_runs_them():
    assert count_validations(3000, 500, at_start=False) == 6
    assert count_validations(3000, 500, at_start=True) == 7
    assert count_validations(100, 250, at_start=False) == 1  # a short run ends validated


def test_a_run_ending_with_a_whole_validation_reuses_its_outputs_in_the_evaluation(registry):
    from framework.config.compose import compose
    from framework.estimate import reuses_validation

    base = ["recipe=tweets_minilm_fast", "trainer.val_batches=0", "eval=true"]
    assert reuses_validation(compose(registry, base))  # 600 steps, validated at the last
    assert not reuses_validation(compose(registry, [*base, "trainer.val_every=250"]))
    assert not reuses_validation(compose(registry, [*base, "trainer.val_batches=5"]))
    assert not reuses_validation(compose(registry, [*base, "eval=false"]))
    assert reuses_validation(compose(registry, [*base, "trainer.val_every=1000"]))  # ends validated


def test_gpu_peaks_are_known_by_name_and_precision():
    assert gpu_peak("NVIDIA H100 80GB HBM3", sixteen_bit=True) == 989e12
    assert gpu_peak("NVIDIA H100 80GB HBM3", sixteen_bit=False) == 67e12
    assert gpu_peak("Some Future GPU", sixteen_bit=True) is None


def estimate_and_run(plait, folder: Path, args: list[str]) -> tuple[float, float, dict]:
    """``plait doctor --estimate`` then ``plait train`` of ``args``, each in its own process,
    in ``folder``, once the cores are quiet: (predicted / measured wall time, measured
    seconds, the estimate and what the cores were doing before)."""
    load = wait_until_quiet()
    proc = plait("doctor", "--estimate", "--json", *args, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    predicted = json.loads(proc.stdout)["estimate"]
    steps = next(a for a in args if a.startswith("trainer.max_steps="))
    assert predicted["steps"] == int(steps.split("=")[1])
    load += "; before the run: " + wait_until_quiet()
    began = time.perf_counter()
    proc = plait("train", *args, "hydra.run.dir=run", timeout=600)
    measured = time.perf_counter() - began
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert predicted["threads"] >= 1  # what the trial ran with, beside what the run chose
    ran = OmegaConf.load(folder / "run" / "config.yaml").hardware.threads
    shutil.rmtree(folder / "run")
    seen = {**predicted, "load": load, "run_threads": ran}
    return predicted["total_s"] / measured, measured, seen


@pytest.mark.timing
@pytest.mark.parametrize("kind", RECIPES)
def test_the_estimate_is_within_30_percent_of_the_run(plait, tmp_path, kind):
    """A second measurement is taken only when the first misses: a burst of other work on a
    shared machine slows one of the two processes once, a wrong estimate misses twice."""
    args = [*RECIPES[kind], "eval=true"]  # the evaluation and its report are part of the run
    tries = []
    for _ in range(2):
        ratio, measured, predicted = estimate_and_run(plait, tmp_path, args)
        tries.append(f"ratio {ratio:.2f}, measured {measured:.1f} s, {json.dumps(predicted)}")
        if 0.7 <= ratio <= 1.3:
            break
    assert 0.7 <= ratio <= 1.3, f"{kind}: " + " | then: ".join(tries)


def test_the_trial_is_short_and_logs_nowhere_but_its_own_folder(registry):
    from framework.config.compose import compose
    from framework.estimate import trial_config

    cfg = compose(registry, ["recipe=tweets_fasttext", "logger=[csv,mlflow]"])
    trial = trial_config(cfg, 20, 4)
    assert trial.trainer.max_steps == 20 and trial.trainer.val_every == 20
    assert trial.trainer.val_batches == 4 and trial.trainer.val_at_start is False
    assert list(trial.logger) == ["csv"] and cfg.trainer.max_steps == 3000  # a copy
