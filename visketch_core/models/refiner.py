"""Stage 2: the leaf refiner. A context encoder reads a leaf's multi-scale context from the
current canvas (plus the class); a causal Transformer decoder writes the leaf's VQ-VAE
tokens while cross-attending to every encoded context token.

The context encoder is the recognition model's ``ContextEncoder`` class (own weights here);
the refiner keeps all of its output tokens instead of only the CLS, as cross-attention
memory, and adds the class to the CLS query.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from visketch_core.models.context_encoder import ContextEncoder, ContextEncoderConfig
from visketch_core.models.layers import Transformer


@dataclass(frozen=True)
class RefinerConfig:
    encoder: ContextEncoderConfig = field(default_factory=lambda: ContextEncoderConfig(
        dim=96, layers=2, heads=4, stem_width=24, dropout=0.1))
    num_classes: int = 15
    codebook: int = 512
    seq_len: int = 16           # tokens per leaf (VQ grid squared)
    dec_layers: int = 2
    heads: int = 4
    mlp_ratio: float = 2.0
    dropout: float = 0.1

    @classmethod
    def from_dict(cls, d: dict) -> RefinerConfig:
        d = dict(d)
        d["encoder"] = ContextEncoderConfig(**d["encoder"])
        return cls(**d)

    def to_dict(self) -> dict:
        return asdict(self)


class LeafRefiner(nn.Module):
    """forward(batch, targets=None) -> dict(logits (N, T, V), loss).

    batch: patches float (B, M, P, P) canvas node patches; tokens long (B, K, 36) context node
    indices of K leaves (-1 dummy); level long (B, K); boxes float (B, K, 4); mask bool (B, K)
    real leaves; label long (B,); codes long (B, K, T) the leaves' target tokens (training).
    N = mask.sum() leaves are predicted at once.
    """

    def __init__(self, cfg: RefinerConfig):
        super().__init__()
        self.cfg = cfg
        d = cfg.encoder.dim
        self.encoder = ContextEncoder(cfg.encoder)
        self.class_emb = nn.Embedding(cfg.num_classes, d)
        self.tok_emb = nn.Embedding(cfg.codebook + 1, d)        # last = BOS
        self.pos_emb = nn.Parameter(torch.randn(cfg.seq_len, d) * 0.02)
        self.decoder = Transformer(dim=d, depth=cfg.dec_layers, heads=cfg.heads,
                                   mlp_ratio=cfg.mlp_ratio, dropout=cfg.dropout, cross=True)
        self.head = nn.Linear(d, cfg.codebook)

    @property
    def bos(self) -> int:
        return self.cfg.codebook

    def memory(self, patches: torch.Tensor, tokens: torch.Tensor, level: torch.Tensor,
               boxes: torch.Tensor, mask: torch.Tensor, label: torch.Tensor) -> torch.Tensor:
        """Encoded contexts of the real leaves: (N, 1 + 36 + 1, d) (CLS, slots, class)."""
        enc = self.encoder
        nodes = enc.node_embeddings(patches)                      # (B, M, d)
        B, K, S = tokens.shape
        d = nodes.shape[-1]
        idx = tokens.clamp(min=0).reshape(B, -1)
        x = nodes.gather(1, idx[..., None].expand(-1, -1, d)).view(B, K, S, d)
        x = torch.where((tokens >= 0)[..., None], x, enc.dummy)    # (B, K, S, d)
        slots = enc.slot_pos
        x = x + enc.level_emb[slots // 9] + enc.slot_emb[slots % 9]
        cls = self.class_emb(label)[:, None].expand(B, K, d)      # (B, K, d)
        q = enc.leaf_query(level, boxes) + cls
        x = torch.cat([q[:, :, None], x], dim=2)[mask]            # (N, 1+S, d)
        h = enc.encoder(x)                                        # (N, 1+S, d)
        return torch.cat([h, cls[mask][:, None]], dim=1)          # (N, 2+S, d)

    def decode_logits(self, memory: torch.Tensor, prefix: torch.Tensor) -> torch.Tensor:
        """memory (N, Tm, d), prefix long (N, t) tokens after BOS -> logits (N, t+1, V)."""
        N, t = prefix.shape
        bos = torch.full((N, 1), self.bos, dtype=torch.long, device=prefix.device)
        x = self.tok_emb(torch.cat([bos, prefix], 1)) + self.pos_emb[: t + 1]
        h = self.decoder(x, context=memory, causal=True)
        return self.head(h)

    def forward(self, batch: dict, targets: torch.Tensor | None = None) -> dict:
        mask = batch["mask"]
        mem = self.memory(batch["patches"], batch["tokens"], batch["level"], batch["boxes"],
                          mask, batch["label"])
        codes = batch["codes"][mask]                              # (N, T)
        logits = self.decode_logits(mem, codes[:, :-1])           # (N, T, V)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), codes.reshape(-1))
        acc = (logits.argmax(-1) == codes).float().mean()
        return {"logits": logits, "loss": loss, "acc": acc.detach()}

    @torch.no_grad()
    def sample(self, memory: torch.Tensor, *, temperature: float = 1.0, top_k: int = 0,
               generator: torch.Generator | None = None) -> torch.Tensor:
        """Autoregressive decoding -> (N, T) long codes. temperature 0 = greedy."""
        N = memory.shape[0]
        out = torch.zeros(N, 0, dtype=torch.long, device=memory.device)
        for _ in range(self.cfg.seq_len):
            logits = self.decode_logits(memory, out)[:, -1]       # (N, V)
            if temperature <= 0:
                nxt = logits.argmax(-1, keepdim=True)
            else:
                logits = logits / temperature
                if top_k:
                    kth = logits.topk(top_k, dim=-1).values[:, -1:]
                    logits = logits.masked_fill(logits < kth, float("-inf"))
                nxt = torch.multinomial(logits.softmax(-1), 1, generator=generator)
            out = torch.cat([out, nxt], 1)
        return out
