"""The model. It returns raw scores (logits, or standardized values for regression): the loss
applies the final activation itself and predict() in task.py applies it at prediction time,
so no model here ends in softmax or sigmoid.

Checkpoints store the constructor's keyword arguments as plain values ("model_args"), so
`build_model(**checkpoint["model_args"])` rebuilds the same architecture with nothing else.
Both models read x (B, L): token ids, 0 = padding (preprocessing.py).
"""

from typing import Any

import torch
from torch import nn

from config import Config


class BagOfEmbeddings(nn.Module):
    """fastText-style (Joulin et al. 2017): a text is the weighted mean of its tokens'
    embeddings (words and word pairs, in any order), then a linear head. Each token weighs its
    idf, as in TF-IDF: rare, telling words count more than "the"."""

    def __init__(
        self, vocab_size: int, out_features: int, embedding_dim: int, dropout: float, idf: list
    ) -> None:
        super().__init__()
        self.embedding = nn.EmbeddingBag(vocab_size, embedding_dim, mode="sum", padding_idx=0)
        # Small initial embeddings (fastText's): a word seen once in training stays close to
        # zero instead of adding a large random vector to every text that holds it.
        nn.init.uniform_(self.embedding.weight, -1 / embedding_dim, 1 / embedding_dim)
        self.register_buffer("idf", torch.tensor(idf), persistent=False)  # idf[0] = 0: padding
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(embedding_dim, out_features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, L) -> (B, out_features)
        weights = self.idf[x]  # (B, L)
        weights = weights / weights.norm(dim=1, keepdim=True).clamp(min=1e-6)  # unit length
        pooled = self.embedding(x, per_sample_weights=weights)  # (B, embedding_dim)
        return self.head(self.dropout(pooled))


class SmallTransformer(nn.Module):
    """Token and position embeddings, a Transformer encoder that ignores the padding, then the
    mean of the text's token vectors and a linear head. Slower than the bag, but it reads word
    order ("not good" vs "good, not")."""

    def __init__(
        self,
        vocab_size: int,
        out_features: int,
        embedding_dim: int,
        dropout: float,
        max_tokens: int,
        layers: int,
        heads: int,
    ) -> None:
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embedding_dim, padding_idx=0)
        self.position = nn.Embedding(max_tokens, embedding_dim)
        layer = nn.TransformerEncoderLayer(
            embedding_dim, heads, 4 * embedding_dim, dropout, batch_first=True, norm_first=True
        )
        self.encoder = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(embedding_dim)
        self.head = nn.Linear(embedding_dim, out_features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, L) -> (B, out_features)
        padding = x == 0  # (B, L): True where there is no token
        positions = torch.arange(x.shape[1], device=x.device)
        h = self.embedding(x) + self.position(positions)  # (B, L, embedding_dim)
        h = self.encoder(h, src_key_padding_mask=padding)
        keep = (~padding).unsqueeze(-1).to(h.dtype)
        pooled = (h * keep).sum(1) / keep.sum(1)  # mean over the tokens (never 0 of them)
        return self.head(self.norm(pooled))


def model_kwargs(cfg: Config, input_args: dict[str, Any], out_features: int) -> dict[str, Any]:
    """Everything build_model needs, as plain values (stored in every checkpoint)."""
    kwargs = {"name": cfg.model, "vocab_size": input_args["vocab_size"]}
    kwargs |= {"out_features": out_features, "embedding_dim": cfg.embedding_dim}
    kwargs["dropout"] = cfg.dropout
    if cfg.model == "bag":
        return kwargs | {"idf": input_args["idf"]}
    kwargs["max_tokens"] = input_args["max_tokens"]
    return kwargs | {"layers": cfg.layers, "heads": cfg.heads}


def build_model(name: str, **args: Any) -> nn.Module:
    models = {"bag": BagOfEmbeddings, "transformer": SmallTransformer}
    if name not in models:
        raise ValueError(f"unknown model {name!r}; choose from {list(models)}")
    return models[name](**args)
