"""Never lose training work: each test does X to a generated project, expects Y, loses nothing.

Faults are real where they can be (kill -9, damaged files, a malicious pickle) and injected by
harness.py where they cannot (a full disk, a NaN at a chosen step, a death right after a save).
"""

from __future__ import annotations

import contextlib
import csv
import importlib.util
import os
import random
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
import torch

from tests import launcher
from tests.conftest import record, run_script, tree

HARNESS = Path(__file__).resolve().parent / "harness.py"


def harness(project: Path, fault: str, *flags: str) -> subprocess.CompletedProcess:
    return run_script(project, str(HARNESS), fault, *flags, check=False, fresh=True)


def load(path: Path) -> dict:
    """What a user gets: torch.load with weights_only=True and no allowlist."""
    return torch.load(path, map_location="cpu", weights_only=True)


def project_utils(project: Path):
    """The project's own checkpoints.py, imported under a private name (with the project's own
    utils.py and checkpoint_versions.py, which it imports)."""
    spec = importlib.util.spec_from_file_location(
        f"checkpoints_{abs(hash(project))}", project / "checkpoints.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules.pop("checkpoint_versions", None)
    sys.modules.pop("utils", None)
    sys.path.insert(0, str(project))
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(project))
        sys.modules.pop("checkpoint_versions", None)
        sys.modules.pop("utils", None)
    return module


def assert_same_training_state(a: Path, b: Path) -> None:
    first, second = load(a), load(b)
    for key in ["model", "optimizer", "scheduler", "early_stopping", "progress", "epoch"]:
        assert_equal(first[key], second[key], key)


def assert_equal(x, y, where: str) -> None:
    if isinstance(x, torch.Tensor):
        assert isinstance(y, torch.Tensor) and torch.equal(x, y), where
    elif isinstance(x, dict):
        assert x.keys() == y.keys(), where
        for key in x:
            assert_equal(x[key], y[key], f"{where}.{key}")
    elif isinstance(x, (list, tuple)):
        assert len(x) == len(y), where
        for i, (p, q) in enumerate(zip(x, y, strict=True)):
            assert_equal(p, q, f"{where}[{i}]")
    else:
        assert x == y, (where, x, y)


def metric_rows(run: Path) -> list[dict]:
    """metrics.csv without the wall-clock column."""
    with (run / "metrics.csv").open(newline="") as f:
        return [{k: v for k, v in row.items() if k != "seconds"} for row in csv.DictReader(f)]


def one_line_error(result: subprocess.CompletedProcess, *words: str) -> str:
    assert result.returncode != 0, result.stdout
    lines = [line for line in result.stderr.strip().splitlines() if line.strip()]
    assert lines and lines[-1].startswith("error: "), result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    for word in words:
        assert word in lines[-1], (word, lines[-1])
    return lines[-1]


# ---------------------------------------------------------------------------------------------
# 1. Bitwise resume: stop after a chosen save, resume in a fresh process, compare with a run
#    that never stopped.

RESUME_CASES = {
    # dropout, shuffling, ReduceLROnPlateau's own state, a stop in the middle of an epoch
    "tabular-plateau-mid-epoch": (
        {"task": "multiclass", "scheduler": "plateau"},
        ["--epochs", "4", "--batch-size", "16", "--checkpoint-every", "3"],
        5,
    ),
    # a stop at an epoch boundary with cosine annealing
    "tabular-cosine-epoch-end": (
        {"task": "binary", "scheduler": "cosine"},
        ["--epochs", "4", "--batch-size", "32"],
        3,
    ),
    # images streamed by 2 DataLoader workers, random shifts and flips, a mid-epoch stop
    "image-workers-augmentation-mid-epoch": (
        {"task": "image"},
        ["--epochs", "3", "--cache-mb", "0", "--workers", "2", "--flip", "--checkpoint-every", "2"],
        7,  # epoch 1: steps 2, 4, 6, last.pt, best.pt; epoch 2: step 2, then step 4
    ),
}


