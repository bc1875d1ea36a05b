"""Sanity checks of the model and the training loop: each fails with the classic mistake it
points to and its fix when an edit breaks the pipeline. A few seconds on the CPU.

Each check_* function is run twice: on this project's own model and loop (it must pass), and
on a copy with the mistake it names (it must fail), so that no check passes by accident.
"""

from collections.abc import Callable
from contextlib import nullcontext
from typing import Any

import pytest
import torch
from torch import nn

import task
from config import Config
from data_loader import load_data, make_loader
from model import build_model, model_kwargs
from preprocessing import Preprocessing
from train import evaluate, train_one_epoch

Batch = tuple[torch.Tensor, torch.Tensor]


class OneProcess:
    """What train_one_epoch(), evaluate() and make_loader() use of RunState and Processes: one
    process, on the CPU."""

    rank, world, main, device = 0, 1, True, torch.device("cpu")

    def __init__(self) -> None:
        self.procs, self.last_loss = self, float("nan")

    def combine(self, state: dict, gathered: Any) -> dict:
        return state

    def progress_bar(self, loader: Any) -> Any:
        return loader

    def check_finite(self, loss: torch.Tensor) -> None:
        self.last_loss = loss.item()

    def step_done(self, batch_size: int) -> None:
        pass

    def epoch_loss(self) -> float:
        return self.last_loss


@pytest.fixture(scope="module")
def setup() -> dict[str, Any]:
    cfg = Config()
    torch.manual_seed(cfg.seed)
    data = load_data(cfg)
    preprocessing = Preprocessing.fit(data.train, cfg)
    targets = preprocessing.targets
    loader = make_loader(preprocessing.dataset(data.train), 64, OneProcess(), shuffle=True)
    x, y = next(iter(loader))  # texts: padded to the batch's longest
    criterion = task.make_loss(cfg, targets, y)
    kwargs = model_kwargs(cfg, preprocessing.input_args(), len(targets.names))
    return {"batch": (x, y), "criterion": criterion, "kwargs": kwargs, "targets": targets}


def new_model(setup: dict[str, Any]) -> nn.Module:
    torch.manual_seed(0)
    return build_model(**setup["kwargs"])


def check_initial_loss(model: nn.Module, criterion: nn.Module, batch: Batch) -> None:
    """An untrained model knows nothing, so its loss is about that of predicting nothing (all
    raw scores 0): ln K for K classes, ln 2 per label for binary/multilabel (weighted by the
    class balance), about 1 for standardized regression targets."""
    x, y = batch
    model.eval()
    with torch.no_grad():
        logits = model(x)
    loss, expected = criterion(logits, y).item(), criterion(torch.zeros_like(logits), y).item()
    assert 0.5 * expected < loss < 1.5 * expected + 0.1, (
        f"the untrained model's loss is {loss:.3f}, but knowing nothing gives {expected:.3f}: the "
        "last layer starts too large, the targets are not scaled, or the loss does not fit the "
        "task — keep PyTorch's default init of the head and the loss task.py picks"
    )


def fit_one_batch(
    model: nn.Module, criterion: nn.Module, batch: Batch, train: Callable = train_one_epoch
) -> tuple[float, float, torch.Tensor]:
    """60 steps of `train` on 8 samples: the loss before and after, and the raw scores after."""
    x, y = batch[0][:8], batch[1][:8]
    optimizer = torch.optim.Adam(model.parameters(), lr=0.03)
    scaler, run = torch.amp.GradScaler("cpu", enabled=False), OneProcess()
    model.eval()
    with torch.no_grad():
        before = criterion(model(x), y).item()
    for _ in range(60):
        train(model, [(x, y)], criterion, optimizer, scaler, nullcontext(), run)
    model.eval()
    with torch.no_grad():
        logits = model(x)
    return before, criterion(logits, y).item(), logits


def check_overfits_one_batch(
    model: nn.Module, criterion: nn.Module, batch: Batch, train: Callable = train_one_epoch
) -> None:
    """A model that cannot learn 8 samples by heart in 60 steps will not learn the data set: the
    loop does not update the weights (no step(), zero_grad() between backward() and step(), the
    graph cut by .detach() or .item()), or the model squashes its outputs."""
    before, after, _ = fit_one_batch(model, criterion, batch, train)
    assert after < 0.1 * before, (
        f"60 steps on one batch of 8 only took the loss from {before:.3f} to {after:.3f}: the "
        "training loop does not update the weights (or the model squashes its outputs: see "
        "test_returns_raw_scores) — call optimizer.zero_grad(), then loss.backward(), then "
        "optimizer.step(), on a loss that is not detached"
    )


