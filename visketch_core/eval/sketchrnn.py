"""SketchRNN's unconditional decoder in torch: a baseline for the generation benchmark.

The models are Magenta's published sketch-rnn-js generators (``<class>.gen.json``, Apache
2.0), trained by Google on Quick, Draw! (CC BY 4.0). A file is the JSON list
``[info, shapes, weights]``:

- ``info``: ``name``, ``scale_factor`` (model units -> the training data's pixels),
  ``max_seq_len``, ``mode``, ``version``.
- ``shapes`` and ``weights``, five tensors in this order, each a base64 string of
  little-endian int16 that dequantises as ``10 * q / 32767``:

  ====  ===============  ==========================================================
  0     (H, 3 + 6M)      output kernel: ``z = h @ W + b``
  1     (3 + 6M,)        output bias
  2     (5, 4H)          LSTM input kernel (the stroke-5 input)
  3     (H, 4H)          LSTM recurrent kernel
  4     (4H,)            LSTM bias
  ====  ===============  ==========================================================

  with H = 512 units and M = 20 mixtures. The shapes carry no layer-norm gains and no
  hyper-network, so the cell is TensorFlow's plain ``BasicLSTMCell``: the gate columns are
  ordered (input i, candidate j, forget f, output o), a constant forget bias of 1.0 is
  added inside the forget sigmoid, and the state starts at zero.

- Output head ``z`` (3 + 6M,): 3 pen logits (pen down, pen up, end of sketch), then six
  blocks of M: mixture logits, mu_x, mu_y, log sigma_x, log sigma_y and the raw
  correlation (``tanh``). Offsets are in model units (the training offsets divided by
  ``scale_factor``); the first input is ``[0, 0, 1, 0, 0]`` and each sampled step is fed
  back as the next input.
- Temperature T, as in sketch-rnn-js: the sigmas are scaled by sqrt(T) and the mixture and
  pen logits are divided by ``0.5 + 0.5 * T``.

``sample`` returns ``Sketch`` objects normalised into the 256 px frame (``normalise``),
the frame the project's own generated sketches are judged in.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from pathlib import Path

import numpy as np
import torch
from torch import nn

from visketch_core.errors import ModelError
from visketch_core.sketch.model import Sketch, normalise
from visketch_core.sketch.stroke3 import stroke3_to_strokes

DEQUANT = 10.0 / 32767.0  # int16 -> float, as the JS library decodes the weights
FORGET_BIAS = 1.0
PEN_STATES = 3  # pen down, pen up, end of sketch


def _decode(b64: str, shape: list[int], path: Path, index: int) -> np.ndarray:
    """One base64 int16 tensor -> float32 array of ``shape``; ModelError on a mismatch."""
    try:
        raw = base64.b64decode(b64, validate=True)
    except (binascii.Error, ValueError, TypeError):
        raise ModelError(f"{path}: weight {index} is not valid base64") from None
    want = int(np.prod(shape))
    if len(raw) != 2 * want:
        raise ModelError(f"{path}: weight {index} holds {len(raw) // 2} values, "
                         f"its shape {shape} needs {want}")
    q = np.frombuffer(raw, dtype="<i2").astype(np.float32)
    return (q * np.float32(DEQUANT)).reshape(shape)


class SketchRNNDecoder(nn.Module):
    """Decoder-only SketchRNN: an LSTM over stroke-5 with a bivariate mixture head.

    Buffers (float32): ``w_x`` (5, 4H), ``w_h`` (H, 4H), ``b`` (4H,), ``w_out`` (H, 3+6M),
    ``b_out`` (3+6M,). ``info`` is the file's info dict; ``shapes`` the file's shapes.
    """

    def __init__(self, weights: list[np.ndarray], info: dict, shapes: list[list[int]],
                 path: str | None = None):
        super().__init__()
        w_out, b_out, w_x, w_h, b = (torch.from_numpy(np.ascontiguousarray(w)) for w in weights)
        self.register_buffer("w_out", w_out)
        self.register_buffer("b_out", b_out)
        self.register_buffer("w_x", w_x)
        self.register_buffer("w_h", w_h)
        self.register_buffer("b", b)
        self.info = dict(info)
        self.shapes = [list(s) for s in shapes]
        self.path = path
        self.units = int(w_h.shape[0])
        self.mixtures = (int(w_out.shape[1]) - PEN_STATES) // 6

    @property
    def name(self) -> str:
        return str(self.info.get("name", "sketch"))

    @property
    def scale_factor(self) -> float:
        return float(self.info["scale_factor"])

    @property
    def max_seq_len(self) -> int:
        return int(self.info["max_seq_len"])

    def zero_state(self, batch: int) -> tuple[torch.Tensor, torch.Tensor]:
        """(h, c), each float32 (batch, H) zeros: the decoder's start state."""
        z = torch.zeros(batch, self.units, dtype=self.w_h.dtype, device=self.w_h.device)
        return z, z.clone()

    def start_input(self, batch: int) -> torch.Tensor:
        """float32 (batch, 5): ``[0, 0, 1, 0, 0]``, the start token of every sequence."""
        x = torch.zeros(batch, 5, dtype=self.w_h.dtype, device=self.w_h.device)
        x[:, 2] = 1.0
        return x

    def step(self, x: torch.Tensor, state: tuple[torch.Tensor, torch.Tensor]
             ) -> tuple[torch.Tensor, torch.Tensor]:
        """One LSTM step. x: float32 (B, 5) stroke-5 in model units; state (h, c) (B, H)."""
        h, c = state
        gates = x @ self.w_x + h @ self.w_h + self.b
        i, j, f, o = gates.chunk(4, dim=1)
        c = torch.sigmoid(f + FORGET_BIAS) * c + torch.sigmoid(i) * torch.tanh(j)
        h = torch.sigmoid(o) * torch.tanh(c)
        return h, c

    def head(self, h: torch.Tensor, temperature: float = 1.0) -> dict[str, torch.Tensor]:
        """Mixture parameters of the next point from h (B, H).

        Returns ``pen_logits`` (B, 3) and ``log_pi`` (B, M) (log-softmax, tempered),
        ``mu_x``, ``mu_y``, ``sigma_x``, ``sigma_y``, ``rho``: (B, M). At temperature 1
        they are the model's own distribution (the one the log-likelihood uses).
        """
        z = h @ self.w_out + self.b_out
        pen, rest = z[:, :PEN_STATES], z[:, PEN_STATES:]
        logit_pi, mu_x, mu_y, ls_x, ls_y, r = rest.chunk(6, dim=1)
        soft_t = 0.5 + 0.5 * temperature  # sketch-rnn-js's heuristic for the discrete parts
        sq = math.sqrt(temperature)
        return {
            "pen_logits": torch.log_softmax(pen / soft_t, dim=1),
            "log_pi": torch.log_softmax(logit_pi / soft_t, dim=1),
            "mu_x": mu_x, "mu_y": mu_y,
            "sigma_x": torch.exp(ls_x) * sq, "sigma_y": torch.exp(ls_y) * sq,
            "rho": torch.tanh(r),
        }


