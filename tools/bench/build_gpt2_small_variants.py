"""Writes the reduced-precision variants of the benchmark's GPT-2-small-shaped model beside its
float32 files (default folder .cache/bench/gpt2-small, built first by build_gpt2_small.py):

    /usr/bin/python3 tools/bench/build_gpt2_small_variants.py [MODEL_DIR]

    onnx/model_quantized.onnx + onnx/decoder_with_past_quantized.onnx   int8 dynamic (ONNX Runtime's
        quantize_dynamic: DynamicQuantizeLinear + MatMulInteger, int8 Gather tables + DequantizeLinear)
    onnx/model_q4.onnx + onnx/decoder_with_past_q4.onnx                 q4 (MatMul4BitsQuantizer:
        com.microsoft.MatMulNBits, 4 bits, block 32, zero points; the rest float32)
    onnx/model_fp16.onnx + onnx/decoder_with_past_fp16.onnx             fp16 (convert_float_to_float16,
        keep_io_types=False: float16 logits, past and present)
    onnx/model_q4_acc4.onnx + onnx/decoder_with_past_q4_acc4.onnx       q4 as above with accuracy_level 4
        (int8 activations inside MatMulNBits), the benchmark's own name

Each variant is the float32 model.onnx (the graph the engine instruments) and decoder_with_past.onnx
(its key/value-cache graph) put through the same converter, the layout the engine finds by name
(companionFiles: decoder_with_past_<variant>.onnx). The converters are the fixtures' hand-written ones
(tools/fixtures/build_published_forms.py, which follow ONNX Runtime's quantizers and
onnxconverter-common), imported, not copied. The model's weight products are MatMul (nn.Linear on a
3-D input exports as MatMul + Add, not Gemm), so every one is converted: the node counts are checked
and written to onnx/variants.json. npm run bench calls this only when a variant asked for is missing.
"""
import collections
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tools", "fixtures"))
import onnx  # noqa: E402
from build_published_forms import convert_float_to_float16, quantize_dynamic, quantize_q4  # noqa: E402



def quantize_q4_accuracy_level_4(model):
    """quantize_q4 with MatMul4BitsQuantizer's accuracy_level=4 (the attribute MatMulNBits reads): the
    activations quantized to int8 per block inside the kernel, so ONNX Runtime's CPU provider runs
    MLAS' int8 4-bit kernels (VNNI here) instead of dequantizing to float32."""
    model = quantize_q4(model)
    for n in model.graph.node:
        if n.op_type == "MatMulNBits":
            n.attribute.append(onnx.helper.make_attribute("accuracy_level", 4))
    return model


# name -> (file suffix, converter, dtype label as the models cards write it)
VARIANTS = {
    "quantized": ("_quantized", quantize_dynamic, "int8 dynamic"),
    "q4": ("_q4", quantize_q4, "q4 block 32"),
    "fp16": ("_fp16", convert_float_to_float16, "fp16"),
    # Not a transformers.js file name; the benchmark's own (BENCH_MODELS=gpt2-small-q4-acc4).
    "q4_acc4": ("_q4_acc4", quantize_q4_accuracy_level_4, "q4 block 32, accuracy_level 4"),
}
# What each converter must have turned every weight MatMul into.
EXPECT = {"quantized": "MatMulInteger", "q4": "MatMulNBits", "q4_acc4": "MatMulNBits", "fp16": "MatMul"}


def weight_matmuls(model):
    """MatMul / Gemm nodes whose B is a 2-D initializer: the products the quantizers convert."""
    inits = {t.name: t for t in model.graph.initializer}
    return [n for n in model.graph.node if n.op_type in ("MatMul", "Gemm") and n.input[1] in inits and len(inits[n.input[1]].dims) == 2]


def main():
    folder = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, ".cache", "bench", "gpt2-small"))
    wanted = sys.argv[2].split(",") if len(sys.argv) > 2 else list(VARIANTS)  # e.g. quantized,q4
    onnx_dir = os.path.join(folder, "onnx")
    summary_path = os.path.join(onnx_dir, "variants.json")
    summary = json.load(open(summary_path)) if os.path.exists(summary_path) else {}
    for base in ("model", "decoder_with_past"):
        src = os.path.join(onnx_dir, f"{base}.onnx")
        float_model = onnx.load(src)
        gemms = [n.name for n in float_model.graph.node if n.op_type == "Gemm"]
        assert not gemms, f"{src}: Gemm nodes {gemms[:3]}: ONNX Runtime's quantizers skip them"
        n_weights = len(weight_matmuls(float_model))
        for name in wanted:
            suffix, convert, dtype = VARIANTS[name]
            started = time.time()
            m = onnx.ModelProto()
            m.CopyFrom(float_model)
            m = convert(m)
            counts = collections.Counter(n.op_type for n in m.graph.node)
            if name == "fp16":
                assert all(t.data_type != onnx.TensorProto.FLOAT for t in m.graph.initializer), "a float32 initializer left"
                converted = len(weight_matmuls(m))
            else:
                converted = counts[EXPECT[name]]
            assert converted == n_weights, f"{name}: {converted} {EXPECT[name]} for {n_weights} weight MatMuls"
            out = os.path.join(onnx_dir, f"{base}{suffix}.onnx")
            onnx.checker.check_model(m)
            onnx.save(m, out + ".tmp")
            os.replace(out + ".tmp", out)
            summary[f"onnx/{base}{suffix}.onnx"] = {
                "variant": name, "dtype": dtype, "from": f"onnx/{base}.onnx", "weight_matmuls": n_weights,
                "converted": f"{converted} {EXPECT[name]}", "bytes": os.path.getsize(out),
                "ops": dict(sorted((k, v) for k, v in counts.items() if k in (
                    "MatMul", "MatMulInteger", "MatMulNBits", "DynamicQuantizeLinear", "DequantizeLinear", "Gather", "Gemm", "Cast"))),
            }
            print(f"{out}: {os.path.getsize(out) / 1e6:.0f} MB, {n_weights} weight MatMuls -> {converted} {EXPECT[name]}"
                  f" ({dict(counts)['MatMul'] if 'MatMul' in counts else 0} MatMul left), {time.time() - started:.0f} s", flush=True)
            del m
        del float_model
    with open(summary_path, "w", encoding="utf-8") as f:
        json.dump(summary, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main()
