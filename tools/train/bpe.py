#!/usr/bin/env python3
"""Byte-level BPE (GPT-2 style), trained from scratch, saved as a Hugging Face tokenizer.json.

* Bytes are mapped to printable unicode characters with GPT-2's `bytes_to_unicode`, so every
  string can be encoded (no unknown tokens) and a space shows up as "Ġ".
* Text is pre-split with GPT-2's regex
      's|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+
  Python's `re` has no \\p{...}, so the letter (L*) and number (N*) classes are built from
  `unicodedata` categories, and \\s is JavaScript's whitespace set (what @huggingface/tokenizers,
  the app's tokenizer, uses with the /u flag).
* Merges are learned on word counts of the training split; ties are broken by the pair itself,
  so training is deterministic.
* Special tokens (here only <|endoftext|>) are split out before pre-tokenization and never merged.

Vocabulary ids: 0..255 are the 256 byte symbols in GPT-2's order, then one id per merge in the
order learned, then the special token(s).
"""
import json
import os
import re
import sys
import unicodedata
from collections import Counter

EOT = "<|endoftext|>"


def bytes_to_unicode():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, [chr(c) for c in cs]))


BYTE_ENCODER = bytes_to_unicode()
BYTE_DECODER = {v: k for k, v in BYTE_ENCODER.items()}
BYTE_ORDER = list(BYTE_ENCODER.keys())  # GPT-2's id order for the 256 byte symbols


def _class_for(prefixes):
    """A regex character class body listing all code points whose category starts with one of prefixes."""
    ranges = []
    start = prev = None
    for cp in range(0x110000):
        if 0xD800 <= cp <= 0xDFFF:
            ok = False
        else:
            ok = unicodedata.category(chr(cp))[0] in prefixes
        if ok:
            if start is None:
                start = cp
            prev = cp
        elif start is not None:
            ranges.append((start, prev))
            start = None
    if start is not None:
        ranges.append((start, prev))

    def esc(cp):
        return "\\U%08x" % cp

    return "".join(esc(a) if a == b else f"{esc(a)}-{esc(b)}" for a, b in ranges)


_L = _class_for("L")
_N = _class_for("N")
# JavaScript's \s (WhiteSpace + LineTerminator), as used by the /u regex in @huggingface/tokenizers.
_S = "\\t\\n\\x0b\\x0c\\r \\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000\\ufeff"
PAT = re.compile(
    rf"'s|'t|'re|'ve|'m|'ll|'d| ?[{_L}]+| ?[{_N}]+| ?[^{_S}{_L}{_N}]+|[{_S}]+(?![^{_S}])|[{_S}]+"
)


def pretokenize(text):
    """GPT-2 pre-tokenization: a list of string pieces (before the byte mapping)."""
    return PAT.findall(text)


def split_special(text, specials=(EOT,)):
    """Split text into [(piece, is_special)] keeping special tokens whole."""
    if not specials:
        return [(text, False)]
    pat = re.compile("(" + "|".join(re.escape(s) for s in specials) + ")")
    out = []
    for part in pat.split(text):
        if part == "":
            continue
        out.append((part, part in specials))
    return out


def to_symbols(piece):
    return "".join(BYTE_ENCODER[b] for b in piece.encode("utf-8"))


def train(text, vocab_size=1024, specials=(EOT,), verbose=True):
    """Learn merges on `text`. Returns (vocab dict token->id, merges list of (a, b))."""
    words = Counter()
    for part, special in split_special(text, specials):
        if special:
            continue
        for p in pretokenize(part):
            words[to_symbols(p)] += 1
    n_merges = vocab_size - 256 - len(specials)
    seqs = [(list(w), c) for w, c in words.items()]
    merges = []
    vocab = {BYTE_ENCODER[b]: i for i, b in enumerate(BYTE_ORDER)}
    for m in range(n_merges):
        pairs = Counter()
        for syms, c in seqs:
            for i in range(len(syms) - 1):
                pairs[(syms[i], syms[i + 1])] += c
        if not pairs:
            break
        best_count = max(pairs.values())
        best = min(p for p, c in pairs.items() if c == best_count)
        a, b = best
        new = a + b
        merges.append(best)
        vocab[new] = len(vocab)
        for syms, _ in seqs:
            i = 0
            while i < len(syms) - 1:
                if syms[i] == a and syms[i + 1] == b:
                    syms[i:i + 2] = [new]
                i += 1
        if verbose and (m + 1) % 128 == 0:
            print(f"  bpe merge {m + 1}/{n_merges}: {a!r} + {b!r} (count {best_count})", flush=True)
    for s in specials:
        vocab[s] = len(vocab)
    return vocab, merges


