#!/usr/bin/env python3
"""Train, export and document a bundled model, end to end.

    /usr/bin/python3 tools/train/train.py --recipe seed-world

corpus -> tokenizer -> training -> ONNX export -> reference values. Intermediate files go to
tools/train/.work/ (git-ignored); the model folder goes to resources/models/<id>/ and the
reference values the app's tests compare against to tests/fixtures/.
Python (Debian's torch 1.13, onnx) is only needed here, never by the app.
"""
import argparse
import datetime
import hashlib
import json
import math
import os
import shutil
import subprocess
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)

import bpe  # noqa: E402
import seed_world_corpus  # noqa: E402
from model import GPT  # noqa: E402

RECIPES = {
    "seed-world": dict(
        id="seed-world",
        name="Seed World",
        corpus_seed=1234,
        corpus_docs=9000,
        vocab_size=1024,
        n_ctx=128,
        n_embd=128,
        n_layer=3,
        n_head=4,
        seed=1234,
        steps=1200,
        batch_size=16,
        lr=2e-3,
        min_lr_ratio=0.1,
        warmup=60,
        weight_decay=0.1,
        eval_every=200,
        threads=2,
        default_prompts=[("The sun rises in the", " east"), ("The sun sets in the", " west")],
        # The two senses of "bank", as a minimal pair: the final sentence is the same words
        # ("to the bank. At the bank she"), only the context before it says which bank.
        bank_probes=[
            ("money", "She took her money to the bank. At the bank she", " deposited"),
            ("river", "She rowed her boat down the river to the bank. At the bank she", " sat"),
        ],
        single_tokens=[" sun", " rises", " sets", " east", " west", " bank", " money", " river", " deposited", " sat"],
        extra_prompts=["The cat sat on the", "Every morning, the sun rises in the east; at night: the moon & stars!"],
        # Checked (top-1 must match) and recorded in card.json, like the probes above, but the
        # prompt stays in extra_prompts so the reference fixture keeps its order.
        fact_probes=[("The cat sat on the", " mat")],
        # Not part of the fixtures: does the sense follow the context under other lead-ins and
        # with the context swapped? Logged and written to .work/context_checks.json.
        bank_verbs={"money": [" deposited", " withdrew", " asked", " opened", " gave"],
                    "river": [" sat", " fished", " watched", " saw"]},
        context_checks=[
            ("money", "She took her money to the bank. By the bank she"),
            ("river", "She rowed her boat down the river to the bank. By the bank she"),
            ("money", "She took her money to the bank. At the bank, she"),
            ("river", "She rowed her boat down the river to the bank. At the bank, she"),
            ("money", "He took his money to the bank. At the bank he"),
            ("river", "He rowed his boat down the river to the bank. At the bank he"),
            ("money", "Tom needed money, so he went to the bank. There he"),
            ("river", "Tom went fishing by the river. There he"),
            ("money", "Anna saved her money and went to the bank. Near the bank she"),
            ("river", "The river was wide and the water was cold. Near the bank she"),
            ("river", "The boat floated down the river to the bank. At the bank she"),
            ("money", "She took her money to the bank. On the bank she"),
            ("river", "The boat floated down the river to the bank. On the bank she"),
        ],
    ),
    # Shakespeare's plays (../shared/corpora/tinyshakespeare.txt), the last 10% of the text held out.
    # Sized so that training takes about 45 minutes on 2 CPU threads and both ONNX files (the full
    # graph and the key/value-cache graph each hold the weights) stay under 25 MB together.
    "tiny-shakespeare": dict(
        id="tiny-shakespeare",
        name="Tiny Shakespeare",
        corpus_file=os.path.join(os.path.dirname(ROOT), "shared", "corpora", "tinyshakespeare.txt"),
        valid_fraction=0.1,
        vocab_size=2048,
        n_ctx=256,
        n_embd=192,
        n_layer=5,
        n_head=6,
        seed=1234,
        steps=1000,
        batch_size=12,
        lr=1.5e-3,
        min_lr_ratio=0.1,
        warmup=60,
        weight_decay=0.1,
        eval_every=250,
        threads=2,
        description="A small GPT-style model trained from scratch on Shakespeare's plays (the tiny-shakespeare "
                    "text): it writes verse with speaker names, in the style but not the sense of the plays.",
        default_prompt="JULIET:\nO Romeo, Romeo! wherefore art thou",
        default_prompts=[("JULIET:\nO Romeo, Romeo! wherefore art thou", None), ("First Citizen:\n", None)],
        extra_prompts=["KING RICHARD III:\nNow is the winter of our", "JULIET:\nGood night, good night! parting is such sweet"],
        sample_prompts=["ROMEO:\n", "First Citizen:\n", "KING HENRY VI:\n"],
    ),
}


