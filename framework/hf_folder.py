"""Locating a pretrained Hugging Face model on this machine: a folder, an installed package
holding one, or a GGUF file (dequantized once and cached as a plain folder)."""

from __future__ import annotations

import hashlib
import importlib.util
import os
import re
from pathlib import Path

from framework.errors import PlaitError, install_hint


def models_cache() -> Path:
    """``$PLAIT_CACHE/models`` or ``~/.cache/plait/models``, beside the data cache."""
    from framework.paths import plait_cache

    return plait_cache("models")


def package_folder(package: str, key: str) -> Path:
    """The model an installed package ships, found among its files and never imported (a
    config names the package, and a config may be a stranger's): the package's folder when
    it holds ``config.json`` or a ``.gguf`` file, else its one subfolder that holds a
    ``config.json`` (``model/``). A package that ships no model is refused."""
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", package):
        raise PlaitError(
            f"{key}.package={package!r} is not the name of an installed top-level package; "
            "give path=FOLDER of the model instead"
        )
    spec = importlib.util.find_spec(package)  # a top-level name: nothing is executed
    if spec is None:
        raise install_hint(
            f"{key}: package '{package}'", f"pip install {package.replace('_', '-')}"
        )
    roots = list(spec.submodule_search_locations or [])
    for root in map(Path, roots):
        if (root / "config.json").is_file() or any(root.glob("*.gguf")):
            return root
        inside = sorted(p.parent for p in root.glob("*/config.json"))
        if len(inside) == 1:
            return inside[0]
    raise PlaitError(
        f"{key}.package={package!r} ships no model (no config.json or .gguf file among its "
        "files); name a package that holds a Hugging Face model folder, or give path=FOLDER"
    )


def refuse_remote_code(folder: Path, key: str) -> None:
    """Stop at a model folder whose ``config.json`` asks for Python code of its own
    (``auto_map``): Plait loads Hugging Face folders with ``trust_remote_code=False`` and
    never asks, so such a folder would stop inside ``transformers`` or wait on a prompt."""
    import json

    try:
        config = json.loads((folder / "config.json").read_text("utf-8"))
    except (OSError, ValueError):
        return
    if isinstance(config, dict) and config.get("auto_map"):
        raise PlaitError(
            f"{key}: the model in '{folder}' needs Python code of its own (config.json's "
            "auto_map); Plait runs no code from model folders (trust_remote_code=False): use "
            "a model whose architecture transformers ships"
        )


def quiet_transformers() -> None:
    """No progress bars or advisory logging from ``transformers`` (the run prints its own)."""
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()


def resolve(path: str | None, package: str | None, gguf_file: str | None, key: str) -> Path:
    """A plain Hugging Face folder (``config.json``, weights, tokenizer) for the model that
    ``path`` or ``package`` names; a GGUF file is converted once into the models cache."""
    if (path is None) == (package is None):
        raise PlaitError(f"{key}: give exactly one of path=FOLDER or package=NAME")
    if package is not None:
        folder = package_folder(package, key)
    else:
        folder = Path(str(path)).expanduser()
        if not folder.exists():
            raise PlaitError(f"{key}.path: nothing at '{path}'; give a local model folder")
    if folder.is_file() and folder.suffix == ".gguf":
        folder, gguf_file = folder.parent, folder.name
    if gguf_file is None and folder.is_dir() and not (folder / "config.json").exists():
        found = sorted(p.name for p in folder.glob("*.gguf"))
        gguf_file = found[0] if len(found) == 1 else None
    if gguf_file:
        return _from_gguf(folder, gguf_file, key)
    refuse_remote_code(folder, key)
    return folder


def _from_gguf(folder: Path, gguf_file: str, key: str) -> Path:
    """Dequantize ``folder/gguf_file`` once (about 15 s for 135M parameters) into the cache."""
    source = folder / gguf_file
    if not source.is_file():
        raise PlaitError(f"{key}.gguf_file: no '{gguf_file}' in '{folder}'")
    st = source.stat()
    tag = hashlib.sha256(f"{source.resolve()}|{st.st_size}|{st.st_mtime_ns}".encode()).hexdigest()
    out = models_cache() / f"{source.stem}-{tag[:12]}"
    if (out / "config.json").is_file():
        return out
    from filelock import FileLock

    out.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(f"{out}.lock"):  # a second process waits for the first's conversion
        if (out / "config.json").is_file():
            return out
        return _convert_gguf(folder, gguf_file, key, out)


def _convert_gguf(folder: Path, gguf_file: str, key: str, out: Path) -> Path:
    """Dequantize ``folder/gguf_file`` into the Hugging Face folder ``out``."""
    for module, line in (
        ("gguf", "pip install gguf"),
        ("transformers", "pip install transformers"),
    ):
        if importlib.util.find_spec(module) is None:
            raise install_hint(f"{key}: reading GGUF files ({module})", line)
    from transformers import AutoModelForCausalLM, AutoTokenizer

    quiet_transformers()
    model = AutoModelForCausalLM.from_pretrained(str(folder), gguf_file=gguf_file,
                                                 trust_remote_code=False)  # fmt: skip
    model.hf_quantizer = None  # dequantized on load: save it as the plain float model it is
    model.is_quantized = False
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    tmp = out.with_name(out.name + f".tmp{os.getpid()}")
    model.save_pretrained(str(tmp))
    AutoTokenizer.from_pretrained(
        str(folder), gguf_file=gguf_file, trust_remote_code=False
    ).save_pretrained(str(tmp))
    try:
        os.replace(tmp, out)
    except OSError:
        if not (out / "config.json").is_file():  # not a conversion another process finished
            raise
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)  # two processes converted it at once: one stays
    return out