@pytest.mark.parametrize("case", RESUME_CASES)
def test_resume_in_a_fresh_process_is_bitwise_identical(project, case) -> None:
    answers, flags, stop_after = RESUME_CASES[case]
    root = project(**answers)
    run_script(root, "train.py", *flags, "--run-name", "straight")
    stopped = harness(root, f"exit-after-save:{stop_after}", *flags, "--run-name", "resumed")
    assert stopped.returncode == 137, stopped.stderr
    progress = load(root / "runs/resumed/last.pt")["progress"]
    assert (progress["step"] > 0) == case.endswith("mid-epoch"), progress
    run_script(root, "train.py", "--resume", "--run-name", "resumed", fresh=True)
    assert_same_training_state(root / "runs/straight/last.pt", root / "runs/resumed/last.pt")
    assert metric_rows(root / "runs/straight") == metric_rows(root / "runs/resumed")


# ---------------------------------------------------------------------------------------------
# 2. kill -9 at random moments, during training and during saves


def newest_save(run: Path) -> tuple[int, int] | None:
    """(mtime, size) of the newest checkpoint file of a run (None before its first); the run
    may be renaming its files meanwhile."""
    found = []
    for path in run.glob("*.pt") if run.exists() else []:
        with contextlib.suppress(FileNotFoundError):
            info = path.stat()
            found.append((info.st_mtime_ns, info.st_size))
    return max(found, default=None)


def wait_for_saves(process: launcher.Started, run: Path, count: int, within: float = 300.0) -> None:
    """Until the process has saved `count` more checkpoints (or ended, or `within` seconds have
    passed): a kill then lands in training or in a save, however slowly the machine runs, and
    never after more than `count` saves, however fast it runs."""
    seen, deadline = newest_save(run), time.monotonic() + within
    while count and process.poll() is None and time.monotonic() < deadline:
        now = newest_save(run)
        if now != seen:
            seen, count = now, count - 1
        time.sleep(0.002)


def test_twenty_kills_at_random_moments_lose_nothing(project, tmp_path) -> None:
    """Even kills at a random moment of the first half second (start-up, reading the data, the
    first steps) but before a second save, odd ones after 1-3 more saves (in training or in the
    middle of a save): both windows are hit by construction, on a quiet or a busy machine, and
    20 kills use up at most about 140 of the run's 256 steps however fast the machine is (a
    fast one once finished the run within the first 19 kills when even kills waited a fixed
    time)."""
    root = project(task="multiclass")
    flags = ["--epochs", "16", "--batch-size", "8", "--checkpoint-every", "1", "--patience", "0"]
    flags += ["--tracker", "none", "--run-name", "k"]
    run_script(root, "train.py", *flags[:-1], "straight")
    utils = project_utils(root)
    run = root / "runs" / "k"
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    rng = random.Random(1234)
    kills, stale_seen, finished = 0, 0, False
    for _ in range(40):  # 20 kills, then one run to the end (or a few more on a strange day)
        if finished:
            break
        resume = (
            ["--resume"] if (run / "last.pt").exists() or (run / "previous.pt").exists() else []
        )
        stale_before = sorted(run.glob(".*.tmp")) if run.exists() else []
        saved_before = newest_save(run)
        # Forked from a process that has imported torch (tests/launcher.py), with its output in
        # files: a full pipe would stall the run.
        process = launcher.start(root, ["train.py", *flags, *resume], env, tmp_path / "log")
        if kills < 20 and kills % 2:
            wait_for_saves(process, run, 1 + rng.randrange(3))
            time.sleep(rng.uniform(0.0, 0.02))
        elif kills < 20:
            wait_for_saves(process, run, 2, within=rng.uniform(0.0, 0.5))
        if process.poll() is None and kills < 20:
            process.kill()
            process.wait()
            kills += 1
        else:
            process.wait(timeout=300)
            text = process.output()
            assert process.returncode == 0, process.output("stderr")
            finished = kills >= 20 and "best val_loss" in text
            assert "nothing to resume" not in text, f"the run ended after {kills} kills"
        # A run that saved anything had passed the start-up clean-up (a kill during torch's
        # import comes before it: then the next run must clean up).
        if stale_before and newest_save(run) != saved_before:
            stale_seen += 1
            assert not any(p.exists() for p in stale_before), "stale temporary files were kept"
        if run.exists() and ((run / "last.pt").exists() or (run / "previous.pt").exists()):
            state = utils.load_last_checkpoint(run)  # verified: weights_only and its hash
            assert "model" in state
    assert not list(run.glob(".*.tmp")), "the finished run left temporary files"
    assert_same_training_state(root / "runs/straight/last.pt", run / "last.pt")
    assert metric_rows(root / "runs/straight") == metric_rows(run)
    record(kills=kills)
    print(f"{kills} kills; {stale_seen} restarts found a cut-short save's temporary file")


