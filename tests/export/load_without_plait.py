"""Loads an exported folder with plain transformers, with ``framework`` blocked from import,
and prints JSON.

- ``lm FOLDER TEXT PROMPT``: the token ids of TEXT, the logits on the first ones (the
  model's length) and a greedy pipeline continuation of PROMPT;
- ``classify FOLDER CSV``: the label and class probabilities of each ``text`` of CSV, with
  the encoder, the head file and its ``head.json`` as the export's card says to use them;
- ``adapter FOLDER TEXT``: token ids and last hidden states of TEXT from a peft export loaded
  over its base model.
"""

import importlib.abc
import json
import sys


class NoPlait(importlib.abc.MetaPathFinder):
    """Refuses Plait's package: what runs here is transformers alone."""

    def find_spec(self, name, path=None, target=None):
        if name == "framework" or name.startswith("framework."):
            raise ModuleNotFoundError(f"{name} is blocked: the export must load without Plait")
        return None


def lm(folder: str, text: str, prompt: str) -> dict:
    """Ids, logits and a continuation from ``AutoModelForCausalLM``."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, pipeline

    model = AutoModelForCausalLM.from_pretrained(folder).eval()
    tok = AutoTokenizer.from_pretrained(folder)
    ids = tok(text)["input_ids"]
    with torch.no_grad():
        logits = model(torch.tensor([ids[: model.config.n_positions]])).logits[0]
    generate = pipeline("text-generation", model=model, tokenizer=tok)
    out = generate(prompt, max_new_tokens=12, do_sample=False)[0]["generated_text"]
    return {"ids": ids, "logits": logits.tolist(), "generated": out}


def pool(h, m, how: str):
    """The pooled states, as the card shows."""
    import torch

    if how == "cls":
        return h[:, 0]
    if how == "last":
        return h[torch.arange(len(h)), m.sum(1) - 1]
    if how == "max":
        return h.masked_fill(m[..., None] == 0, float("-inf")).amax(1)
    return (h * m[..., None]).sum(1) / m.sum(1, keepdim=True)


def classify(folder: str, path: str) -> dict:
    """Labels from ``AutoModel`` + ``head.safetensors``."""
    import csv

    import torch
    from safetensors.torch import load_file
    from transformers import AutoModel, AutoTokenizer

    enc, tok = AutoModel.from_pretrained(folder).eval(), AutoTokenizer.from_pretrained(folder)
    head = load_file(f"{folder}/head.safetensors")
    with open(f"{folder}/head.json") as f:
        meta = json.load(f)
    with open(path, newline="", encoding="utf-8") as f:
        texts = [row["text"] for row in csv.DictReader(f)]
    labels, probs = [], []
    for start in range(0, len(texts), 32):
        batch = tok(texts[start : start + 32], return_tensors="pt", padding=True,
                    truncation=True, max_length=meta["max_length"])  # fmt: skip
        with torch.no_grad():
            h = enc(**batch).last_hidden_state
        pooled = pool(h, batch["attention_mask"], meta["pooling"])
        logits = pooled @ head["weight"].T + head["bias"]
        labels += [meta["labels"][i] for i in logits.argmax(-1)]
        probs += logits.softmax(-1).tolist()
    return {"labels": labels, "probabilities": probs}


def adapter(folder: str, text: str) -> dict:
    """Last hidden states of TEXT from ``PeftModel.from_pretrained`` over the base folder
    the adapter config names."""
    import torch
    from peft import PeftConfig, PeftModel
    from transformers import AutoModel, AutoTokenizer

    base_folder = PeftConfig.from_pretrained(folder).base_model_name_or_path
    model = PeftModel.from_pretrained(AutoModel.from_pretrained(base_folder), folder).eval()
    batch = AutoTokenizer.from_pretrained(folder)([text], return_tensors="pt")
    with torch.no_grad():
        states = model(**batch).last_hidden_state[0]
    return {"ids": batch["input_ids"][0].tolist(), "states": states.tolist()}


def main() -> None:
    """Run the mode the first argument names."""
    sys.meta_path.insert(0, NoPlait())
    mode, *args = sys.argv[1:]
    out = {"lm": lm, "classify": classify, "adapter": adapter}[mode](*args)
    out["plait_absent"] = "framework" not in sys.modules
    print(json.dumps(out))


if __name__ == "__main__":
    main()
