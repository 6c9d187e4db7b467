import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { describe, expect, it } from 'vitest';
import { ModelTokenizer } from '../../src/engine/tokenizer';

// GPT-2's own tokenizer.json (50,257 tokens, 50,000 merges) from the gpt2-tiny fixture.
const folder = join(__dirname, '../fixtures/models/gpt2-tiny');
const read = (name: string): unknown => JSON.parse(readFileSync(join(folder, name), 'utf8'));

const texts = [
  'The cat sat on the mat.',
  "  It's a    test, isn't it?\n\nNew paragraph\twith a tab.",
  'Unicode: café, naïve, 東京, emoji 🙂👍🏽 and <|endoftext|> inside.',
  'internationalization antidisestablishmentarianism 1234567890 3.14159',
];

describe('ModelTokenizer lets go of the data the library only needs while it is built', () => {
  it('encodes, decodes and labels tokens exactly as the library built on the same tokenizer.json', () => {
    const ours = new ModelTokenizer(read('tokenizer.json'), read('tokenizer_config.json'));
    const library = new Tokenizer(read('tokenizer.json') as Record<string, unknown>, read('tokenizer_config.json') as Record<string, unknown>);
    for (const text of texts) {
      const ids = library.encode(text, { add_special_tokens: false }).ids;
      expect(ours.encode(text)).toEqual(ids);
      expect(ours.decode(ids)).toBe(library.decode(ids, { skip_special_tokens: false, clean_up_tokenization_spaces: false }));
    }
    // Every token's text through the library's own id-to-token table (kept), the last added one included.
    for (const id of [0, 1, 256, 13, 50255, 50256]) expect(ours.piece(id).text).toBe(library.decode([id], { skip_special_tokens: false, clean_up_tokenization_spaces: false }));
    expect(ours.info).toEqual({ vocabSize: 50257, isByteLevel: true, eosId: 50256 });
  });

  it('no longer holds tokenizer.json, its merges or their split pairs (the BPE ranks stay)', () => {
    const ours = new ModelTokenizer(read('tokenizer.json'), read('tokenizer_config.json'));
    const library = Reflect.get(ours, 'tokenizer') as object;
    const model = Reflect.get(library, 'model') as object;
    expect(Reflect.get(library, 'tokenizer')).toBeNull();
    expect(Reflect.get(model, 'merges')).toEqual([]);
    const config = Reflect.get(model, 'config') as Record<string, unknown>;
    expect(config['vocab']).toEqual({});
    expect(config['merges']).toEqual([]);
    expect((Reflect.get(model, 'bpe_ranks') as Map<string, number>).size).toBe(50000);
  });
});
