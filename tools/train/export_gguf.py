#!/usr/bin/env python3
"""Writes the bundled models as GGUF v3 files that llama.cpp runs (architecture `gpt2`), F32 and Q8_0.

    /usr/bin/python3 tools/train/export_gguf.py [--out DIR] [MODEL_FOLDER ...]

MODEL_FOLDER defaults to resources/models/seed-world and resources/models/tiny-shakespeare; DIR to
out/gguf. Each folder gives DIR/<id>-f32.gguf and DIR/<id>-q8_0.gguf. Nothing is downloaded.

The weights are read from the folder's onnx/model.onnx (the bundled models ship no PyTorch
checkpoint): norms, biases and the two embedding tables by their names; each linear layer's weight is
the initializer of the MatMul whose output the named bias is added to ([in, out] in ONNX, written as
[out, in] rows), and the tied head is the MatMul with no bias. The tokenizer keys carry tokenizer.json's
byte-level BPE (its vocabulary already in GPT-2's byte-to-unicode spelling, its merges in rank order).
The GGUF writer is the one of tools/fixtures/build_gguf_fixture.py (the specification, by hand).

One difference remains and is not the export's: the bundled models use the exact (erf) GELU, llama.cpp's
`gpt2` the tanh GELU read from a float16 table. tests/node/gguf-export.test.ts measures the gap.
"""
import argparse
import json
import os
import sys

import numpy as np
import onnx
from onnx import numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tools", "fixtures"))
import build_gguf_fixture as gg  # noqa: E402

DEFAULT_MODELS = [os.path.join(ROOT, "resources", "models", m) for m in ("seed-world", "tiny-shakespeare")]


def onnx_weights(path):
    """Parameter name -> numpy array in PyTorch's layout ([out, in] for linear weights).

    Named by the module each node belongs to (torch.onnx names nodes by module path: /h.0/attn/c_attn/MatMul),
    not by the initializers' names: torch merges equal initializers (the zero biases and unit norms of a
    freshly initialised model) into one and hands it to each layer through Identity nodes."""
    model = onnx.load(path)
    graph = model.graph
    inits = {i.name: numpy_helper.to_array(i).astype(np.float32) for i in graph.initializer}
    producers = {o: n for n in graph.node for o in n.output}
    consumers = {}
    for node in graph.node:
        for name in node.input:
            consumers.setdefault(name, []).append(node)

    def const(name):
        if name in inits:
            return inits[name]
        p = producers.get(name)
        return const(p.input[0]) if p is not None and p.op_type == "Identity" else None

    def module(node):
        return ".".join(node.name.strip("/").split("/")[:-1]) or "lm_head"

    weights = {}
    for node in graph.node:
        if node.op_type == "Gather" and const(node.input[0]) is not None:
            weights[module(node) + ".weight"] = const(node.input[0])
        elif node.op_type == "LayerNormalization":
            weights[module(node) + ".weight"] = const(node.input[1])
            weights[module(node) + ".bias"] = const(node.input[2])
        elif node.op_type == "MatMul" and const(node.input[1]) is not None:
            name = module(node)
            weights[name + ".weight"] = const(node.input[1]).T  # ONNX MatMul's [in, out]
            for add in consumers.get(node.output[0], []):
                bias = [const(i) for i in add.input if i != node.output[0]] if add.op_type == "Add" else []
                if bias and bias[0] is not None:
                    weights[name + ".bias"] = bias[0]
    heads = [k for k in weights if k.endswith(".weight") and not k.startswith(("h.", "wte", "wpe", "ln_f"))]
    if len(heads) != 1:
        raise SystemExit(f"{path}: expected one output head, found {heads or 'none'}")
    weights["lm_head.weight"] = weights.pop(heads[0])
    return weights


class Tokenizer:
    """What gguf_of reads of a tokenizer: vocab (token -> id), inv (id -> token), merges, specials."""

    def __init__(self, path):
        with open(path, encoding="utf-8") as f:
            t = json.load(f)
        if t["model"]["type"] != "BPE" or (t.get("pre_tokenizer") or {}).get("type") != "ByteLevel":
            raise SystemExit(f"{path}: expected a byte-level BPE tokenizer")
        self.vocab = dict(t["model"]["vocab"])
        for a in t.get("added_tokens", []):  # <|endoftext|> lives here, outside the BPE vocabulary
            self.vocab[a["content"]] = a["id"]
        self.inv = {i: s for s, i in self.vocab.items()}
        self.merges = [tuple(m) if isinstance(m, list) else tuple(m.split(" ", 1)) for m in t["model"]["merges"]]
        self.specials = {a["content"] for a in t.get("added_tokens", []) if a.get("special")}


class Weights:
    """A stand-in for the fixture's torch model: `state_dict()` in GPT-2's Conv1D layout ([in, out])."""

    def __init__(self, weights):
        self.weights = weights

    def state_dict(self):
        class Array:
            def __init__(self, a):
                self.a = a

            def detach(self):
                return self

            def numpy(self):
                return self.a

        out = {}
        for k, v in self.weights.items():
            # gguf_of transposes c_attn/c_proj/c_fc (GPT-2's Conv1D is [in, out]); ours are [out, in] already.
            out[k] = Array(v.T if v.ndim == 2 and k.split(".")[-2] in ("c_attn", "c_proj", "c_fc") else v)
        return out


def export(folder, out_dir):
    name = os.path.basename(os.path.normpath(folder))
    with open(os.path.join(folder, "config.json"), encoding="utf-8") as f:
        config = json.load(f)
    weights = onnx_weights(os.path.join(folder, "onnx", "model.onnx"))
    if not np.array_equal(weights["lm_head.weight"], weights["wte.weight"]):
        raise SystemExit(f"{folder}: the head is not the token embedding table; gguf_of writes a tied head")
    inner = config.get("n_inner") or 4 * config["n_embd"]
    if inner != 4 * config["n_embd"]:
        raise SystemExit(f"{folder}: n_inner {inner} is not 4 × n_embd, which gguf_of assumes")
    tok = Tokenizer(os.path.join(folder, "tokenizer.json"))
    c = {k: config[k] for k in ("n_positions", "n_embd", "n_layer", "n_head", "layer_norm_epsilon")}
    os.makedirs(out_dir, exist_ok=True)
    written = []
    for ggml_type, suffix in ((gg.GGML_F32, "f32"), (gg.GGML_Q8_0, "q8_0")):
        kvs, tensors = gg.gguf_of(Weights(weights), c, tok, ggml_type, f"{name} ({suffix})")
        path = os.path.join(out_dir, f"{name}-{suffix}.gguf")
        gg.write_gguf(path, kvs, tensors)
        written.append(path)
    return written


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=os.path.join(ROOT, "out", "gguf"))
    parser.add_argument("models", nargs="*", default=DEFAULT_MODELS)
    args = parser.parse_args()
    for folder in args.models:
        for path in export(folder, args.out):
            print(f"{path}\t{os.path.getsize(path)} bytes")


if __name__ == "__main__":
    main()
