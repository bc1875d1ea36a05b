"""The model. It returns raw scores (logits, or standardized values for regression): the loss
applies the final activation itself and predict() in task.py applies it at prediction time,
so no model here ends in softmax or sigmoid.

Checkpoints store the constructor's keyword arguments as plain values ("model_args"), so
`build_model(**checkpoint["model_args"])` rebuilds the same architecture with nothing else.
"""

from typing import Any

import torch
from torch import nn

from config import Config


class MLP(nn.Module):
    """Linear -> ReLU -> Dropout blocks, then a linear head with one output per target."""

    def __init__(
        self, in_features: int, out_features: int, hidden_sizes: list[int], dropout: float
    ) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        width = in_features
        for hidden in hidden_sizes:
            layers += [nn.Linear(width, hidden), nn.ReLU(), nn.Dropout(dropout)]
            width = hidden
        self.body = nn.Sequential(*layers)
        self.head = nn.Linear(width, out_features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, F) -> (B, out_features)
        return self.head(self.body(x))


class LinearModel(nn.Module):
    """One linear layer: linear regression, or logistic regression when its outputs go to a
    sigmoid / softmax loss. A baseline every deeper model should beat."""

    def __init__(self, in_features: int, out_features: int) -> None:
        super().__init__()
        self.head = nn.Linear(in_features, out_features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, F) -> (B, out_features)
        return self.head(x)


def model_kwargs(cfg: Config, input_args: dict[str, Any], out_features: int) -> dict[str, Any]:
    """Everything build_model needs, as plain values (stored in every checkpoint)."""
    kwargs = {"name": cfg.model, **input_args, "out_features": out_features}
    if cfg.model == "mlp":
        kwargs |= {"hidden_sizes": cfg.hidden_sizes, "dropout": cfg.dropout}
    return kwargs


def build_model(name: str, **args: Any) -> nn.Module:
    models = {"mlp": MLP, "linear": LinearModel}
    if name not in models:
        raise ValueError(f"unknown model {name!r}; choose from {list(models)}")
    return models[name](**args)
