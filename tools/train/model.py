"""A small GPT-2 style decoder-only transformer, written out so the ONNX export is easy to read.

Module names follow GPT-2 (wte, wpe, h.N.ln_1, h.N.attn.c_attn, h.N.attn.c_proj, h.N.ln_2,
h.N.mlp.c_fc, h.N.mlp.c_proj, ln_f), so the exported node names look like /h.0/attn/Softmax.

Attention is spelled out (torch 1.13 has no scaled_dot_product_attention), which leaves one
Softmax per layer in the ONNX graph with output shape [batch, heads, query, key].
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


class CausalSelfAttention(nn.Module):
    def __init__(self, n_embd, n_head, n_ctx):
        super().__init__()
        assert n_embd % n_head == 0
        self.n_head = n_head
        self.head_dim = n_embd // n_head
        self.scale = 1.0 / math.sqrt(self.head_dim)
        self.c_attn = nn.Linear(n_embd, 3 * n_embd)
        self.c_proj = nn.Linear(n_embd, n_embd)
        # True above the diagonal: the future keys a query may not see.
        future = torch.triu(torch.ones(n_ctx, n_ctx, dtype=torch.bool), diagonal=1)
        self.register_buffer("causal_mask", future.view(1, 1, n_ctx, n_ctx), persistent=False)

    def forward(self, x):
        B, T, C = x.size()
        q, k, v = self.c_attn(x).split(C, dim=2)
        q = q.view(B, T, self.n_head, self.head_dim).transpose(1, 2)  # [B, H, T, d]
        k = k.view(B, T, self.n_head, self.head_dim).transpose(1, 2)
        v = v.view(B, T, self.n_head, self.head_dim).transpose(1, 2)
        att = (q @ k.transpose(-2, -1)) * self.scale  # [B, H, Tq, Tk]
        att = att.masked_fill(self.causal_mask[:, :, :T, :T], float("-inf"))
        att = F.softmax(att, dim=-1)  # attention probabilities [B, H, Tq, Tk]
        y = att @ v  # [B, H, T, d]
        y = y.transpose(1, 2).contiguous().view(B, T, C)
        return self.c_proj(y), att


class MLP(nn.Module):
    def __init__(self, n_embd, n_inner):
        super().__init__()
        self.c_fc = nn.Linear(n_embd, n_inner)
        self.act = nn.GELU()  # exact (erf) GELU, Hugging Face's "gelu"
        self.c_proj = nn.Linear(n_inner, n_embd)

    def forward(self, x):
        return self.c_proj(self.act(self.c_fc(x)))


class Block(nn.Module):
    def __init__(self, n_embd, n_head, n_ctx, n_inner, eps):
        super().__init__()
        self.ln_1 = nn.LayerNorm(n_embd, eps=eps)
        self.attn = CausalSelfAttention(n_embd, n_head, n_ctx)
        self.ln_2 = nn.LayerNorm(n_embd, eps=eps)
        self.mlp = MLP(n_embd, n_inner)

    def forward(self, x):
        a, att = self.attn(self.ln_1(x))
        x = x + a
        x = x + self.mlp(self.ln_2(x))
        return x, att


class GPT(nn.Module):
    def __init__(self, vocab_size, n_ctx=128, n_embd=128, n_layer=3, n_head=4, n_inner=None, eps=1e-5):
        super().__init__()
        n_inner = n_inner or 4 * n_embd
        self.cfg = dict(vocab_size=vocab_size, n_ctx=n_ctx, n_embd=n_embd, n_layer=n_layer,
                        n_head=n_head, n_inner=n_inner, eps=eps)
        self.wte = nn.Embedding(vocab_size, n_embd)
        self.wpe = nn.Embedding(n_ctx, n_embd)  # learned positions
        self.h = nn.ModuleList([Block(n_embd, n_head, n_ctx, n_inner, eps) for _ in range(n_layer)])
        self.ln_f = nn.LayerNorm(n_embd, eps=eps)
        self.apply(self._init)
        for name, p in self.named_parameters():
            if name.endswith("c_proj.weight"):  # GPT-2: scale residual projections
                nn.init.normal_(p, mean=0.0, std=0.02 / math.sqrt(2 * n_layer))

    @staticmethod
    def _init(m):
        if isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, mean=0.0, std=0.02)
            nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Embedding):
            nn.init.normal_(m.weight, mean=0.0, std=0.02)

    def embed(self, input_ids):
        T = input_ids.size(1)
        pos = torch.arange(T, dtype=torch.long, device=input_ids.device)
        tok_emb = self.wte(input_ids)  # Gather on wte.weight
        pos_emb = self.wpe(pos)  # Gather on wpe.weight
        return tok_emb, pos_emb, tok_emb + pos_emb  # Add

    def forward(self, input_ids):
        """input_ids [batch, sequence] -> logits [batch, sequence, vocab] (what the ONNX graph computes)."""
        return self.forward_with_attention(input_ids)[0]

    def forward_with_attention(self, input_ids):
        """-> (logits, [attention probabilities [batch, heads, query, key] per layer])"""
        _, _, x = self.embed(input_ids)
        atts = []
        for block in self.h:
            x, att = block(x)
            atts.append(att)
        x = self.ln_f(x)
        logits = F.linear(x, self.wte.weight)  # LM head tied to wte
        return logits, atts