# 4 steps per epoch, a save every 2: save 1 is mid-epoch 1, 2 its last.pt, 3 its best.pt, 4 is
# mid-epoch 2.
@pytest.mark.parametrize("save", [2, 3, 4], ids=["last.pt", "best.pt", "mid-epoch"])
def test_a_kill_in_the_middle_of_a_save_loses_nothing(project, save) -> None:
    root = project(task="multiclass")
    flags = ["--epochs", "3", "--batch-size", "32", "--checkpoint-every", "2"]
    run_script(root, "train.py", *flags, "--run-name", "straight")
    run = root / "runs" / "cut"
    died = harness(root, f"die-mid-save:{save}", *flags, "--run-name", "cut")
    assert died.returncode == 137
    assert len(list(run.glob(".*.tmp"))) == 1  # the save it died in
    load(run / "last.pt")  # the checkpoint before it is whole
    done = run_script(root, "train.py", *flags, "--resume", "--run-name", "cut", fresh=True)
    assert "removed 1 unfinished temporary file(s)" in done.stdout
    assert not list(run.glob(".*.tmp"))
    assert_same_training_state(root / "runs/straight/last.pt", run / "last.pt")
    assert metric_rows(root / "runs/straight") == metric_rows(run)
    record(kills=1)


# ---------------------------------------------------------------------------------------------
# 3. A save that fails (disk full) leaves the previous checkpoint byte-identical


def test_a_failed_save_keeps_the_previous_checkpoint_byte_identical(project) -> None:
    root = project(task="regression")
    flags = ["--epochs", "5", "--run-name", "full"]
    run = root / "runs" / "full"
    # Saves: epoch 1 writes last.pt and best.pt, epoch 2 last.pt (+ best.pt if better), ...
    stopped = harness(root, "exit-after-save:2", *flags)
    assert stopped.returncode == 137
    before = {name: (run / name).read_bytes() for name in ["last.pt", "best.pt"]}
    result = harness(root, "enospc-at-save:1", *flags[:2], "--resume", "--run-name", "full")
    one_line_error(result, "cannot save", "last.pt", "No space left on device", "intact")
    assert {name: (run / name).read_bytes() for name in before} == before
    assert not list(run.glob(".*.tmp"))
    assert load(run / "last.pt")["epoch"] == 1
    run_script(root, "train.py", "--resume", "--run-name", "full", fresh=True)  # and it carries on
    assert load(run / "last.pt")["epoch"] == 5


# ---------------------------------------------------------------------------------------------
# 4. Truncated, empty or bit-flipped checkpoints: a clear error, or previous.pt said in the log


def tensor_data_ranges(path: Path) -> list[tuple[int, int]]:
    """Byte ranges of the tensor data records inside a checkpoint (a zip file)."""
    ranges = []
    with zipfile.ZipFile(path) as archive, path.open("rb") as f:
        for info in archive.infolist():
            if "/data/" in info.filename and info.file_size >= 4:
                f.seek(info.header_offset + 26)
                name_len, extra_len = (int.from_bytes(f.read(2), "little") for _ in range(2))
                start = info.header_offset + 30 + name_len + extra_len
                ranges.append((start, start + info.file_size))
    return ranges


@pytest.fixture
def trained(project):
    root = project(task="multiclass")
    run_script(root, "train.py", "--epochs", "3", "--run-name", "r")
    return root, root / "runs" / "r"