def check_returns_raw_scores(logits: torch.Tensor) -> None:
    """After fitting one batch, raw scores leave the range an activation squashes them into."""
    assert logits.min() < 0 or logits.max() > 1, (
        "the model's outputs stay in [0, 1]: it ends in softmax or sigmoid, and the loss applies "
        "it again — return raw scores (logits); task.predict() applies the activation"
    )


def check_targets_fit_the_loss(logits: torch.Tensor, y: torch.Tensor, outputs: list) -> None:
    """The target's dtype and shape are what the loss expects for this task (a wrong shape can
    broadcast silently: (N,) against (N, 1) gives an (N, N) loss)."""
    n = len(y)
    assert logits.shape == (n, len(outputs)), (
        f"the model returns shape {tuple(logits.shape)}, the task needs {(n, len(outputs))} — "
        "one raw score per output; check the head's out_features"
    )
    expected = (torch.float32, (n, len(outputs)))  # one float per output, like the logits
    assert (y.dtype, tuple(y.shape)) == expected, (
        f"the targets are {y.dtype} of shape {tuple(y.shape)}, the loss expects {expected[0]} of "
        f"shape {expected[1]} — encode them as task.py's Targets.encode() does"
    )


def check_samples_do_not_mix(model: nn.Module, batch: Batch) -> None:
    """In eval mode, sample i's output depends on sample i only (no mean or norm over the batch
    dimension, no view() that mixes samples)."""
    x = batch[0][:8]
    changed = x.clone()
    changed[3] = x[5]
    model.eval()
    with torch.no_grad():
        before, after = model(x), model(changed)
    others = [i for i in range(8) if i != 3]
    assert torch.allclose(before[others], after[others], atol=1e-5), (
        "changing sample 3 changed the outputs of other samples: the model mixes samples of a "
        "batch — reduce over the feature dimensions (dim=1...), never over dim 0"
    )


def check_every_parameter_learns(model: nn.Module, criterion: nn.Module, batch: Batch) -> None:
    """One backward() reaches every parameter."""
    model.train()
    model.zero_grad()
    criterion(model(batch[0]), batch[1]).backward()
    for name, parameter in model.named_parameters():
        grad = parameter.grad
        assert grad is not None and grad.abs().sum() > 0, (
            f"parameter '{name}' gets no gradient: forward() never uses it, or cuts the graph "
            "before it (.detach(), .item(), torch.no_grad(), a tensor rebuilt from numbers)"
        )


def check_modes(
    model: nn.Module,
    criterion: nn.Module,
    batch: Batch,
    targets: Any,
    train: Callable = train_one_epoch,
    validate: Callable = evaluate,
) -> None:
    """Validation runs in eval mode without gradients and gives the same loss twice; training
    runs in train mode again after it (dropout back on)."""
    seen: list[tuple[str, bool, bool]] = []

    def record(module: nn.Module, args: Any) -> None:
        seen.append((phase, module.training, torch.is_grad_enabled()))

    hook = model.register_forward_pre_hook(record)
    loader = [batch]
    try:
        phase = "validate"
        first = validate(model, loader, criterion, targets, OneProcess())[0]
        second = validate(model, loader, criterion, targets, OneProcess())[0]
        optimizer = torch.optim.SGD(model.parameters(), lr=0.0)
        phase = "train"
        scaler = torch.amp.GradScaler("cpu", enabled=False)
        train(model, loader, criterion, optimizer, scaler, nullcontext(), OneProcess())
    finally:
        hook.remove()
    validating = [(train_mode, grad) for when, train_mode, grad in seen if when == "validate"]
    training = [train_mode for when, train_mode, _ in seen if when == "train"]
    mistake = "validation runs the model in training mode (dropout on) — call model.eval() first"
    assert not any(train_mode for train_mode, _ in validating), mistake
    mistake = "validation builds a graph for every batch — run it under torch.no_grad()"
    assert not any(grad for _, grad in validating), mistake
    assert first == second, "validating twice gave two losses: something random runs in eval mode"
    mistake = "training runs in eval mode after validation (dropout off) — call model.train() first"
    assert all(training), mistake


# --- the checks on this project's model and loop -------------------------------------------


def test_initial_loss_is_what_the_task_predicts(setup: dict[str, Any]) -> None:
    check_initial_loss(new_model(setup), setup["criterion"], setup["batch"])


def test_returns_raw_scores(setup: dict[str, Any]) -> None:
    check_returns_raw_scores(fit_one_batch(new_model(setup), setup["criterion"], setup["batch"])[2])


def test_overfits_one_batch(setup: dict[str, Any]) -> None:
    check_overfits_one_batch(new_model(setup), setup["criterion"], setup["batch"])


def test_targets_fit_the_loss(setup: dict[str, Any]) -> None:
    model, (x, y) = new_model(setup), setup["batch"]
    check_targets_fit_the_loss(model(x), y, setup["targets"].names)


