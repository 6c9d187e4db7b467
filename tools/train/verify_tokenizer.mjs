// Checks that @huggingface/tokenizers (the app's tokenizer library) reads our tokenizer.json and
// gives the same ids as the Python encoder (tools/train/bpe.py), and that decode(encode(s)) == s.
//
//   node tools/train/verify_tokenizer.mjs [modelDir] [casesJson]
//
// defaults: resources/models/seed-world and tests/fixtures/seed-world-tokenizer.json
// (the cases file is written by train.py: [{text, ids}] from the Python encoder).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';

const modelDir = process.argv[2] ?? 'resources/models/seed-world';
const casesPath = process.argv[3] ?? 'tests/fixtures/seed-world-tokenizer.json';
const tokenizerJson = JSON.parse(readFileSync(join(modelDir, 'tokenizer.json'), 'utf8'));
const tokenizerConfig = JSON.parse(readFileSync(join(modelDir, 'tokenizer_config.json'), 'utf8'));
const tok = new Tokenizer(tokenizerJson, tokenizerConfig);
const { cases } = JSON.parse(readFileSync(casesPath, 'utf8'));

let failures = 0;
for (const c of cases) {
  const enc = tok.encode(c.text);
  const same = enc.ids.length === c.ids.length && enc.ids.every((x, i) => x === c.ids[i]);
  const hasSpecial = c.text.includes('<|endoftext|>');
  // decode([]) throws in @huggingface/tokenizers 0.2.0 ("token_ids must be a non-empty array")
  const dec = enc.ids.length ? tok.decode(enc.ids, { skip_special_tokens: false }) : "";
  const roundTrip = dec === c.text;
  if (!same || !roundTrip) {
    failures++;
    console.log(`FAIL ${JSON.stringify(c.text)}\n  js ids ${JSON.stringify(enc.ids)}\n  py ids ${JSON.stringify(c.ids)}\n  decoded ${JSON.stringify(dec)}`);
  } else {
    console.log(`ok   ${String(enc.ids.length).padStart(3)} tokens  ${JSON.stringify(c.text).slice(0, 70)}${hasSpecial ? '  (special token kept)' : ''}`);
  }
  if (c.tokens && JSON.stringify(c.tokens) !== JSON.stringify(enc.tokens)) {
    failures++;
    console.log(`FAIL token strings differ for ${JSON.stringify(c.text)}`);
  }
}
// skip_special_tokens drops <|endoftext|>
const eot = tok.encode('The sun<|endoftext|>');
const skipped = tok.decode(eot.ids, { skip_special_tokens: true });
if (skipped !== 'The sun') { failures++; console.log(`FAIL skip_special_tokens gave ${JSON.stringify(skipped)}`); }
console.log(`${cases.length} cases, ${failures} failures`);
process.exit(failures ? 1 : 0);
