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
    """[Numeric embeddings], then Linear -> ReLU -> Dropout blocks, then a linear head with one
    output per target."""

    def __init__(
        self,
        in_features: int,
        out_features: int,
        hidden_sizes: list[int],
        dropout: float,
        numeric_bins: list | None = None,
    ) -> None:
        super().__init__()
        # Piecewise-linear embeddings give the MLP step-like functions of each number, as the
        # splits of a gradient-boosted tree are (Gorishniy et al. 2022; TabM's default).
        self.embedding = PiecewiseLinear(numeric_bins) if numeric_bins else None
        width = in_features + (self.embedding.out_features if self.embedding else 0)
        layers: list[nn.Module] = []
        for hidden in hidden_sizes:
            layers += [nn.Linear(width, hidden), nn.ReLU(), nn.Dropout(dropout)]
            width = hidden
        self.body = nn.Sequential(*layers)
        self.head = nn.Linear(width, out_features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, F) -> (B, out_features)
        if self.embedding is not None:
            x = torch.cat([x, self.embedding(x)], dim=1)
        return self.head(self.body(x))


class PiecewiseLinear(nn.Module):
    """Each numeric feature x -> how far x has filled each of its training-quantile bins (0
    below a bin, 1 above it, linear within) -> its own Linear -> ReLU: (B, F) -> (B, N * 16).

    `numeric_bins` is [[feature index, bin edges], ...] (Preprocessing.input_args)."""

    def __init__(self, numeric_bins: list, size: int = 16) -> None:
        super().__init__()
        n, most = len(numeric_bins), max(len(edges) - 1 for _, edges in numeric_bins)
        left, width, mask = torch.zeros(n, most), torch.ones(n, most), torch.zeros(n, most)
        for i, (_, edges) in enumerate(numeric_bins):
            edges = torch.tensor(edges, dtype=torch.float32)
            k = len(edges) - 1  # features with fewer distinct values have fewer bins
            left[i, :k], width[i, :k], mask[i, :k] = edges[:-1], edges.diff().clamp(min=1e-6), 1.0
        index = torch.tensor([feature for feature, _ in numeric_bins])
        for name, value in {"index": index, "left": left, "width": width, "mask": mask}.items():
            self.register_buffer(name, value, persistent=False)
        self.weight = nn.Parameter(torch.empty(n, most, size).uniform_(-1, 1) / most**0.5)
        self.bias = nn.Parameter(torch.empty(n, size).uniform_(-1, 1) / most**0.5)
        self.out_features = n * size

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.index_select(1, self.index).unsqueeze(-1)  # (B, N, 1)
        encoded = ((x - self.left) / self.width).clamp(0, 1) * self.mask  # (B, N, bins)
        h = torch.einsum("bnk,nks->bns", encoded, self.weight) + self.bias
        return torch.relu(h).flatten(1)


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
    numeric_bins = kwargs.pop("numeric_bins")
    if cfg.model == "mlp":
        kwargs |= {"hidden_sizes": cfg.hidden_sizes, "dropout": cfg.dropout}
        if cfg.numeric_embedding == "piecewise" and numeric_bins:
            kwargs["numeric_bins"] = numeric_bins
    return kwargs


def build_model(name: str, **args: Any) -> nn.Module:
    models = {"mlp": MLP, "linear": LinearModel}
    if name not in models:
        raise ValueError(f"unknown model {name!r}; choose from {list(models)}")
    return models[name](**args)