def test_samples_do_not_mix(setup: dict[str, Any]) -> None:
    check_samples_do_not_mix(new_model(setup), setup["batch"])


def test_every_parameter_learns(setup: dict[str, Any]) -> None:
    check_every_parameter_learns(new_model(setup), setup["criterion"], setup["batch"])


def test_validation_and_training_modes(setup: dict[str, Any]) -> None:
    check_modes(new_model(setup), setup["criterion"], setup["batch"], setup["targets"])


# --- each check catches the mistake it names -------------------------------------------------


class Broken(nn.Module):
    """The project's model with one classic mistake added after it."""

    def __init__(self, model: nn.Module, mistake: Callable[[torch.Tensor], torch.Tensor]) -> None:
        super().__init__()
        self.model, self.mistake = model, mistake

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.mistake(self.model(x))


def fails(check: Callable, *args: Any, says: str) -> None:
    with pytest.raises(AssertionError, match=says):
        check(*args)


def test_a_head_initialised_too_large_is_caught(setup: dict[str, Any]) -> None:
    signs = torch.tensor([(-1.0) ** k for k in range(len(setup["targets"].names))])
    model = Broken(new_model(setup), lambda logits: logits + 10 * signs)  # a bias of +-10
    fails(check_initial_loss, model, setup["criterion"], setup["batch"], says="starts too large")


def zero_grad_after_backward(model, loader, criterion, optimizer, scaler, autocast, run) -> float:
    model.train()
    for x, y in loader:
        loss = criterion(model(x), y)
        loss.backward()
        optimizer.zero_grad()  # the mistake: the gradients are gone before step()
        optimizer.step()
    return loss.item()


def test_a_loop_that_does_not_learn_is_caught(setup: dict[str, Any]) -> None:
    args = new_model(setup), setup["criterion"], setup["batch"], zero_grad_after_backward
    fails(check_overfits_one_batch, *args, says="does not update the weights")


def test_an_activation_before_the_loss_is_caught(setup: dict[str, Any]) -> None:
    squashed = torch.sigmoid(torch.randn(8, len(setup["targets"].names)))
    fails(check_returns_raw_scores, squashed, says="ends in")


def test_targets_of_the_wrong_dtype_or_shape_are_caught(setup: dict[str, Any]) -> None:
    model, (x, y) = new_model(setup), setup["batch"]
    wrong = y.squeeze(1) if y.shape[1] == 1 else y[:, 0]  # (N,) against logits (N, K)
    args = model(x), wrong, setup["targets"].names
    fails(check_targets_fit_the_loss, *args, says="the targets are")


def test_samples_that_mix_are_caught(setup: dict[str, Any]) -> None:
    model = Broken(new_model(setup), lambda logits: logits - logits.mean(dim=0))
    fails(check_samples_do_not_mix, model, setup["batch"], says="mixes samples")


def test_a_parameter_without_gradient_is_caught(setup: dict[str, Any]) -> None:
    model = new_model(setup)
    model.unused = nn.Linear(2, 2)  # defined in __init__, never called in forward()
    args = model, setup["criterion"], setup["batch"]
    fails(check_every_parameter_learns, *args, says="'unused.weight' gets no gradient")


@torch.no_grad()
def validate_in_train_mode(model, loader, criterion, targets, procs) -> tuple[float, dict]:
    return sum(criterion(model(x), y).item() for x, y in loader), {}  # the mistake: no eval()


def validate_with_gradients(model, loader, criterion, targets, procs) -> tuple[float, dict]:
    model.eval()  # the mistake: no torch.no_grad()
    return sum(criterion(model(x), y).item() for x, y in loader), {}


@torch.no_grad()
def validate_correctly(model, loader, criterion, targets, procs) -> tuple[float, dict]:
    model.eval()  # so that the last case fails for its own mistake only
    return sum(criterion(model(x), y).item() for x, y in loader), {}


def train_without_train_mode(model, loader, criterion, optimizer, scaler, autocast, run) -> float:
    for x, y in loader:  # the mistake: no model.train(), so dropout stays off after validation
        optimizer.zero_grad()
        criterion(model(x), y).backward()
        optimizer.step()
    return 0.0


@pytest.mark.parametrize(
    "train, validate, says",
    [
        (train_one_epoch, validate_in_train_mode, "call model.eval"),
        (train_one_epoch, validate_with_gradients, "torch.no_grad"),
        (train_without_train_mode, validate_correctly, "call model.train"),
    ],
)
def test_wrong_modes_are_caught(setup: dict[str, Any], train, validate, says: str) -> None:
    args = new_model(setup), setup["criterion"], setup["batch"], setup["targets"], train, validate
    fails(check_modes, *args, says=says)