def log(*a):
    print(*a, flush=True)


def file_corpus(path, valid_fraction):
    """A text file as the corpus: the last `valid_fraction` of its lines are held out for validation."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    cut = text.rfind("\n", 0, int(len(text) * (1 - valid_fraction))) + 1
    train_text, valid_text = text[:cut], text[cut:]
    corpus = {"file": os.path.basename(path), "bytes": len(text.encode()), "sha256": sha256_file(path),
              "split": {"rule": f"last {valid_fraction:.0%} of the text (cut at a line boundary) is validation",
                        "train_bytes": len(train_text.encode()), "validation_bytes": len(valid_text.encode())}}
    return corpus, train_text, valid_text


@torch.no_grad()
def samples_at(R, tok, model, temperature=0.8, new_tokens=120, seed=7):
    """Seeded samples at temperature 0.8 from each sample prompt, recorded in the card."""
    out = []
    for i, prompt in enumerate(R["sample_prompts"]):
        g = torch.Generator().manual_seed(seed + i)
        ids = tok.encode(prompt)
        for _ in range(new_tokens):
            logits = model(torch.tensor([ids[-R["n_ctx"]:]]))[0, -1] / temperature
            ids.append(int(torch.multinomial(torch.softmax(logits, -1), 1, generator=g)))
        text = tok.decode(ids)
        out.append({"prompt": prompt, "temperature": temperature, "seed": seed + i, "tokens": new_tokens, "text": text})
        log(f"      sample (T={temperature}, seed {seed + i}):\n" + "\n".join("        | " + line for line in text.split("\n")))
    return out


def structure_probes(R, tok, model, top_k, probes):
    """Checks that the model learned the play's layout: after a speech and a blank line comes a speaker
    name in capitals followed by a colon and a new line."""
    prompt = "ROMEO:\nBut soft, what light through yonder window breaks?\n\n"
    _, top, _, _ = top_k(prompt, 3)
    first = top[0]["token"]
    probes.append({"kind": "speaker-after-blank-line", "prompt": prompt, "expected": "a token starting with a capital letter",
                   "top1": first, "top1_prob": top[0]["prob"], "ok": first[:1].isupper(),
                   "top3": [{"token": t["token"], "prob": t["prob"]} for t in top]})
    prompt = "First Citizen"
    _, top, _, _ = top_k(prompt, 3)
    probes.append({"kind": "colon-after-speaker", "prompt": prompt, "expected": "a token starting with ':'",
                   "top1": top[0]["token"], "top1_prob": top[0]["prob"], "ok": top[0]["token"].startswith(":"),
                   "top3": [{"token": t["token"], "prob": t["prob"]} for t in top]})


def sha256_file(p):
    h = hashlib.sha256()
    with open(p, "rb") as f:
        h.update(f.read())
    return h.hexdigest()


def r7(x):
    """~7 significant digits, as a plain float."""
    return float(f"{float(x):.7g}")


def tokenizer_cases(tok):
    texts = [
        "The sun rises in the", "The sun sets in the",
        "She took her money to the bank. At the bank she",
        "She rowed her boat down the river to the bank. At the bank she",
        "The sun rises in the east and sets in the west.",
        "Hello, world! It's 12:30 -- isn't it? (yes) [no] {maybe}; a/b\\c @home #tag $5.00 100% 3.14159",
        "I'm sure they'll say we've done what you'd do, they're right.",
        "Numbers: 0 1 22 333 4444 55555 1234567890",
        "multiple   spaces  here    and trailing   ",
        "line one\nline two\n\nline four\r\n\ttabbed\n",
        "   leading spaces",
        "Café naïve résumé Zürich — “quotes” ‘single’ … €5",
        "Москва 東京 日本語 한국어 العربية",
        "emoji 🙂 and 🚀🌍 and flags 🇫🇷",
        "The cat sat on the mat.<|endoftext|>The sun sets in the west.<|endoftext|>",
        "",
        " ",
        "a",
        "THE SUN RISES IN THE EAST",
    ]
    return [{"text": t, "ids": tok.encode(t), "tokens": tok.tokenize(t)} for t in texts]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--recipe", default="seed-world", choices=sorted(RECIPES))
    ap.add_argument("--steps", type=int, help="override the recipe's number of steps (for quick tests)")
    ap.add_argument("--skip-node", action="store_true", help="do not run the Node verification scripts")
    ap.add_argument("--skip-training", action="store_true",
                    help="load tools/train/.work/<id>.pt instead of training (to redo export, references and card)")
    args = ap.parse_args()
    R = dict(RECIPES[args.recipe])
    if args.steps:
        R["steps"] = args.steps
    torch.set_num_threads(R["threads"])
    work = os.path.join(HERE, ".work")
    out_dir = os.path.join(ROOT, "resources", "models", R["id"])
    fixtures = os.path.join(ROOT, "tests", "fixtures")
    os.makedirs(work, exist_ok=True)
    os.makedirs(os.path.join(out_dir, "onnx"), exist_ok=True)
    os.makedirs(fixtures, exist_ok=True)
    t_all = time.time()

    # ---- 1. corpus --------------------------------------------------------------------------
    if "corpus_file" in R:
        corpus, train_text, valid_text = file_corpus(R["corpus_file"], R["valid_fraction"])
        log(f"[1/5] corpus: {corpus['file']}, {corpus['bytes']} bytes, sha256 {corpus['sha256']}")
    else:
        log(f"[1/5] corpus: seed {R['corpus_seed']}, {R['corpus_docs']} documents")
        corpus = seed_world_corpus.write(work, R["corpus_seed"], R["corpus_docs"])
        log(f"      {corpus['bytes']} bytes, sha256 {corpus['sha256']}")
        with open(os.path.join(work, "seed_world_train.txt"), encoding="utf-8") as f:
            train_text = f.read()
        with open(os.path.join(work, "seed_world_valid.txt"), encoding="utf-8") as f:
            valid_text = f.read()

    # ---- 2. tokenizer -----------------------------------------------------------------------
    log(f"[2/5] tokenizer: byte-level BPE, vocabulary {R['vocab_size']}, trained on the training split")
    vocab, merges = bpe.train(train_text, R["vocab_size"])
    tok = bpe.BPETokenizer(vocab, merges)
    tok.save(out_dir, model_max_length=R["n_ctx"])
    tok = bpe.BPETokenizer.load(os.path.join(out_dir, "tokenizer.json"))  # use exactly what was written
    vocab_size = len(tok.vocab)
    eot_id = tok.vocab[bpe.EOT]
    for w in R.get("single_tokens", []):
        assert len(tok.encode(w)) == 1, f"{w!r} is not a single token"
    train_ids = np.array(tok.encode(train_text), dtype=np.int64)
    valid_ids = np.array(tok.encode(valid_text), dtype=np.int64)
    log(f"      {vocab_size} tokens ({len(merges)} merges); train {len(train_ids)} tokens, "
        f"validation {len(valid_ids)} tokens ({len(train_text.encode()) / len(train_ids):.2f} bytes/token)")
    with open(os.path.join(fixtures, f"{R['id']}-tokenizer.json"), "w", encoding="utf-8") as f:
        json.dump({"model": R["id"], "note": "ids from tools/train/bpe.py; the JS tokenizer must match",
                   "cases": tokenizer_cases(tok)}, f, ensure_ascii=False, indent=1)
        f.write("\n")

    # ---- 3. training ------------------------------------------------------------------------
    torch.manual_seed(R["seed"])
    np.random.seed(R["seed"])
    rng = np.random.default_rng(R["seed"])
    model = GPT(vocab_size, R["n_ctx"], R["n_embd"], R["n_layer"], R["n_head"])
    if args.skip_training:
        model.load_state_dict(torch.load(os.path.join(work, f"{R['id']}.pt")))
    n_params = sum(p.numel() for p in model.parameters())
    log(f"[3/5] training: {R['n_layer']} layers, {R['n_head']} heads, width {R['n_embd']}, "
        f"context {R['n_ctx']}, {n_params} parameters; {R['steps']} steps x batch {R['batch_size']}")
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2 and not n.startswith("wpe")]
    no_decay = [p for n, p in model.named_parameters() if not (p.dim() >= 2 and not n.startswith("wpe"))]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": R["weight_decay"]},
                             {"params": no_decay, "weight_decay": 0.0}], lr=R["lr"], betas=(0.9, 0.95))
    T = R["n_ctx"]

    def lr_at(step):
        if step < R["warmup"]:
            return R["lr"] * (step + 1) / R["warmup"]
        p = (step - R["warmup"]) / max(1, R["steps"] - R["warmup"])
        lo = R["lr"] * R["min_lr_ratio"]
        return lo + 0.5 * (R["lr"] - lo) * (1 + math.cos(math.pi * p))

    def windows(ids, n_max):
        n = min(n_max, (len(ids) - 1) // T)
        x = np.stack([ids[i * T:(i + 1) * T] for i in range(n)])
        y = np.stack([ids[i * T + 1:(i + 1) * T + 1] for i in range(n)])
        return torch.from_numpy(x), torch.from_numpy(y)

    val_x, val_y = windows(valid_ids, 400)
    trn_x, trn_y = windows(train_ids, len(val_x))

    @torch.no_grad()
    def evaluate(x, y):
        model.eval()
        tot, n = 0.0, 0
        for i in range(0, len(x), 32):
            logits = model(x[i:i + 32])
            tot += F.cross_entropy(logits.reshape(-1, vocab_size), y[i:i + 32].reshape(-1), reduction="sum").item()
            n += y[i:i + 32].numel()
        model.train()
        return tot / n

    t0 = time.time()
    smooth = None
    history = []
    for step in range(0 if args.skip_training else R["steps"]):
        starts = rng.integers(0, len(train_ids) - T - 1, size=R["batch_size"])
        x = torch.from_numpy(np.stack([train_ids[s:s + T] for s in starts]))
        y = torch.from_numpy(np.stack([train_ids[s + 1:s + T + 1] for s in starts]))
        for g in opt.param_groups:
            g["lr"] = lr_at(step)
        logits = model(x)
        loss = F.cross_entropy(logits.reshape(-1, vocab_size), y.reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        smooth = loss.item() if smooth is None else 0.95 * smooth + 0.05 * loss.item()
        if (step + 1) % 25 == 0 or step == 0:
            el = time.time() - t0
            tps = (step + 1) * R["batch_size"] * T / el
            eta = el / (step + 1) * (R["steps"] - step - 1)
            log(f"      step {step + 1:5d}/{R['steps']}  loss {smooth:.4f}  lr {lr_at(step):.2e}  "
                f"{tps:.0f} tok/s  elapsed {el:.0f}s  eta {eta:.0f}s")
        if (step + 1) % R["eval_every"] == 0 or step + 1 == R["steps"]:
            vl = evaluate(val_x, val_y)
            history.append({"step": step + 1, "train_loss_smoothed": r7(smooth), "validation_loss": r7(vl)})
            log(f"      eval at step {step + 1}: validation loss {vl:.4f} (perplexity {math.exp(vl):.2f})")
    train_seconds = time.time() - t0
    run_file = os.path.join(work, f"{R['id']}-run.json")
    if args.skip_training:  # the record of the run that made the checkpoint
        with open(run_file) as f:
            run = json.load(f)
        train_seconds, history = run["train_seconds"], run["history"]
    else:
        with open(run_file, "w") as f:
            json.dump({"train_seconds": train_seconds, "history": history}, f)
    model.eval()
    train_loss = evaluate(trn_x, trn_y)
    valid_loss = evaluate(val_x, val_y)
    log(f"      done in {train_seconds:.0f}s: train loss {train_loss:.4f}, validation loss {valid_loss:.4f} "
        f"(perplexity {math.exp(valid_loss):.2f})")
    torch.save(model.state_dict(), os.path.join(work, f"{R['id']}.pt"))

    # ---- 4. export --------------------------------------------------------------------------
    log("[4/5] export: ONNX opset 17")
    import onnx

    onnx_path = os.path.join(out_dir, "onnx", "model.onnx")
    example = torch.tensor([tok.encode("The sun rises in the")], dtype=torch.long)
    torch.onnx.export(model, (example,), onnx_path, input_names=["input_ids"], output_names=["logits"],
                      dynamic_axes={"input_ids": {0: "batch", 1: "sequence"},
                                    "logits": {0: "batch", 1: "sequence"}},
                      opset_version=17, do_constant_folding=True)
    m = onnx.load(onnx_path)
    onnx.checker.check_model(m)
    # The dynamic reshapes hide ranks from static shape inference; record the attention
    # probabilities' shape [batch, heads, query, key] as value_info so the engine can read it.
    for n in m.graph.node:
        if n.op_type == "Softmax":
            m.graph.value_info.append(onnx.helper.make_tensor_value_info(
                n.output[0], onnx.TensorProto.FLOAT, ["batch", R["n_head"], "sequence", "sequence"]))
    onnx.checker.check_model(m)
    onnx.save(m, onnx_path)
    # A copy with every Softmax (and the embedding nodes) as extra graph outputs, for verify_onnx.mjs.
    dbg = onnx.load(onnx_path)
    for n in dbg.graph.node:
        if n.op_type == "Softmax":
            dbg.graph.output.append(onnx.helper.make_tensor_value_info(n.output[0], onnx.TensorProto.FLOAT, None))
    onnx.save(dbg, os.path.join(work, "model_with_attention.onnx"))
    m = onnx.shape_inference.infer_shapes(m)
    shapes = {}
    for vi in list(m.graph.value_info) + list(m.graph.output) + list(m.graph.input):
        dims = [d.dim_param or d.dim_value for d in vi.type.tensor_type.shape.dim]
        shapes[vi.name] = dims
    init_names = {i.name for i in m.graph.initializer}
    nodes = []
    for n in m.graph.node:
        if n.op_type == "Gather":
            keep = any(i in init_names for i in n.input)  # the embedding look-ups (wte, wpe)
        elif n.op_type == "Add":
            keep = n.name.count("/") <= 2  # embedding sum (/Add) and residual adds (/h.N/Add, /h.N/Add_1)
        else:
            keep = n.op_type in ("Softmax", "LayerNormalization")
        if keep:
            nodes.append({"name": n.name, "op": n.op_type, "inputs": list(n.input),
                          "output": n.output[0], "shape": shapes.get(n.output[0])})
    softmax = [x for x in nodes if x["op"] == "Softmax"]
    assert len(softmax) == R["n_layer"], softmax
    for s in softmax:
        assert s["shape"] is not None and len(s["shape"]) == 4, s
    onnx_bytes = os.path.getsize(onnx_path)
    log(f"      {onnx_bytes} bytes; nodes for the app to instrument:")
    for x in nodes:
        log(f"        {x['op']:<18} {x['name']:<28} -> {x['output']} {x['shape']}")

    # ---- 5. reference values, config, card -------------------------------------------------
    log("[5/5] reference values, config.json, card.json")

    def top_k(prompt, k=10):
        ids = tok.encode(prompt)
        with torch.no_grad():
            logits, atts = model.forward_with_attention(torch.tensor([ids]))
        last = logits[0, -1]
        probs = torch.softmax(last.double(), -1)
        vals, idx = torch.topk(last, k)
        top = [{"id": int(i), "token": tok.token_text(int(i)), "logit": r7(last[i]), "prob": r7(probs[i])}
               for i in idx]
        return ids, top, logits, atts

    prompts = [p for p, _ in R["default_prompts"]] + [p for _, p, _ in R.get("bank_probes", [])] + R["extra_prompts"]
    ref_prompts = []
    onnx_check = []
    for p in prompts:
        ids, top, logits, atts = top_k(p)
        ref_prompts.append({"prompt": p, "ids": ids, "tokens": [tok.inv[i] for i in ids], "top": top})
        onnx_check.append({"prompt": p, "ids": ids, "logits": [[r7(v) for v in row] for row in logits[0].tolist()]})
    # details for the first default prompt
    p0 = R["default_prompts"][0][0]
    ids0 = tok.encode(p0)
    with torch.no_grad():
        x0 = torch.tensor([ids0])
        tok_emb, pos_emb, summed = model.embed(x0)
        _, atts0 = model.forward_with_attention(x0)
    reference = {
        "model": R["id"],
        "generated_by": "tools/train/train.py --recipe " + args.recipe,
        "torch": torch.__version__,
        "prompts": ref_prompts,
        "details": {
            "prompt": p0,
            "ids": ids0,
            "attention": [[[[r7(v) for v in row] for row in head] for head in a[0].tolist()] for a in atts0],
            "attention_shape": "[layer][head][query][key]",
            "embeddings": {
                "positions": [0, 1],
                "token": [[r7(v) for v in tok_emb[0, i].tolist()] for i in range(2)],
                "position": [[r7(v) for v in pos_emb[i].tolist()] for i in range(2)],
                "sum": [[r7(v) for v in summed[0, i].tolist()] for i in range(2)],
            },
        },
    }
    with open(os.path.join(fixtures, f"{R['id']}-reference.json"), "w", encoding="utf-8") as f:
        json.dump(reference, f, ensure_ascii=False, indent=1)
        f.write("\n")
    with open(os.path.join(work, "onnx_check.json"), "w") as f:
        json.dump(onnx_check, f)
    with open(os.path.join(work, "onnx_nodes.json"), "w") as f:
        json.dump(nodes, f, indent=1)

    probes = []

    def probe(kind, prompt, expected):
        _, top, _, _ = top_k(prompt, 3)
        probes.append({"kind": kind, "prompt": prompt, "expected": expected, "top1": top[0]["token"],
                       "top1_prob": top[0]["prob"], "ok": top[0]["token"] == expected,
                       "top3": [{"token": t["token"], "prob": t["prob"]} for t in top]})

    for p, e in R["default_prompts"]:
        if e is not None:
            probe("default", p, e)
    for kind, p, e in R.get("bank_probes", []):
        probe("bank-" + kind, p, e)
    for p, e in R.get("fact_probes", []):
        probe("fact", p, e)
    if "sample_prompts" in R:
        structure_probes(R, tok, model, top_k, probes)
    for pr in probes:
        log(f"      probe {pr['kind']:<11} {pr['prompt']!r} -> {pr['top1']!r} p={pr['top1_prob']:.3f} "
            f"(expected {pr['expected']!r}) {'OK' if pr['ok'] else 'MISMATCH'}")

    samples = samples_at(R, tok, model) if "sample_prompts" in R else []
    # Context checks (not fixtures): other lead-ins, the pronoun "he", swapped contexts.
    verbs = R.get("bank_verbs", {})
    for v in sum(verbs.values(), []):
        assert len(tok.encode(v)) == 1, f"{v!r} is not a single token"
    context_checks = []
    for want, p in R.get("context_checks", []):
        _, top, _, _ = top_k(p, 3)
        ids = tok.encode(p)
        with torch.no_grad():
            probs = torch.softmax(model(torch.tensor([ids]))[0, -1].double(), -1)
        mass = {k: r7(sum(float(probs[tok.encode(v)[0]]) for v in vs)) for k, vs in verbs.items()}
        got = next((k for k, vs in verbs.items() if top[0]["token"] in vs), "other")
        context_checks.append({"context": want, "prompt": p, "top1": top[0]["token"], "top1_sense": got,
                               "follows_context": got == want, "verb_mass": mass,
                               "top3": [{"token": t["token"], "prob": t["prob"]} for t in top]})
        log(f"      context {want:<5} {p!r} -> {top[0]['token']!r} p={top[0]['prob']:.3f} "
            f"(money verbs {mass['money']:.3f}, river verbs {mass['river']:.3f}) "
            f"{'follows' if got == want else 'DOES NOT follow'} the context")
    with open(os.path.join(work, "context_checks.json"), "w") as f:
        json.dump(context_checks, f, indent=1)

    config = {
        "model_type": "gpt2",
        "architectures": ["GPT2LMHeadModel"],
        "vocab_size": vocab_size,
        "n_positions": R["n_ctx"],
        "n_ctx": R["n_ctx"],
        "n_embd": R["n_embd"],
        "n_layer": R["n_layer"],
        "n_head": R["n_head"],
        "n_inner": 4 * R["n_embd"],
        "activation_function": "gelu",
        "layer_norm_epsilon": 1e-5,
        "bos_token_id": eot_id,
        "eos_token_id": eot_id,
        "tie_word_embeddings": True,
        "position_embedding_type": "learned",
        "resid_pdrop": 0.0,
        "embd_pdrop": 0.0,
        "attn_pdrop": 0.0,
        "torch_dtype": "float32",
    }
    with open(os.path.join(out_dir, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
        f.write("\n")
    tokens_seen = R["steps"] * R["batch_size"] * T
    card = {
        "name": R["name"],
        "id": R["id"],
        "description": R.get("description", "A tiny GPT-style model trained from scratch on a small made-up world of simple "
                                            "English sentences, such as the sun rising in the east and money going to the bank."),
        "license": "MIT, trained by the project",
        **({"default_prompt": R["default_prompt"]} if "default_prompt" in R else {}),
        "architecture": {
            "type": "decoder-only transformer (GPT-2 style, pre-LayerNorm)",
            "layers": R["n_layer"], "heads": R["n_head"], "width": R["n_embd"], "mlp_width": 4 * R["n_embd"],
            "context": R["n_ctx"], "vocab_size": vocab_size, "positional_embedding": "learned",
            "activation": "gelu", "tied_embeddings": True,
        },
        "parameters": n_params,
        "onnx": {"file": "onnx/model.onnx", "bytes": onnx_bytes, "sha256": sha256_file(onnx_path),
                 "opset": 17, "dtype": "float32", "input": "input_ids int64 [batch, sequence]",
                 "output": "logits float32 [batch, sequence, vocab]"},
        "corpus": dict(
            {k: corpus[k] for k in ("generator", "seed", "documents", "file") if k in corpus},
            bytes=corpus["bytes"], sha256=corpus["sha256"], **({"separator": corpus["separator"]} if "separator" in corpus else {}),
            split=dict(corpus["split"], train_tokens=int(len(train_ids)), validation_tokens=int(len(valid_ids)))),
        "tokenizer": {"algorithm": "byte-level BPE (GPT-2 style, tools/train/bpe.py)", "vocab_size": vocab_size,
                      "merges": len(merges), "special_tokens": [bpe.EOT], "trained_on": "training split of the corpus"},
        "training": {
            "command": "/usr/bin/python3 tools/train/train.py --recipe " + args.recipe,
            "seed": R["seed"], "steps": R["steps"], "batch_size": R["batch_size"], "context": T,
            "optimizer": "AdamW (betas 0.9, 0.95)", "learning_rate": R["lr"],
            "schedule": f"linear warmup {R['warmup']} steps, cosine decay to {R['min_lr_ratio']} x peak",
            "weight_decay": R["weight_decay"], "gradient_clip": 1.0,
            "tokens_seen": tokens_seen, "epochs": r7(tokens_seen / len(train_ids)),
            "wall_clock_seconds": round(train_seconds, 1), "threads": R["threads"],
            "torch_version": torch.__version__, "date": datetime.date.today().isoformat(),
            "history": history,
        },
        "metrics": {"train_loss": r7(train_loss), "validation_loss": r7(valid_loss),
                    "validation_perplexity": r7(math.exp(valid_loss)),
                    "validation_bits_per_byte": r7(valid_loss / math.log(2) * len(valid_ids) / len(valid_text.encode())),
                    "note": f"mean cross-entropy (nats/token) over the same number of {T}-token windows of each split; "
                            "bits per byte = nats/token / ln 2 x validation tokens / validation bytes, comparable across tokenizers"},
        "probes": probes,
        **({"samples": samples} if samples else {}),
    }
    with open(os.path.join(out_dir, "card.json"), "w", encoding="utf-8") as f:
        json.dump(card, f, ensure_ascii=False, indent=2)
        f.write("\n")

    # The key/value-cache graph for generation (onnx/decoder_with_past.onnx), from the same checkpoint;
    # it adds its entry to card.json.
    log("      export: decoder_with_past.onnx (key/value cache)")
    ok = subprocess.run([sys.executable, os.path.join(HERE, "export_with_past.py"), "--recipe", R["id"]], cwd=HERE).returncode == 0
    if not args.skip_node and shutil.which("node"):
        for script in [["node", os.path.join(HERE, "verify_tokenizer.mjs")],
                       ["node", os.path.join(HERE, "verify_onnx.mjs")]]:
            script = script + ([os.path.relpath(out_dir, ROOT), os.path.relpath(os.path.join(fixtures, f"{R['id']}-tokenizer.json"), ROOT)]
                               if script[1].endswith("verify_tokenizer.mjs") else [R["id"]])
            log("      running " + " ".join(os.path.relpath(s, ROOT) if os.path.isabs(s) else s for s in script))
            r = subprocess.run(script, cwd=ROOT)
            ok = ok and r.returncode == 0
    log(f"finished in {time.time() - t_all:.0f}s; model in {os.path.relpath(out_dir, ROOT)}")
    sys.exit(0 if ok and all(p["ok"] for p in probes) else 1)


if __name__ == "__main__":
    main()
