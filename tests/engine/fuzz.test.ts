import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseNotebook } from '../../src/common/notebook-format';
import { addGraphOutputs, prepareGraph } from '../../src/engine/onnx-edit';
import { planGraph } from '../../src/engine/onnx-graph';
import { ModelTokenizer } from '../../src/engine/tokenizer';
import { ROOT } from './load-model';

const json = (path: string): unknown => JSON.parse(readFileSync(join(ROOT, path), 'utf8'));

describe('fuzzing: hostile input gets an Error with a message, never a crash or a hang', () => {
  it('byte-level BPE tokenizers give back any string: decode(encode(s)) == s', () => {
    const tokenizers = [
      new ModelTokenizer(json('resources/models/seed-world/tokenizer.json'), json('resources/models/seed-world/tokenizer_config.json')),
      new ModelTokenizer(json('tests/fixtures/models/gpt2-tiny/tokenizer.json'), json('tests/fixtures/models/gpt2-tiny/tokenizer_config.json')),
    ];
    // Any Unicode text, including astral characters, combining marks, controls and runs of spaces;
    // lone surrogates are excluded (they are not text and TextEncoder replaces them).
    const text = fc.oneof(fc.string({ unit: 'grapheme', maxLength: 60 }), fc.string({ unit: 'binary', maxLength: 60 }), fc.stringMatching(/^[ \t\n\r'a-z0-9]{0,40}$/));
    for (const tokenizer of tokenizers) {
      fc.assert(
        fc.property(text, (s) => {
          const ids = tokenizer.encode(s);
          expect(ids.every((id) => Number.isInteger(id) && id >= 0 && id < tokenizer.info.vocabSize)).toBe(true);
          expect(tokenizer.decode(ids)).toBe(s);
        }),
        { numRuns: 300 },
      );
    }
  });

  it('the ONNX reader and instrumenter survive mutated bytes of a real model', () => {
    const original = new Uint8Array(readFileSync(join(ROOT, 'tests/fixtures/models/llama-tiny/onnx/model.onnx')));
    const mutation = fc.record({
      kind: fc.constantFrom('flip', 'truncate', 'splice'),
      at: fc.nat({ max: original.byteLength - 1 }),
      value: fc.integer({ min: 0, max: 255 }),
      count: fc.integer({ min: 1, max: 16 }),
    });
    let failures = 0;
    fc.assert(
      fc.property(mutation, ({ kind, at, value, count }) => {
        let bytes: Uint8Array;
        if (kind === 'truncate') bytes = original.subarray(0, at);
        else {
          bytes = original.slice();
          for (let i = 0; i < count && at + i < bytes.length; i++) bytes[at + i] = kind === 'flip' ? (bytes[at + i] ?? 0) ^ (1 << (value % 8)) : value;
        }
        const started = performance.now();
        try {
          const { bytes: prepared, graph } = prepareGraph(bytes, 'mutated.onnx');
          const plan = planGraph(graph, 'mutated.onnx');
          addGraphOutputs(prepared, plan.probes.map((p) => p.tensor));
        } catch (cause) {
          failures++;
          expect(cause).toBeInstanceOf(Error);
          expect((cause as Error).message.length).toBeGreaterThan(0);
        }
        expect(performance.now() - started).toBeLessThan(2_000);
      }),
      { numRuns: 200 },
    );
    expect(failures).toBeGreaterThan(0);
  });

  it('the notebook loader takes any JSON value: a notebook or an Error naming the field', () => {
    const valid = json('tests/node/fixtures/sun.ntl.json') as Record<string, unknown>;
    const hostile = fc.oneof(
      fc.jsonValue(),
      // A real notebook with one field replaced by anything, including __proto__ and constructor keys.
      fc.record({ key: fc.constantFrom(...Object.keys(valid), '__proto__', 'constructor'), value: fc.jsonValue() }).map(({ key, value }) => JSON.parse(JSON.stringify({ ...valid, [key]: value })) as unknown),
    );
    fc.assert(
      fc.property(hostile, (value) => {
        try {
          const doc = parseNotebook(value, 'fuzzed.ntl.json');
          expect(doc.format).toBe('next-token-lab-notebook');
        } catch (cause) {
          expect(cause).toBeInstanceOf(Error);
          expect((cause as Error).message).toMatch(/^fuzzed\.ntl\.json: /);
        }
      }),
      { numRuns: 500 },
    );
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });
});