def damage(path: Path, how: str) -> None:
    data = bytearray(path.read_bytes())
    if how == "empty":
        data = bytearray()
    elif how == "truncated":
        data = data[: len(data) // 2]
    elif how == "bit-flip":
        start, end = tensor_data_ranges(path)[0]
        data[(start + end) // 2] ^= 0x10
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("how", ["empty", "truncated", "bit-flip"])
def test_a_damaged_checkpoint_is_an_error_naming_it_or_a_said_fallback(trained, how) -> None:
    root, run = trained
    expected = load(run / "previous.pt")["epoch"]
    damage(run / "best.pt", how)
    one_line_error(run_script(root, "eval.py", "--run", str(run), check=False), "best.pt")
    damage(run / "last.pt", how)
    resumed = run_script(
        root, "train.py", "--resume", "--run-name", "r", "--epochs", "4", fresh=True
    )
    assert "warning: runs/r/last.pt: " in resumed.stdout
    assert f"using runs/r/previous.pt (epoch {expected}) instead" in resumed.stdout
    assert load(run / "last.pt")["epoch"] == 4


def test_random_bit_flips_never_load_silently(trained) -> None:
    """Flip one bit at 60 random places (tensor data, pickle, zip records): every load is a
    clear error, or returns exactly what was saved."""
    root, run = trained
    utils = project_utils(root)
    original = (run / "last.pt").read_bytes()
    digest = utils.state_digest(utils.load_checkpoint(run / "last.pt"))
    rng = random.Random(7)
    positions = [rng.randrange(len(original)) for _ in range(40)]
    positions += [rng.randrange(a, b) for a, b in tensor_data_ranges(run / "last.pt")[:20]]
    errors = 0
    for position in positions:
        data = bytearray(original)
        data[position] ^= 1 << rng.randrange(8)
        (run / "last.pt").write_bytes(bytes(data))
        try:
            state = utils.load_checkpoint(run / "last.pt")
        except utils.UserError as e:
            assert str(run / "last.pt") in str(e)
            errors += 1
        else:
            assert utils.state_digest(state) == digest, position
    assert errors >= 20  # every flip in tensor data at least


def test_stale_temporary_files_are_removed_on_the_next_start(trained) -> None:
    root, run = trained
    stale = [run / ".last.pt.abc123.tmp", run / ".best.pt.xyz.tmp"]
    for file in stale:
        file.write_bytes(b"PK\x03\x04 half a checkpoint")
    resumed = run_script(
        root, "train.py", "--resume", "--run-name", "r", "--epochs", "4", fresh=True
    )
    assert "removed 2 unfinished temporary file(s)" in resumed.stdout
    assert not any(file.exists() for file in stale)


def test_a_crash_between_the_two_renames_resumes_from_previous(trained) -> None:
    root, run = trained
    (run / "last.pt").unlink()  # the moment after last.pt became previous.pt
    resumed = run_script(
        root, "train.py", "--resume", "--run-name", "r", "--epochs", "4", fresh=True
    )
    assert "checkpoint not found" in resumed.stdout and "previous.pt" in resumed.stdout
    assert load(run / "last.pt")["epoch"] == 4


# ---------------------------------------------------------------------------------------------
# 5. weights_only everywhere; a malicious checkpoint is refused even when the environment asks
#    torch to load without it


class Payload:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_a_malicious_checkpoint_is_refused_even_with_the_override(trained, tmp_path) -> None:
    root, run = trained
    marker = tmp_path / "pwned"
    for name in ["best.pt", "last.pt", "previous.pt"]:
        torch.save({"model": Payload(marker)}, run / name)
    env = {**os.environ, "TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD": "1"}
    commands = [
        ["eval.py", "--run", str(run)],
        ["predict.py", "--run", str(run), "--input", "data/wine.csv"],
        ["train.py", "--resume", "--run-name", "r"],
    ]
    for command in commands:
        result = subprocess.run(
            [sys.executable, *command], cwd=root, env=env, capture_output=True, text=True
        )
        one_line_error(result, "refused to load", "could run code")
        assert not marker.exists(), command
    with pytest.raises(Exception):  # noqa: B017 (any refusal will do, as long as nothing runs)
        torch.load(run / "best.pt", weights_only=True)
    assert not marker.exists()


def test_every_torch_load_says_weights_only_true(project) -> None:
    import ast

    root = project(task="image")
    calls = 0
    for file in root.rglob("*.py"):
        for node in ast.walk(ast.parse(file.read_text())):
            if isinstance(node, ast.Call) and ast.unparse(node.func).endswith("torch.load"):
                calls += 1
                flags = {k.arg: ast.unparse(k.value) for k in node.keywords}
                assert flags.get("weights_only") == "True", (file.name, ast.unparse(node))
    assert calls >= 1


def test_every_checkpoint_loads_with_weights_only_and_no_allowlist(trained) -> None:
    _, run = trained
    code = (
        "import sys, torch\n"
        "for p in sys.argv[1:]:\n"
        "    s = torch.load(p, weights_only=True)\n"
        "    assert 'model' in s and 'sha256' in s\n"
        "print('ok')"
    )
    files = [str(p) for p in sorted(run.glob("*.pt"))]
    assert len(files) == 3
    result = subprocess.run([sys.executable, "-c", code, *files], capture_output=True, text=True)
    assert result.stdout.strip() == "ok", result.stderr


# ---------------------------------------------------------------------------------------------
# 6. A NaN loss stops training before the optimizer step, naming the epoch and step


def test_a_nan_loss_stops_before_the_step_and_keeps_the_last_checkpoint(project) -> None:
    root = project(task="multiclass")
    run = root / "runs" / "n"
    flags = ["--epochs", "5", "--batch-size", "32"]  # 4 steps per epoch
    run_script(root, "train.py", "--epochs", "2", "--batch-size", "32", "--run-name", "n")
    saved = {p.name: p.read_bytes() for p in run.glob("*.pt")}
    rows = metric_rows(run)
    result = harness(root, "nan-at-step:3", *flags, "--resume", "--run-name", "n")
    one_line_error(result, "loss is nan at epoch 3, step 3", "before the optimizer step")
    assert {p.name: p.read_bytes() for p in run.glob("*.pt")} == saved
    assert metric_rows(run) == rows


# ---------------------------------------------------------------------------------------------
# 7. A new run never overwrites an old one


def test_a_run_stopped_before_its_first_checkpoint_starts_again(project) -> None:
    """A kill between creating the run folder and the first save leaves config.json, the
    tracker's folder, maybe an epoch-1 log row and a temporary file: the same command works."""
    root = project(task="multiclass", input="tabular")
    run = root / "runs" / "k"
    (run / "tensorboard").mkdir(parents=True)
    (run / "config.json").write_text("{}\n")
    (run / "metrics.csv").write_text("epoch,train_loss\n1,0.5\n")
    (run / ".last.pt.x1.tmp").write_bytes(b"PK half a checkpoint")
    result = run_script(root, "train.py", "--epochs", "2", "--run-name", "k")
    assert f"note: {Path('runs/k')} stopped before its first checkpoint" in result.stdout
    assert [row["epoch"] for row in metric_rows(run)] == ["1", "2"]
    assert not list(run.glob(".*.tmp")) and load(run / "last.pt")["epoch"] == 2
    # Anything else in the folder (a checkpoint, a file of yours) and it is refused.
    (root / "runs/mine").mkdir()
    (root / "runs/mine/notes.txt").write_text("keep me\n")
    again = run_script(root, "train.py", "--run-name", "mine", check=False)
    one_line_error(again, "already exists")
    assert (root / "runs/mine/notes.txt").read_text() == "keep me\n"
    record(inputs=1)


def test_training_again_never_overwrites_a_previous_run(trained) -> None:
    root, run = trained
    before = tree(run)
    again = run_script(root, "train.py", "--epochs", "1", "--run-name", "r", check=False)
    one_line_error(again, "already exists", "--resume")
    assert tree(run) == before
    run_script(root, "train.py", "--epochs", "1")  # a new, timestamped folder
    run_script(root, "train.py", "--epochs", "1")  # and another one, never the same
    assert len(list((root / "runs").iterdir())) == 3
    assert tree(run) == before


def test_a_run_saved_without_a_gradient_scaler_resumes_with_one(project) -> None:
    """Saved on the CPU (scaler off, nothing in its state), continued where float16 needs the
    scaler (played on the CPU by an enabled scaler): it resumes instead of stopping with
    "The source state dict is empty"."""
    root = project(task="multiclass")
    run_script(root, "train.py", "--epochs", "1", "--run-name", "s", "--tracker", "none")
    assert load(root / "runs/s/last.pt")["scaler"] == {}
    resumed = harness(root, "scaler-on:0", "--resume", "--run", "runs/s", "--epochs", "2")
    assert resumed.returncode == 0, resumed.stderr
    state = load(root / "runs/s/last.pt")
    assert state["epoch"] == 2 and state["scaler"]["scale"] > 0
