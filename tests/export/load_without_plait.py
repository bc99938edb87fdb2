"""Loads an exported folder with plain transformers, with ``framework`` blocked from import;
prints the token ids of a text, the logits on the first ones (the model's length) and a
greedy pipeline continuation of a prompt as JSON.

Usage: python load_without_plait.py FOLDER TEXT PROMPT"""

import importlib.abc
import json
import sys


class NoPlait(importlib.abc.MetaPathFinder):
    """Refuses Plait's package: what runs here is transformers alone."""

    def find_spec(self, name, path=None, target=None):
        if name == "framework" or name.startswith("framework."):
            raise ModuleNotFoundError(f"{name} is blocked: the export must load without Plait")
        return None


def main() -> None:
    """Print the JSON described above."""
    sys.meta_path.insert(0, NoPlait())
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, pipeline

    folder, text, prompt = sys.argv[1:4]
    model = AutoModelForCausalLM.from_pretrained(folder).eval()
    tok = AutoTokenizer.from_pretrained(folder)
    ids = tok(text)["input_ids"]
    with torch.no_grad():
        logits = model(torch.tensor([ids[: model.config.n_positions]])).logits[0]
    generate = pipeline("text-generation", model=model, tokenizer=tok)
    out = generate(prompt, max_new_tokens=12, do_sample=False)[0]["generated_text"]
    blocked = "framework" not in sys.modules
    print(json.dumps({"ids": ids, "logits": logits.tolist(), "generated": out,
                      "plait_absent": blocked}))  # fmt: skip


if __name__ == "__main__":
    main()
