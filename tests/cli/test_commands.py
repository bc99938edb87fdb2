"""plait --help, list and show."""

from __future__ import annotations

import os
import re
import subprocess
import sys

from framework.registry import KINDS


def test_help_and_list_do_not_import_torch():
    code = (
        "import sys, contextlib, io\n"
        "from framework.cli.main import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    main(['list'])\n"
        "heavy = [m for m in ('torch', 'lightning', 'datasets') if m in sys.modules]\n"
        "print(heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_list_shows_every_builtin_with_provider(plait, registry):
    proc = plait("list")
    assert proc.returncode == 0, proc.stderr
    for kind in KINDS:
        assert f"{kind}  (" in proc.stdout
        for name in registry.names(kind):
            assert f" {name} " in proc.stdout, (kind, name)
    assert proc.stdout.count(" plait ") >= sum(len(registry.names(k)) for k in KINDS)


def test_show_prints_the_config_and_the_true_parameter_count(plait, registry):
    import re

    small = "data.source.max_chars=300000"  # the recipe's data stage, on a slice
    proc = plait("show", "recipe=stdlib_gpt", small)
    assert proc.returncode == 0, proc.stderr
    from framework.config.compose import compose
    from framework.datainfo import DataInfo

    cfg = compose(registry, ["recipe=stdlib_gpt", small])
    assert f"max_steps: {cfg.trainer.max_steps}" in proc.stdout
    vocab = int(re.search(r"vocabulary ([\d,]+)", proc.stdout).group(1).replace(",", ""))
    assert 1000 < vocab <= cfg.data.tokenizer.vocab_size  # the tokenizer trained on the slice
    info = DataInfo(vocab_size=vocab, max_length=cfg.data.max_length)
    model = registry.build("model", cfg.model, info=info)
    total = sum(p.numel() for p in model.parameters())
    assert f"{total:,}" in proc.stdout


def test_show_reflects_overrides(plait):
    proc = plait("show", "model=gpt_tiny", "data.tokenizer.vocab_size=1000", "data.max_length=64",
                 "data.source.max_chars=300000")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    # tok_emb 1000x32 (tied head) + pos_emb 64x32 + 2 blocks of 12 * 32^2 + 5 LayerNorms of 32
    expected = 1000 * 32 + 64 * 32 + 2 * 12 * 32 * 32 + 5 * 32
    assert f"{expected:,}" in proc.stdout


def test_a_second_show_of_a_model_reads_its_measured_facts_without_importing_torch(tmp_path):
    from tests.conftest import run_plait

    args = ["show", "model=gpt_tiny", "data.source.max_chars=100000", "data.max_length=48"]
    first = run_plait(args, tmp_path)
    assert first.returncode == 0, first.stderr
    probe = (
        "import runpy, sys\n"
        f"sys.argv = ['plait', *{args!r}]\n"
        "try:\n    runpy.run_module('framework', run_name='__main__')\n"
        "except SystemExit:\n    pass\n"
        "print('torch imported:', 'torch' in sys.modules)\n"
    )
    env = {**os.environ, "COLUMNS": "200"}
    again = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, env=env,
                           capture_output=True, text=True)  # fmt: skip
    assert again.stdout.splitlines()[-1] == "torch imported: False", again.stderr[-2000:]
    assert again.stdout.rsplit("\n", 2)[0] + "\n" == first.stdout
    # another sequence length is another model (position table): measured afresh
    longer = run_plait([*args, "data.max_length=64"], tmp_path)
    assert longer.returncode == 0, longer.stderr
    totals = [re.search(r"total\s+│\s+([\d,]+)", p.stdout).group(1) for p in (first, longer)]
    assert int(totals[1].replace(",", "")) - int(totals[0].replace(",", "")) == 16 * 32


def test_docs_config_reference_is_generated_from_the_registry(registry):
    from framework.cli.listing import reference_markdown
    from tests.conftest import REPO

    expected = reference_markdown(registry)
    assert (REPO / "docs/reference.md").read_text() == expected, (
        "docs/reference.md is stale: run `plait list --markdown > docs/reference.md`"
    )
    for kind in KINDS:
        for name in registry.names(kind):
            assert f"={name}`" in expected
