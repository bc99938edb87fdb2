"""The GPU path: tokens/s and model FLOPs utilisation of a GPT, Plait's engine against a
hand-written PyTorch loop on the same model, data, precision and optimizer, in one process.

    python bench/gpu.py [--steps 60] [--size 125m|small] [--no-compile] [--out FILE]
    python bench/gpu.py --smoke          # CPU, a tiny GPT, seconds: the script still works

GPU settings on both sides: bf16-mixed autocast, SDPA attention (flash where the GPU has it),
fused AdamW, ``torch.compile``, pinned memory. ``125m``: 12 blocks of width 768, 12 heads,
1,024 tokens per sequence, vocabulary 32,768 (about 120M parameters); ``small``: the
``gpt_small`` preset. Tokens/s is measured over the steps after the first ``--steps // 3``
(compilation and warm-up left out); MFU = 6 x parameters x tokens/s / the GPU's peak dense
bf16 FLOP/s (attention FLOPs not counted: a lower bound).
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

PEAK_BF16 = {"H100": 989e12, "H200": 989e12, "H800": 989e12, "A100": 312e12, "A10": 125e12,
             "L4": 121e12, "L40": 181e12, "4090": 165e12}  # fmt: skip
"""Dense bf16 tensor-core FLOP/s by GPU name (vendor data sheets, without sparsity)."""

SIZES = {
    "125m": ["model=gpt", "model.n_layer=12", "model.d_model=768", "model.n_head=12",
             "data.max_length=1024", "data.tokenizer.vocab_size=32768", "trainer.batch_size=16",
             "data.source.max_chars=40000000"],
    "small": ["model=gpt_small", "data.max_length=512", "data.tokenizer.vocab_size=8192",
              "trainer.batch_size=32", "data.source.max_chars=20000000"],
    "smoke": ["model=gpt_tiny", "data.max_length=64", "data.tokenizer.vocab_size=512",
              "trainer.batch_size=4", "data.source.max_chars=300000"],
}  # fmt: skip


def rate(times: list[float], skip: int) -> float:
    """Steps per second after the first ``skip`` steps."""
    t = times[skip:]
    return (len(t) - 1) / (t[-1] - t[0])


def overrides(size: str, steps: int, gpu: bool, compile_: bool) -> list[str]:
    """The recipe: the default recipe's data at ``size``, no validation, checkpoints or
    samples in the measured steps."""
    return [
        "recipe=stdlib_gpt", *SIZES[size], f"trainer.max_steps={steps}",
        f"trainer.val_every={steps * 10}", f"trainer.ckpt_every={steps * 10}",
        "trainer.val_at_start=false", "samples.prompts=[]", "eval=false", "logger=[]",
        "callback=[step_timer]", f"trainer.log_every={max(1, steps // 3)}",
        *(["hardware=gpu", "trainer.precision=bf16-mixed", "optimizer.fused=true",
           "trainer.num_workers=4"] if gpu else ["hardware=cpu", "trainer.precision=32-true"]),
        *(["trainer.compile=true"] if compile_ else []),
    ]  # fmt: skip


def raw_loop(cfg: Any, registry: Any, data: Any, gpu: bool, compile_: bool) -> list[float]:
    """The baseline a PyTorch user writes: same model, data, optimizer and precision."""
    import torch
    import torch.nn.functional as F
    from torch.utils.data import DataLoader, RandomSampler

    from framework.finetune.param_groups import param_groups

    device = torch.device("cuda" if gpu else "cpu")
    torch.manual_seed(cfg.seed)
    model = registry.build("model", cfg.model, info=data.info).to(device)
    model.train()
    opt = torch.optim.AdamW(param_groups(model), lr=cfg.optimizer.lr,
                            weight_decay=cfg.optimizer.weight_decay, fused=gpu or None)  # fmt: skip
    step_fn = torch.compile(model) if compile_ else model
    loader = DataLoader(data.datasets["train"], batch_size=cfg.trainer.batch_size,
                        sampler=RandomSampler(data.datasets["train"]), drop_last=True,
                        pin_memory=gpu, num_workers=4 if gpu else 0)  # fmt: skip
    times: list[float] = []
    while len(times) < cfg.trainer.max_steps:
        for x, y in loader:
            x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=gpu):
                logits = step_fn(x)
                loss = F.cross_entropy(logits.reshape(-1, logits.size(-1)).float(), y.reshape(-1))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.trainer.grad_clip)
            opt.step()
            if gpu:
                torch.cuda.synchronize()
            times.append(time.perf_counter())
            if len(times) == cfg.trainer.max_steps:
                break
    return times


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=60)
    p.add_argument("--size", choices=("125m", "small"), default="125m")
    p.add_argument("--no-compile", action="store_true")
    p.add_argument("--smoke", action="store_true", help="CPU, tiny GPT, few steps")
    p.add_argument("--out", type=Path, default=Path("bench/results/gpu.json"))
    args = p.parse_args()
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    import torch

    from framework.config.compose import compose
    from framework.data.stage import prepare_data
    from framework.engine import train
    from framework.models.sizing import count_params
    from framework.registry import default_registry

    gpu = torch.cuda.is_available() and not args.smoke
    size, steps = ("smoke", min(args.steps, 12)) if args.smoke else (args.size, args.steps)
    compile_ = gpu and not args.no_compile
    registry = default_registry()
    engine_times: list[float] = []

    def step_timer() -> Any:
        """Records the end of every training step (benchmark only)."""
        import lightning as L

        class StepTimer(L.Callback):
            def on_train_batch_end(self, trainer: Any, *a: Any) -> None:
                if gpu:
                    torch.cuda.synchronize()
                engine_times.append(time.perf_counter())

        return StepTimer()

    registry.load_provider("bench", lambda r: r.add("callback", "step_timer", step_timer))
    cfg = compose(registry, overrides(size, steps, gpu, compile_))
    data = prepare_data(cfg.data, registry.build("task", cfg.task), registry, cfg.seed)
    params = count_params(registry.build("model", cfg.model, info=data.info))
    raw_times = raw_loop(cfg, registry, data, gpu, compile_)
    train(cfg, registry, tempfile.mkdtemp(prefix="plait-bench-gpu-"))
    skip = max(1, steps // 3)
    tokens = cfg.trainer.batch_size * cfg.data.max_length
    raw, engine = rate(raw_times, skip) * tokens, rate(engine_times, skip) * tokens
    name = torch.cuda.get_device_name(0) if gpu else "CPU (smoke)"
    peak = next((v for k, v in PEAK_BF16.items() if k in name), None) if gpu else None
    result = {
        "device": name, "size": size, "parameters": params, "steps": steps,
        "tokens_per_step": tokens, "compile": compile_,
        "raw_tokens_per_s": round(raw), "engine_tokens_per_s": round(engine),
        "ratio_engine_over_raw": round(engine / raw, 3),
        "mfu_raw": round(6 * params * raw / peak, 3) if peak else None,
        "mfu_engine": round(6 * params * engine / peak, 3) if peak else None,
    }  # fmt: skip
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
