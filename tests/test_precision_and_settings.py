"""Mixed precision's dtype, the plateau schedule's own patience, and a bad saved setting."""

import pytest
import torch

from tests.conftest import reseal_checkpoint, run_script

PRECISION = """
import warnings
warnings.simplefilter("ignore")  # no CUDA here: torch warns that it disables the scaler
import torch, train
from config import Config
for native in (True, False):  # an Ampere-or-newer GPU, and a T4 / V100 (emulated bfloat16)
    supported = lambda including_emulation=True, native=native: native or including_emulation
    torch.cuda.is_bf16_supported = supported
    scaler, autocast = train.mixed_precision(Config(), torch.device("cuda"))
    print("native" if native else "emulated", autocast.fast_dtype)
scaler, autocast = train.mixed_precision(Config(), torch.device("cpu"))
print("cpu", type(autocast).__name__, scaler.is_enabled())
"""


def test_bfloat16_only_on_gpus_that_compute_in_it(project) -> None:
    root = project(task="multiclass")
    lines = run_script(root, "-c", PRECISION).stdout.splitlines()
    assert lines == ["native torch.bfloat16", "emulated torch.float16", "cpu nullcontext False"]


@pytest.mark.parametrize("flags, patience", [([], 2), (["--plateau-patience", "0"], 0)])
def test_the_plateau_schedule_waits_its_own_patience(project, flags, patience) -> None:
    """--patience (early stopping) 1 no longer makes the lr drop 10x at every flat epoch."""
    root = project(task="regression")
    args = ["--epochs", "1", "--scheduler", "plateau", "--patience", "1", *flags]
    run_script(root, "train.py", *args, "--run-name", "p", "--tracker", "none")
    state = torch.load(root / "runs/p/last.pt", weights_only=True)
    assert state["scheduler"]["patience"] == patience


def test_a_bad_saved_setting_is_one_line_in_eval(project) -> None:
    root = project(task="binary")
    run_script(root, "train.py", "--epochs", "1", "--run-name", "r", "--tracker", "none")
    reseal_checkpoint(root, "runs/r/best.pt", "s['config']['lr'] = -1.0")
    result = run_script(root, "eval.py", "--run", "runs/r", check=False)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.strip() == "error: bad setting: lr must be > 0"


@pytest.mark.parametrize(
    "flags, message",
    [
        (["--plateau-patience", "-1"], "plateau_patience must be >= 0"),
        (["--patience", "-1", "--plateau-patience", "-2"], "patience must be >= 0"),
    ],
)
def test_a_bad_schedule_setting_is_one_line_and_writes_nothing(project, flags, message) -> None:
    root = project(task="regression")
    result = run_script(root, "train.py", *flags, check=False)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.strip().startswith("error: bad setting: ")
    assert message in result.stderr and not (root / "runs").exists()
