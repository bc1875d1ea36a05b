"""Step 2 of the pipeline, for texts: texts -> token ids, and targets -> tensors.

The vocabulary is fit on the training split only and kept as plain values (`state_dict()`) in
every checkpoint, so eval.py and predict.py read texts exactly as training did. Nothing is
downloaded: a text is lower-cased and split into words by a regular expression, and the
vocabulary is the most frequent training words (and word pairs, for the bag model).
"""

import math
import re
from collections import Counter
from itertools import chain
from pathlib import Path
from typing import Any

import pandas as pd
import torch
from torch.utils.data import TensorDataset

import task
from config import Config
from data_files import about
from data_loader import Samples

PAD, UNKNOWN = 0, 1  # token ids: padding, and any word the vocabulary does not hold
# Chinese and Japanese write no spaces between words: each of their characters is a token.
CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
# A token: one CJK character, a run of letters and digits, or one other visible character
# (punctuation, an emoji).
TOKEN = re.compile(rf"[{CJK}]|[^\W{CJK}]+|[^\w\s]")


def words(text: str) -> list[str]:
    """'Great phone, 10/10!' -> ['great', 'phone', ',', '10', '/', '10', '!']"""
    return TOKEN.findall(text.lower())


def ngrams(tokens: list[str], n: int) -> list[str]:
    """The words, then (n = 2) each pair of neighbouring words: 'great phone', ..."""
    if n == 1:
        return tokens
    return tokens + [f"{a} {b}" for a, b in zip(tokens[:-1], tokens[1:], strict=True)]


class Preprocessing:
    """Texts -> (N, L) int64 token ids, padded with PAD; and the targets (task.Targets).

    `vocabulary` lists the tokens by id (ids 0 and 1 are PAD and UNKNOWN); `idf` is each id's
    inverse document frequency in the training split (rare tokens weigh more; the bag model
    uses it). Texts longer than `max_tokens` words are cut off."""

    def __init__(
        self,
        column: str,
        vocabulary: list[str],
        idf: list[float],
        n: int,
        max_tokens: int,
        targets: task.Targets,
    ) -> None:
        self.column, self.vocabulary, self.idf, self.n = column, vocabulary, idf, n
        self.max_tokens, self.targets = max_tokens, targets
        self.ids = {token: i for i, token in enumerate(vocabulary)}

    @classmethod
    def fit(cls, train: Samples, cfg: Config) -> "Preprocessing":
        """The `cfg.vocab_size` most frequent training tokens seen at least `cfg.min_count`
        times (ties in alphabetical order), and their idf."""
        n = cfg.ngrams if cfg.model == "bag" else 1  # the transformer reads word order itself
        texts = [ngrams(words(t)[: cfg.max_tokens], n) for t in train.table[cfg.text_column]]
        counts = Counter(token for tokens in texts for token in tokens)
        frequent = sorted((c for c in counts.items() if c[1] >= cfg.min_count), key=by_count)
        vocabulary = ["<pad>", "<unknown>", *(token for token, _ in frequent[: cfg.vocab_size])]
        ids = {token: i for i, token in enumerate(vocabulary)}
        documents = Counter(i for tokens in texts for i in set(encode(tokens, ids)))
        # Smoothed as in scikit-learn's TfidfVectorizer: ln((1 + N) / (1 + df)) + 1.
        idf = [math.log((1 + len(texts)) / (1 + documents[i])) + 1 for i in range(len(ids))]
        with about(train.path):
            targets = task.Targets.fit(train.table[cfg.target], cfg)
        return cls(cfg.text_column, vocabulary, [0.0, *idf[1:]], n, cfg.max_tokens, targets)

    def dataset(self, samples: Samples) -> TensorDataset:
        """A split as tensors: x (N, L) int64 token ids, y as task.py documents."""
        x = self.transform(samples.table[self.column], samples.path)
        with about(samples.path):
            return TensorDataset(x, self.targets.encode(samples.table))

    def transform(self, texts: pd.Series, path: Path) -> torch.Tensor:
        """(N, L) token ids of texts, padded to the longest (L: at most max_tokens words, and
        their word pairs)."""
        split = [words(text) for text in texts]
        if long := sum(len(tokens) > self.max_tokens for tokens in split):
            print(
                f"note: {path}: {long} text(s) longer than --max-tokens {self.max_tokens} words: "
                "using their beginning"
            )
        ids = [encode(ngrams(tokens[: self.max_tokens], self.n), self.ids) for tokens in split]
        lengths = torch.tensor([len(text) for text in ids])
        x = torch.full((len(ids), int(lengths.max())), PAD, dtype=torch.int64)
        x[torch.arange(x.shape[1]) < lengths[:, None]] = torch.tensor([*chain(*ids)])  # row by row
        return x

    def input_args(self) -> dict[str, Any]:
        """What the model needs to know about its input."""
        return {"vocab_size": len(self.vocabulary), "idf": self.idf, "max_tokens": self.max_tokens}

    def state_dict(self) -> dict[str, Any]:
        features = {"column": self.column, "vocabulary": self.vocabulary, "idf": self.idf}
        features |= {"ngrams": self.n, "max_tokens": self.max_tokens}
        return {"features": features, "targets": self.targets.state_dict()}

    @classmethod
    def from_state_dict(cls, state: dict[str, Any]) -> "Preprocessing":
        f = state["features"]
        targets = task.Targets.from_state_dict(state["targets"])
        return cls(f["column"], f["vocabulary"], f["idf"], f["ngrams"], f["max_tokens"], targets)


def encode(tokens: list[str], ids: dict[str, int]) -> list[int]:
    """Token ids: an unknown word is UNKNOWN, an unknown word pair is left out; a text
    without any token is one UNKNOWN."""
    return [ids.get(t, UNKNOWN) for t in tokens if t in ids or " " not in t] or [UNKNOWN]


def by_count(item: tuple[str, int]) -> tuple[int, str]:
    """Sort key: the most frequent first, ties alphabetically (the same vocabulary every run)."""
    return -item[1], item[0]
