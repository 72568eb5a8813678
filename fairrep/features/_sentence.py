"""A transformers text encoder from a local folder, pooled as sentence-transformers does."""

import json
import os
from pathlib import Path

import numpy as np
import torch

from ._audio import _require
from ._cache import file_fingerprint

__all__ = ["SentenceEncoder"]

_POOLING_KEYS = {
    "pooling_mode_cls_token": "cls",
    "pooling_mode_mean_tokens": "mean",
    "pooling_mode_max_tokens": "max",
}


def _read_modules(root, pooling):
    """Encoder folder, pooling and normalisation of a sentence-transformers folder."""
    encoder, normalize = root, False
    for module in json.loads((root / "modules.json").read_text(encoding="utf-8")):
        kind = str(module.get("type", "")).rsplit(".", 1)[-1]
        where = root / str(module.get("path", ""))
        if kind == "Transformer":
            encoder = where
        elif kind == "Pooling" and pooling == "auto":
            config = json.loads((where / "config.json").read_text(encoding="utf-8"))
            modes = [mode for key, mode in _POOLING_KEYS.items() if config.get(key)]
            if len(modes) != 1:
                raise ValueError(
                    f"model_path={str(root)!r}: the pooling of {where / 'config.json'} "
                    "is not one of cls, mean or max; pass pooling='mean', 'cls' or 'max'."
                )
            pooling = modes[0]
        elif kind == "Normalize":
            normalize = True
        elif kind != "Pooling":
            raise ValueError(
                f"model_path={str(root)!r} has a sentence-transformers module {kind!r} "
                f"({module.get('path')}) that fairrep does not apply; only Transformer, "
                "Pooling and Normalize are supported."
            )
    return encoder, pooling, normalize


class SentenceEncoder:
    """A tokenizer and encoder loaded from a local folder, with their pooling.

    Parameters
    ----------
    model_path : str or os.PathLike
        A saved transformers encoder with its tokenizer (``save_pretrained``
        layout) or a sentence-transformers folder (``modules.json``, whose
        ``Pooling`` and ``Normalize`` modules are applied).
    pooling : {"auto", "mean", "cls", "max"}
        ``"auto"``: the sentence-transformers pooling, else the mean over
        the tokens.
    max_length : int
        Longest input in tokens (capped by the encoder's own limit).
    device : str or torch.device

    Attributes
    ----------
    pooling : str
        The pooling applied.
    normalize : bool
        Whether pooled vectors are scaled to unit length.
    max_length : int
    hidden_size : int
    model_files : list of str
        Path, size and modification time of every file of the folder (the
        cache key).
    """

    def __init__(self, model_path, *, pooling, max_length, device):
        transformers = _require("transformers", "transformers")
        from ..utils._torch import resolve_device

        root = Path(model_path)
        encoder, normalize = root, False
        if (root / "modules.json").is_file():
            encoder, pooling, normalize = _read_modules(root, pooling)
        if not (encoder / "config.json").is_file():
            raise FileNotFoundError(
                f"model_path={os.fspath(model_path)!r} is not a saved transformers "
                "encoder: expected a folder with config.json, the weights and the "
                "tokenizer files (the layout written by save_pretrained)."
            )
        try:
            self.tokenizer = transformers.AutoTokenizer.from_pretrained(
                str(encoder), local_files_only=True)
            model = transformers.AutoModel.from_pretrained(str(encoder), local_files_only=True)
        except (OSError, ValueError, KeyError) as error:
            raise ValueError(
                f"could not load a tokenizer and an encoder from model_path="
                f"{os.fspath(model_path)!r}: {error}"
            ) from error
        self.model_path = os.fspath(model_path)
        self.pooling = "mean" if pooling == "auto" else pooling
        self.normalize = normalize
        self.device = resolve_device(device)
        self.model = model.to(self.device).eval()
        limits = [max_length, getattr(model.config, "max_position_embeddings", None),
                  getattr(self.tokenizer, "model_max_length", None)]
        self.max_length = int(min(n for n in limits if n is not None and 0 < n < 10**6))
        self.hidden_size = int(model.config.hidden_size)
        self.model_files = sorted(
            file_fingerprint(path) for path in root.rglob("*") if path.is_file()
        )

    def encode(self, texts):
        """Pooled last hidden states of ``texts`` (a list of str).

        A float64 array of shape (len(texts), hidden_size).
        """
        batch = self.tokenizer(texts, padding=True, truncation=True,
                               max_length=self.max_length, return_tensors="pt")
        batch = {key: value.to(self.device) for key, value in batch.items()}
        with torch.inference_mode():
            hidden = self.model(**batch).last_hidden_state
        mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        if self.pooling == "cls":
            pooled = hidden[:, 0]
        elif self.pooling == "max":
            pooled = hidden.masked_fill(mask == 0, float("-inf")).max(dim=1).values
        else:
            pooled = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1)
        if self.normalize:
            pooled = torch.nn.functional.normalize(pooled, dim=1)
        vectors = pooled.double().cpu().numpy()
        if not np.isfinite(vectors).all():
            raise ValueError(
                f"the encoder in model_path={self.model_path!r} gave non-finite vectors; "
                "expected finite values."
            )
        return vectors