def load(path: str | Path) -> SketchRNNDecoder:
    """Read a sketch-rnn-js ``.gen.json`` decoder (CPU, eval mode). Raises ModelError."""
    path = Path(path)
    if not path.is_file():
        raise ModelError(f"{path}: SketchRNN model file not found")
    try:
        blob = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelError(f"{path}: not a readable SketchRNN .gen.json file "
                         f"({exc.__class__.__name__})") from None
    if not (isinstance(blob, list) and len(blob) == 3 and isinstance(blob[0], dict)
            and isinstance(blob[1], list) and isinstance(blob[2], list)):
        raise ModelError(f"{path}: not a SketchRNN .gen.json file (expected [info, shapes, weights])")
    info, shapes, weights = blob
    for key in ("scale_factor", "max_seq_len"):
        if not isinstance(info.get(key), (int, float)) or info[key] <= 0:
            raise ModelError(f"{path}: info has no positive {key!r}")
    if len(shapes) != 5 or len(weights) != 5:
        raise ModelError(f"{path}: expected 5 weight tensors (a plain-LSTM decoder), "
                         f"got {len(weights)}")
    try:
        shapes = [[int(d) for d in s] for s in shapes]
        hid, nout = shapes[0]
    except (TypeError, ValueError):
        raise ModelError(f"{path}: malformed weight shapes") from None
    expect = [[hid, nout], [nout], [5, 4 * hid], [hid, 4 * hid], [4 * hid]]
    if shapes != expect or (nout - PEN_STATES) % 6 or nout <= PEN_STATES:
        raise ModelError(f"{path}: weight shapes {shapes} are not a plain-LSTM SketchRNN "
                         f"decoder (expected {expect} with 3 + 6 * mixtures outputs)")
    if not all(isinstance(w, str) for w in weights):
        raise ModelError(f"{path}: weights must be base64 strings")
    arrays = [_decode(w, s, path, i) for i, (w, s) in enumerate(zip(weights, shapes))]
    return SketchRNNDecoder(arrays, info, shapes, str(path)).eval()


