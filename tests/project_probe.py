"""Runs inside a generated project (cwd) and prints one JSON line about it.

    python project_probe.py wiring            # loss, head size, target dtype, activations
    python project_probe.py predictions RUN   # test-split labels, predictions and baseline data

Used by the scaffold test suite; it imports the project's own modules, as its scripts do.
"""

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path.cwd()))

import task  # noqa: E402
import torch  # noqa: E402
from config import Config  # noqa: E402
from data_loader import load_splits  # noqa: E402
from model import build_model, model_args  # noqa: E402
from torch import nn  # noqa: E402
from utils import collect_logits, load_checkpoint  # noqa: E402

ACTIVATIONS = (nn.Softmax, nn.LogSoftmax, nn.Sigmoid, nn.Softmin, nn.Tanh)


def wiring() -> dict:
    cfg = Config()
    data = load_splits(cfg)
    model = build_model(**model_args(cfg, data.input_args(), len(data.targets.names)))
    criterion = task.make_loss(cfg, data.targets, data.train.y)
    model.eval()
    with torch.no_grad():
        out = model(data.train.x[:64])
        # Push the head's bias to 5: raw scores follow it, a sigmoid/softmax would cap them at 1.
        head = [m for m in model.modules() if isinstance(m, nn.Linear)][-1]
        head.bias.fill_(5.0)
        shifted = model(data.train.x[:64])
    return {
        "loss": type(criterion).__name__,
        "head_size": out.shape[1],
        "n_names": len(data.targets.names),
        "target_dtype": str(data.train.y.dtype).removeprefix("torch."),
        "target_shape": list(data.train.y.shape),
        "output_shape": list(out.shape),
        "activation_modules": [
            type(m).__name__ for m in model.modules() if isinstance(m, ACTIVATIONS)
        ],
        "last_layer": type(list(model.modules())[-1]).__name__,
        "shifted_min": shifted.min().item(),
        "row_sums_to_one": bool(
            torch.allclose(out.sum(dim=1), torch.ones(out.shape[0]), atol=1e-3)
        ),
        "main_metric": task.MAIN_METRIC,
        "classes": getattr(data.targets, "classes", None),
    }


def predictions(run_dir: str) -> dict:
    checkpoint = load_checkpoint(Path(run_dir) / "best.pt")
    cfg = Config.from_dict(checkpoint["config"])
    data = load_splits(cfg, checkpoint["preprocessing"])
    model = build_model(**checkpoint["model_args"])
    model.load_state_dict(checkpoint["model"])
    logits = collect_logits(model, data.test.inputs(256))
    pred, probs = task.predict(logits, data.targets)
    decode = getattr(data.targets, "decode", lambda y: y)
    return {
        "y_test": decode(data.test.y).tolist(),
        "y_train": decode(data.train.y).tolist(),
        "pred": pred.tolist(),
        "probs": None if probs is None else probs.tolist(),
        "classes": getattr(data.targets, "classes", None),
    }


if __name__ == "__main__":
    command, *args = sys.argv[1:]
    print(json.dumps({"wiring": wiring, "predictions": predictions}[command](*args)))
