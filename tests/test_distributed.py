"""Generated projects under torchrun: 2 CPU processes with the gloo backend, as a user would
start them (`python -m torch.distributed.run --nproc_per_node 2 train.py ...`).

Tolerances, stated in the README: with dropout off and no batch norm (the tabular MLP), two
processes do the same arithmetic as one (the same samples make up each optimizer step), so the
weights agree to 1e-5 and the validation metrics exactly. With the defaults, each process draws
its own dropout masks, and the CNN's batch norm sees half a batch per process, so the final
validation loss agrees within 10 % and the main metric within 0.1.
"""

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import torch

from tests.conftest import TASKS, probe, run_script
from tests.reliability.test_training_safety import (
    assert_equal,
    assert_same_training_state,
    load,
    metric_rows,
)

HARNESS = Path(__file__).resolve().parent / "reliability" / "harness.py"
TORCHRUN = ["-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2"]


def torchrun(project: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    """Two CPU processes on this machine (a free port each time: --standalone)."""
    return run_script(project, *TORCHRUN, *args, check=check, env={"OMP_NUM_THREADS": "1"})


# One two-process run (dropout off, a checkpoint at every step), made once per test run and
# read by the three tests below; each works in its own copy of the project.
FLAGS = ["--epochs", "3", "--device", "cpu", "--tracker", "none", "--batch-size", "32"]
FLAGS += ["--checkpoint-every", "1", "--dropout", "0"]


@pytest.fixture
def with_two_process_run(shared, pristine, tmp_path: Path) -> Path:
    """A copy of a multiclass tabular project holding runs/whole, trained under torchrun with
    FLAGS (its output in runs/whole.stdout)."""

    def make(dest: Path) -> None:
        shutil.copytree(pristine(task="multiclass", input="tabular"), dest)
        result = torchrun(dest, "train.py", *FLAGS, "--run-name", "whole")
        (dest / "runs/whole.stdout").write_text(result.stdout)

    root = tmp_path / "proj"
    shutil.copytree(shared("torchrun-whole", make), root)
    return root


def test_two_processes_do_the_arithmetic_of_one(with_two_process_run: Path) -> None:
    root = with_two_process_run
    assert "device cpu x 2 processes" in (root / "runs/whole.stdout").read_text()
    run_script(root, "train.py", *FLAGS, "--run-name", "one")
    one, two = load(root / "runs/one/last.pt"), load(root / "runs/whole/last.pt")
    for name, weights in one["model"].items():
        assert torch.allclose(weights, two["model"][name], atol=1e-5), name
    assert two["val_loss"] == pytest.approx(one["val_loss"], abs=1e-5)
    assert two["val_metrics"]["confusion_matrix"] == one["val_metrics"]["confusion_matrix"]


@pytest.mark.parametrize(
    "answers,epochs",
    [
        pytest.param({"task": "multiclass", "input": "tabular"}, "10", id="multiclass-tabular"),
        pytest.param({"task": "image"}, "5", id="image", marks=pytest.mark.slow),
    ],
)
def test_two_processes_match_one_and_load_in_one(project, answers, epochs) -> None:
    root = project(**answers)
    flags = ["--epochs", epochs, "--device", "cpu", "--tracker", "none"]
    run_script(root, "train.py", *flags, "--run-name", "one")
    torchrun(root, "train.py", *flags, "--run-name", "two")
    one, two = metric_rows(root / "runs/one"), metric_rows(root / "runs/two")
    assert one[-1]["epoch"] == two[-1]["epoch"] == epochs
    assert float(two[-1]["val_loss"]) == pytest.approx(float(one[-1]["val_loss"]), rel=0.10)
    assert abs(float(two[-1]["val_accuracy"]) - float(one[-1]["val_accuracy"])) <= 0.1
    assert float(two[-1]["train_loss"]) < 0.9 * float(two[0]["train_loss"])  # it learned

    # The 2-process checkpoint is a plain one: eval.py and predict.py load it in one process.
    run_script(root, "eval.py", "--run", "runs/two", "--device", "cpu")
    tested = json.loads((root / "runs/two/test_metrics.json").read_text())
    assert tested["accuracy"] >= 0.6
    # Validation under torchrun summed both processes' counts: redone in one process on the
    # whole split with the same weights, it gives the same metrics (not process 0's half).
    check = probe(root, "validate", "runs/two")
    assert not check["module_prefix"]
    saved, redone = check["saved"], check["redone"]
    assert saved["val_metrics"]["confusion_matrix"] == redone["val_metrics"]["confusion_matrix"]
    assert sum(map(sum, saved["val_metrics"]["confusion_matrix"])) == check["samples"]
    assert saved["val_loss"] == pytest.approx(redone["val_loss"], rel=1e-5)


@pytest.mark.parametrize("task", [*TASKS, "image"])
def test_metrics_from_shares_equal_metrics_of_the_whole(pristine, task) -> None:
    """What each process computes (metric_state) adds up to the metrics of all samples."""
    answers = {"task": task} if task == "image" else {"task": task, "input": "tabular"}
    result = probe(pristine(**answers), "shares")
    whole, combined = result["whole"], result["combined"]
    assert whole.keys() == combined.keys()
    for key, value in whole.items():
        if isinstance(value, list):  # a confusion matrix: counts
            assert combined[key] == value, key
        else:
            assert combined[key] == pytest.approx(value, rel=1e-9, abs=1e-12), key


def test_each_process_gets_its_distributed_sampler_share(pristine) -> None:
    root = pristine(task="multiclass", input="tabular")
    two = probe(root, "sampler", "101", "2")
    assert two["ours"] == two["theirs"]  # exactly torch's DistributedSampler, epoch 3
    assert len(two["ours"][0]) == len(two["ours"][1]) == 51  # one sample repeated to even up
    assert set(two["ours"][0]) | set(two["ours"][1]) == set(range(101))
    one = probe(root, "sampler", "101", "1")
    assert one["ours"] == [one["plain"]]  # one process: a plain shuffle seeded by seed + epoch


def test_resume_of_a_two_process_run_is_exact(with_two_process_run: Path) -> None:
    root = with_two_process_run
    # Process 0 dies right after its 6th save (mid-epoch 2); torchrun stops process 1.
    died = torchrun(
        root, str(HARNESS), "exit-after-save:6", *FLAGS, "--run-name", "cut", check=False
    )
    assert died.returncode != 0
    cut = load(root / "runs/cut/last.pt")
    assert cut["epoch"] == 1 and cut["progress"]["step"] > 0 and len(cut["rng"]) == 2
    resumed = torchrun(root, "train.py", *FLAGS, "--run-name", "cut", "--resume")
    assert "resuming" in resumed.stdout and "step" in resumed.stdout
    assert_same_training_state(root / "runs/whole/last.pt", root / "runs/cut/last.pt")
    whole, again = load(root / "runs/whole/last.pt"), load(root / "runs/cut/last.pt")
    assert_equal(whole["rng"], again["rng"], "rng")  # both processes' generators
    rows = metric_rows(root / "runs/whole")
    assert rows == metric_rows(root / "runs/cut") and len(rows) == 3


def test_resume_on_another_number_of_processes_says_so(with_two_process_run: Path) -> None:
    root = with_two_process_run
    flags = [*FLAGS, "--epochs", "4", "--run-name", "whole", "--resume"]
    result = run_script(root, "train.py", *flags)
    assert "note: saved by 2 process(es), continuing on 1" in result.stdout
    assert load(root / "runs/whole/last.pt")["epoch"] == 4


def test_a_batch_size_that_does_not_split_is_one_error_line(project) -> None:
    root = project(task="multiclass", input="tabular")
    result = torchrun(root, "train.py", "--batch-size", "63", "--device", "cpu", check=False)
    assert result.returncode != 0
    message = "error: --batch-size 63 does not split evenly over 2 processes: use a multiple of 2"
    assert result.stderr.count(message) == 1  # process 0 speaks for both
    assert 'train.py", line' not in result.stderr  # no traceback from the project's code
    assert not (root / "runs").exists()


def test_a_validation_split_smaller_than_the_processes_is_one_error_line(project) -> None:
    root = project(task="multiclass", input="tabular")
    result = torchrun(root, "train.py", "--val-size", "0.008", "--device", "cpu", check=False)
    assert result.returncode != 0
    message = (
        "error: the validation split has 1 sample(s), fewer than the 2 processes: "
        "use a larger --val-size"
    )
    assert result.stderr.count(message) == 1
    assert not (root / "runs").exists()
