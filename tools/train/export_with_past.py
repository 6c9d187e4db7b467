"""Exports a model's key/value-cache graph: onnx/decoder_with_past.onnx beside onnx/model.onnx.

    /usr/bin/python3 tools/train/export_with_past.py --recipe seed-world

It reads the checkpoint that train.py saved (tools/train/.work/<id>.pt) and the model's config.json,
and writes a graph with inputs input_ids [batch, sequence] and past_key_values.<i>.key/value
[batch, heads, past_sequence, head_dim] (past_sequence may be 0), and outputs logits
[batch, sequence, vocab] and present.<i>.key/value [batch, heads, past_sequence + sequence, head_dim].
The app generates with it, one new token per step, instead of recomputing the whole sequence.
onnx/model.onnx, the graph the app instruments, is not touched.
"""
import argparse
import hashlib
import json
import os

import torch
import torch.nn as nn
import torch.nn.functional as F

from model import GPT

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))


class WithPast(nn.Module):
    """The same weights as GPT, run on new tokens after a cached past."""

    def __init__(self, gpt):
        super().__init__()
        self.gpt = gpt

    def forward(self, input_ids, *past):
        g = self.gpt
        B, S = input_ids.shape
        P = past[0].shape[2]
        pos = torch.arange(P, P + S, dtype=torch.long)
        x = g.wte(input_ids) + g.wpe(pos)
        presents = []
        for i, block in enumerate(g.h):
            attn = block.attn
            h = block.ln_1(x)
            C = h.shape[-1]
            q, k, v = attn.c_attn(h).split(C, dim=2)
            q = q.view(B, S, attn.n_head, attn.head_dim).transpose(1, 2)
            k = k.view(B, S, attn.n_head, attn.head_dim).transpose(1, 2)
            v = v.view(B, S, attn.n_head, attn.head_dim).transpose(1, 2)
            k = torch.cat([past[2 * i], k], dim=2)
            v = torch.cat([past[2 * i + 1], v], dim=2)
            presents += [k, v]
            att = (q @ k.transpose(-2, -1)) * attn.scale  # [B, H, S, P + S]
            # Query q (at position P + q) sees keys 0 .. P + q.
            future = attn.causal_mask[:, :, P:P + S, :P + S]
            att = att.masked_fill(future, float("-inf"))
            att = F.softmax(att, dim=-1)
            y = (att @ v).transpose(1, 2).contiguous().view(B, S, C)
            x = x + attn.c_proj(y)
            x = x + block.mlp(block.ln_2(x))
        logits = F.linear(g.ln_f(x), g.wte.weight)
        return (logits, *presents)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--recipe", default="seed-world")
    args = parser.parse_args()
    model_dir = os.path.join(ROOT, "resources", "models", args.recipe)
    cfg = json.load(open(os.path.join(model_dir, "config.json")))
    gpt = GPT(cfg["vocab_size"], cfg["n_positions"], cfg["n_embd"], cfg["n_layer"], cfg["n_head"], cfg.get("n_inner"), cfg.get("layer_norm_epsilon", 1e-5))
    state = torch.load(os.path.join(ROOT, "tools", "train", ".work", f"{args.recipe}.pt"), map_location="cpu")
    gpt.load_state_dict(state)
    gpt.eval()
    wrapped = WithPast(gpt).eval()
    L, H, D = cfg["n_layer"], cfg["n_head"], cfg["n_embd"] // cfg["n_head"]

    ids = torch.tensor([[265, 283, 322, 266, 258]], dtype=torch.long)
    with torch.no_grad():
        full = gpt(ids)
        empty = [torch.zeros(1, H, 0, D) for _ in range(2 * L)]
        out = wrapped(ids[:, :3], *empty)
        out2 = wrapped(ids[:, 3:], *out[1:])
        diff = (torch.cat([out[0], out2[0]], dim=1) - full).abs().max().item()
    print(f"incremental vs full logits in torch: max difference {diff:.2e}")
    assert diff < 1e-4, diff

    past_names = [f"past_key_values.{i}.{kv}" for i in range(L) for kv in ("key", "value")]
    present_names = [f"present.{i}.{kv}" for i in range(L) for kv in ("key", "value")]
    dynamic = {"input_ids": {0: "batch", 1: "sequence"}, "logits": {0: "batch", 1: "sequence"}}
    for n in past_names:
        dynamic[n] = {0: "batch", 2: "past_sequence"}
    for n in present_names:
        dynamic[n] = {0: "batch", 2: "total_sequence"}
    example_past = [torch.zeros(1, H, 2, D) for _ in range(2 * L)]
    path = os.path.join(model_dir, "onnx", "decoder_with_past.onnx")
    torch.onnx.export(wrapped, (ids[:, :2], *example_past), path, input_names=["input_ids", *past_names],
                      output_names=["logits", *present_names], dynamic_axes=dynamic, opset_version=17,
                      do_constant_folding=True)
    import onnx
    onnx.checker.check_model(onnx.load(path))
    data = open(path, "rb").read()
    digest = hashlib.sha256(data).hexdigest()
    print(f"wrote {path}: {len(data)} bytes, sha256 {digest}")
    card_path = os.path.join(model_dir, "card.json")
    card = json.load(open(card_path))
    card["onnx_with_past"] = {
        "file": "onnx/decoder_with_past.onnx",
        "bytes": len(data),
        "sha256": digest,
        "inputs": "input_ids int64 [batch, sequence], past_key_values.<layer>.key/value float32 [batch, heads, past_sequence, head_dim]",
        "outputs": "logits float32 [batch, sequence, vocab], present.<layer>.key/value float32 [batch, heads, past_sequence + sequence, head_dim]",
        "command": f"/usr/bin/python3 tools/train/export_with_past.py --recipe {args.recipe}",
    }
    with open(card_path, "w") as f:
        json.dump(card, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main()