class BPETokenizer:
    def __init__(self, vocab, merges, specials=(EOT,)):
        self.vocab = dict(vocab)
        self.inv = {i: t for t, i in self.vocab.items()}
        self.ranks = {tuple(m): i for i, m in enumerate(merges)}
        self.merges = [tuple(m) for m in merges]
        self.specials = tuple(specials)
        self.cache = {}

    @classmethod
    def load(cls, path):
        with open(path, encoding="utf-8") as f:
            tj = json.load(f)
        merges = [tuple(m) if isinstance(m, list) else tuple(m.split(" ")) for m in tj["model"]["merges"]]
        specials = tuple(t["content"] for t in tj["added_tokens"] if t.get("special"))
        vocab = dict(tj["model"]["vocab"])
        for t in tj["added_tokens"]:
            vocab[t["content"]] = t["id"]
        return cls(vocab, merges, specials)

    def bpe(self, word):
        if word in self.cache:
            return self.cache[word]
        syms = list(word)
        while len(syms) > 1:
            best = None
            best_rank = None
            for i in range(len(syms) - 1):
                r = self.ranks.get((syms[i], syms[i + 1]))
                if r is not None and (best_rank is None or r < best_rank):
                    best, best_rank = i, r
            if best is None:
                break
            a, b = syms[best], syms[best + 1]
            out = []
            i = 0
            while i < len(syms):
                if i < len(syms) - 1 and syms[i] == a and syms[i + 1] == b:
                    out.append(a + b)
                    i += 2
                else:
                    out.append(syms[i])
                    i += 1
            syms = out
        self.cache[word] = syms
        return syms

    def tokenize(self, text):
        toks = []
        for part, special in split_special(text, self.specials):
            if special:
                toks.append(part)
                continue
            for p in pretokenize(part):
                toks.extend(self.bpe(to_symbols(p)))
        return toks

    def encode(self, text):
        return [self.vocab[t] for t in self.tokenize(text)]

    def decode(self, ids, skip_special_tokens=False):
        out = []
        buf = []
        for i in ids:
            t = self.inv[i]
            if t in self.specials:
                if buf:
                    out.append(bytes(buf).decode("utf-8", errors="replace"))
                    buf = []
                if not skip_special_tokens:
                    out.append(t)
                continue
            buf.extend(BYTE_DECODER[ch] for ch in t)
        if buf:
            out.append(bytes(buf).decode("utf-8", errors="replace"))
        return "".join(out)

    def token_text(self, i):
        """Readable text of one token (bytes decoded; may be a partial UTF-8 sequence)."""
        return self.decode([i])

    def save(self, out_dir, model_max_length=128):
        os.makedirs(out_dir, exist_ok=True)
        base_vocab = {t: i for t, i in self.vocab.items() if t not in self.specials}
        tj = {
            "version": "1.0",
            "truncation": None,
            "padding": None,
            "added_tokens": [
                {"id": self.vocab[s], "content": s, "single_word": False, "lstrip": False, "rstrip": False,
                 "normalized": True, "special": True}
                for s in self.specials
            ],
            "normalizer": None,
            "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True},
            "post_processor": None,
            "decoder": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True},
            "model": {
                "type": "BPE",
                "dropout": None,
                "unk_token": None,
                "continuing_subword_prefix": "",
                "end_of_word_suffix": "",
                "fuse_unk": False,
                "byte_fallback": False,
                "ignore_merges": False,
                "vocab": base_vocab,
                "merges": [[a, b] for a, b in self.merges],
            },
        }
        with open(os.path.join(out_dir, "tokenizer.json"), "w", encoding="utf-8") as f:
            json.dump(tj, f, ensure_ascii=False, indent=1)
            f.write("\n")
        cfg = {
            "tokenizer_class": "GPT2Tokenizer",
            "model_max_length": model_max_length,
            "bos_token": EOT,
            "eos_token": EOT,
            "unk_token": EOT,
            "add_prefix_space": False,
            "add_bos_token": False,
            "clean_up_tokenization_spaces": False,
        }
        with open(os.path.join(out_dir, "tokenizer_config.json"), "w", encoding="utf-8") as f:
            json.dump(cfg, f, indent=2)
            f.write("\n")


if __name__ == "__main__":
    import argparse

    ap = argparse.ArgumentParser(description="Train a byte-level BPE tokenizer and write tokenizer.json")
    ap.add_argument("train_text")
    ap.add_argument("--vocab-size", type=int, default=1024)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    with open(a.train_text, encoding="utf-8") as f:
        text = f.read()
    vocab, merges = train(text, a.vocab_size)
    BPETokenizer(vocab, merges).save(a.out)
    print(f"wrote {a.out}/tokenizer.json: {len(vocab)} tokens, {len(merges)} merges", file=sys.stderr)