def _pick(logp: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """One index per row from log-probabilities (B, K) -> int64 (B,)."""
    return torch.multinomial(logp.exp(), 1, generator=gen).squeeze(1)


@torch.no_grad()
def sample_stroke5(model: SketchRNNDecoder, n: int, seed: int, temperature: float = 0.25,
                   max_len: int | None = None) -> list[np.ndarray]:
    """Sample n sequences in one batch -> float32 (T_i, 5) stroke-5 in model units each,
    without the end-of-sketch row. Deterministic for a seed (CPU)."""
    if n <= 0:
        return []
    if temperature <= 0:
        raise ValueError("temperature must be positive")
    gen = torch.Generator().manual_seed(int(seed))
    max_len = max_len or model.max_seq_len
    state = model.zero_state(n)
    x = model.start_input(n)
    rows = torch.zeros(max_len, n, 5)
    length = torch.full((n,), max_len, dtype=torch.int64)
    done = torch.zeros(n, dtype=torch.bool)
    ar = torch.arange(n)
    for t in range(max_len):
        state = model.step(x, state)
        p = model.head(state[0], temperature)
        k = _pick(p["log_pi"], gen)
        pen = _pick(p["pen_logits"], gen)
        mx, my = p["mu_x"][ar, k], p["mu_y"][ar, k]
        sx, sy, rho = p["sigma_x"][ar, k], p["sigma_y"][ar, k], p["rho"][ar, k]
        z1, z2 = torch.randn(2, n, generator=gen)
        # correlated pair: y from z2, x mixes in z2 by rho (a Cholesky factor of the 2x2)
        dx = mx + sx * (rho * z2 + torch.sqrt(1 - rho * rho) * z1)
        dy = my + sy * z2
        x = torch.zeros(n, 5)
        x[:, 0], x[:, 1] = dx, dy
        x[ar, 2 + pen] = 1.0
        rows[t] = x
        ended = (pen == 2) & ~done
        length[ended] = t
        done |= ended
        if bool(done.all()):
            break
    seqs = rows.permute(1, 0, 2).numpy()
    return [seqs[i, : int(length[i])].copy() for i in range(n)]


def stroke5_to_sketch(seq: np.ndarray, scale: float, label: str | None = None,
                      source: str | None = None) -> Sketch:
    """float (T, 5) stroke-5 in model units -> a Sketch normalised into the 256 px frame."""
    arr = np.asarray(seq, dtype=np.float64).reshape(-1, 5)
    if len(arr) == 0:  # ended at once: nothing was drawn
        return Sketch(label=label, source=source)
    # the pen starts down at the origin (the start token's state): that point opens stroke 1
    s3 = np.vstack([np.zeros((1, 3)), np.column_stack([arr[:, :2] * scale, arr[:, 3]])])
    sk = Sketch(strokes=stroke3_to_strokes(s3), label=label, source=source)
    return normalise(sk)


def sample(model: SketchRNNDecoder, n: int, seed: int, temperature: float = 0.25) -> list[Sketch]:
    """n unconditional sketches of the model's class, normalised into the 256 px frame.

    A sequence that ends at its first step comes back as an empty Sketch (no strokes).
    """
    seqs = sample_stroke5(model, n, seed, temperature)
    return [stroke5_to_sketch(s, model.scale_factor, model.name, model.path) for s in seqs]


def sketch_to_stroke5(sketch: Sketch, unit: float) -> np.ndarray:
    """A stroke Sketch -> float32 (T, 5) stroke-5 with offsets divided by ``unit`` (px per
    model unit), ending with the end-of-sketch row ``[0, 0, 0, 0, 1]``. As in sketch-rnn's
    data, the first point is the origin and is not a row: row 0 is the second point."""
    strokes = [np.asarray(s, dtype=np.float64) for s in sketch.strokes if len(s)]
    if not strokes:
        return np.array([[0, 0, 0, 0, 1]], dtype=np.float32)
    pts = np.concatenate(strokes)
    lifted = np.zeros(len(pts), dtype=bool)
    lifted[np.cumsum([len(s) for s in strokes]) - 1] = True
    d = np.diff(pts, axis=0) / unit
    out = np.zeros((len(pts), 5), dtype=np.float32)
    out[:-1, :2] = d
    out[:-1, 2] = ~lifted[1:]
    out[:-1, 3] = lifted[1:]
    out[-1, 4] = 1.0
    return out


def offset_unit(sketches: list[Sketch]) -> float:
    """The std of all point offsets of the sketches (px): sketch-rnn's normalising factor."""
    d = [np.diff(np.asarray(s, np.float64), axis=0) for sk in sketches for s in sk.strokes
         if len(s) > 1]
    d = np.concatenate(d) if d else np.zeros((1, 2))
    return float(max(d.std(), 1e-6))


@torch.no_grad()
def log_likelihood(model: SketchRNNDecoder, sketches: list[Sketch], unit: float) -> np.ndarray:
    """float64 (N,): mean log-likelihood per step (nats) of each sketch under the model at
    temperature 1 (offset density in model units + pen state, end-of-sketch row included).

    ``unit``: px per model unit for these sketches (e.g. ``offset_unit`` of a reference set:
    use one value for every set that is compared)."""
    out = []
    for sk in sketches:
        seq = torch.from_numpy(sketch_to_stroke5(sk, unit))
        state = model.zero_state(1)
        x = model.start_input(1)
        total = 0.0
        for t in range(len(seq)):
            state = model.step(x, state)
            p = model.head(state[0], 1.0)
            y = seq[t: t + 1]
            total += float((p["pen_logits"] * y[:, 2:]).sum())
            if y[0, 4] < 1:  # the end row has no offset to score
                zx = (y[:, :1] - p["mu_x"]) / p["sigma_x"]
                zy = (y[:, 1:2] - p["mu_y"]) / p["sigma_y"]
                one = 1 - p["rho"] ** 2
                q = (zx ** 2 + zy ** 2 - 2 * p["rho"] * zx * zy) / one
                logn = (-q / 2 - math.log(2 * math.pi) - torch.log(p["sigma_x"] * p["sigma_y"])
                        - 0.5 * torch.log(one))
                total += float(torch.logsumexp(p["log_pi"] + logn, dim=1))
            x = y
        out.append(total / len(seq))
    return np.asarray(out, dtype=np.float64)
