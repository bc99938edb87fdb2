"""Shared fixtures: offline hub, a fresh registry, a clean Hydra, the CLI in a subprocess."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# every session starts with an empty data cache of its own (subprocesses inherit it; the
# workers of `pytest -n 2` share their controller's)
if "PYTEST_XDIST_WORKER" not in os.environ or "PLAIT_CACHE" not in os.environ:
    os.environ["PLAIT_CACHE"] = tempfile.mkdtemp(prefix="plait-cache-")

REPO = Path(__file__).resolve().parents[1]

TINY_LM = [
    "model=gpt_tiny",
    "data.source.max_chars=150000",
    "data.tokenizer.vocab_size=300",
    "data.max_length=32",
    "trainer.batch_size=8",
    "trainer.max_steps=20",
    "trainer.val_every=10",
    "trainer.ckpt_every=10",
    "trainer.val_batches=2",
    "trainer.log_every=5",
    "scheduler.warmup_steps=2",
    "samples.max_new_tokens=8",
]
"""Overrides that make the default recipe a seconds-long run of a 2-layer, width-32 GPT."""


@contextlib.contextmanager
def hydra_state_restored():
    """Clear Hydra's global state before and after, and put back Plait's config groups in
    Hydra's ConfigStore as they were (Hydra stores its own plugins' configs lazily, and those
    must stay)."""
    import copy

    from hydra.core.config_store import ConfigStore
    from hydra.core.global_hydra import GlobalHydra

    from framework.registry import KINDS

    repo = ConfigStore.instance().repo
    tops = {spec.group.split("/")[0] for spec in KINDS.values()}
    saved = {top: copy.deepcopy(repo.get(top)) for top in tops}
    GlobalHydra.instance().clear()
    try:
        yield
    finally:
        GlobalHydra.instance().clear()
        for top, node in saved.items():
            if node is None:
                repo.pop(top, None)
            else:
                repo[top] = node


@pytest.fixture
def registry():
    """A fresh registry with the built-ins and installed plugins; Hydra state restored after."""
    from framework.registry import default_registry

    with hydra_state_restored():
        yield default_registry()


def without_eval(args: list[str]) -> list[str]:
    """``plait train`` arguments with ``eval=false`` added unless they set ``eval``: the
    evaluation at the end of training costs seconds that only the tests of evaluation
    (tests/evaluate/, which ask for it) should pay."""
    if args[:1] == ["train"] and not any(a.startswith("eval=") for a in args):
        return [*args, "eval=false"]
    return list(args)


def run_plait(args: list[str], cwd: Path, env: dict[str, str] | None = None, timeout: int = 300):
    """Run ``python -m framework ARGS`` in ``cwd`` (``train`` without the evaluation unless
    asked: :func:`without_eval`); return the CompletedProcess."""
    full_env = {**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "200", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "framework", *without_eval(args)],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def pip_install_target(project: Path, target: Path) -> None:
    """``pip install --no-deps --target TARGET PROJECT`` (a wheel file or a project folder)."""
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-deps",
            "--no-build-isolation",
            "--target",
            str(target),
            str(project),
        ],
        check=True,
        capture_output=True,
        text=True,
    )


@pytest.fixture
def plait(tmp_path):
    """Call the CLI with ``tmp_path`` as working directory: in this process (no interpreter
    start-up and library imports, 8 s a call on two cores), or in a subprocess when a
    ``timeout`` is given (a run whose wall time is measured, or that may hang)."""

    def call(*args: str, env: dict[str, str] | None = None, timeout: int | None = None):
        if timeout is not None:
            return run_plait(list(args), tmp_path, env=env, timeout=timeout)
        return run_in_process(list(args), tmp_path, env=env)

    return call


def run_in_process(
    args: list[str], cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    """``plait ARGS`` through ``framework.cli.main.main`` in this process, in ``cwd`` (with
    ``env`` added to the environment; its ``PYTHONPATH`` folders also go on ``sys.path``, as
    a new interpreter would put them, so plugins installed there are found): the exit status
    and what it printed, as a CompletedProcess (no interpreter start-up). The working
    directory, the environment, ``sys.path`` (and the modules imported from those folders),
    torch's thread count and deterministic mode and Hydra's state are restored after."""
    import importlib
    import io

    from framework.cli.main import main

    out, err = io.StringIO(), io.StringIO()
    old_cwd, old_env = os.getcwd(), dict(os.environ)
    extra = [p for p in (env or {}).get("PYTHONPATH", "").split(os.pathsep) if p]
    sys.path[:0] = extra
    importlib.invalidate_caches()
    torch = sys.modules.get("torch")
    threads = torch.get_num_threads() if torch is not None else None
    deterministic = torch.are_deterministic_algorithms_enabled() if torch is not None else None
    os.environ.update({"COLUMNS": "200", **(env or {})})
    os.chdir(cwd)
    try:
        with (
            hydra_state_restored(),
            contextlib.redirect_stdout(out),
            contextlib.redirect_stderr(err),
        ):
            try:
                code = main(without_eval(args))
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else 1
    finally:
        os.chdir(old_cwd)
        os.environ.clear()
        os.environ.update(old_env)
        _forget_folders(extra)
        if torch is not None:
            torch.set_num_threads(threads)
            torch.use_deterministic_algorithms(deterministic)
    return subprocess.CompletedProcess(args, code, out.getvalue(), err.getvalue())


def _forget_folders(folders: list[str]) -> None:
    """Take ``folders`` off ``sys.path`` and drop the modules imported from them, so the next
    call in this process sees none of what they installed."""
    import importlib

    for folder in folders:
        sys.path.remove(folder)
    for name, module in list(sys.modules.items()):
        where = getattr(module, "__file__", None) or ""
        if any(where.startswith(os.path.join(folder, "")) for folder in folders):
            del sys.modules[name]
    importlib.invalidate_caches()


@pytest.fixture
def cli(tmp_path, registry):
    """Call the CLI in this process, with ``tmp_path`` as working directory and Hydra's
    state restored after."""
    return lambda *args: run_in_process(list(args), tmp_path)


def render_in_chromium(page: Path, shot: Path) -> tuple[list, list]:
    """Open ``page`` in headless Chromium and screenshot it into ``shot``; returns (the
    browser's SEVERE log entries, [loaded, natural width] of each image)."""
    from selenium import webdriver

    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1200,1600"):  # fmt: skip
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = webdriver.ChromeService(executable_path="/usr/bin/chromedriver")
    driver = webdriver.Chrome(options=options, service=service)
    try:
        driver.get(page.as_uri())
        errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
        images = driver.execute_script(
            "return Array.from(document.images).map(i => [i.complete, i.naturalWidth])"
        )
        driver.save_screenshot(str(shot))
    finally:
        driver.quit()
    return errors, images


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def postgres_url():
    """A PostgreSQL server of Debian's package, started for the session in a folder of its
    own, bound to 127.0.0.1 only (``apt-get install postgresql``); its URL."""
    import glob
    import shutil
    import tempfile

    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    assert found, "PostgreSQL is not installed: apt-get install -y postgresql"
    bin_dir = Path(found[-1]).parent
    folder = Path(tempfile.mkdtemp(prefix="plait-pg-"))  # pytest's folders are root's alone
    data, port = folder / "data", _free_port()
    as_user: list[str] = []
    if os.geteuid() == 0:  # the server refuses to run as root
        shutil.chown(folder, "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    run = lambda *cmd: subprocess.run([*as_user, *cmd], check=True, capture_output=True)  # noqa: E731
    run(str(bin_dir / "initdb"), "-D", str(data), "-A", "trust", "-U", "plait")
    opts = f"-c listen_addresses=127.0.0.1 -p {port} -k {folder} -c fsync=off"
    run(str(bin_dir / "pg_ctl"), "-D", str(data), "-o", opts, "-l", str(folder / "log"), "-w",
        "start")  # fmt: skip
    run(str(bin_dir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "plait", "plait")
    yield f"postgresql://plait@127.0.0.1:{port}/plait"
    run(str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop")
    shutil.rmtree(folder, ignore_errors=True)


def shared(tmp_path_factory, name: str, make) -> Path:
    """``make(folder)`` once for every pytest-xdist worker of this session: the first worker
    builds it under a lock in the session's shared temporary folder, the others wait and
    reuse it (a module fixture would train once per worker)."""
    from filelock import FileLock

    base = tmp_path_factory.getbasetemp()
    # under xdist each worker's folder sits in the session's; without it, the parent is
    # every session's parent, where an earlier session's folder would be reused
    root = (base.parent if "PYTEST_XDIST_WORKER" in os.environ else base) / f"shared-{name}"
    with FileLock(f"{root}.lock"):
        done = root / ".done"
        if not done.exists():
            root.mkdir(exist_ok=True)
            make(root)
            done.touch()
    return root


def train_tiny_lm(root: Path) -> None:
    """``plait train`` of :data:`TINY_LM` into ``root/run`` (a :func:`shared` builder)."""
    proc = run_in_process(["train", *TINY_LM, "hydra.run.dir=run"], root)
    assert proc.returncode == 0, proc.stderr[-3000:]


def snapshot(*folders: Path) -> dict[str, str]:
    """Every file under ``folders`` with the SHA-256 of its bytes: equal snapshots before and
    after a command mean it changed, added and removed nothing there."""
    import hashlib

    found = {}
    for folder in folders:
        for path in sorted(Path(folder).rglob("*")):
            if path.is_file():
                found[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found
