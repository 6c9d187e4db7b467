import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-web';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OnnxModel } from '../../src/engine/session';
import { loadBundled, SEED_WORLD } from './load-model';

/**
 * Issue 18: a Node host hands the engine `reread`, and the engine does not keep the model's bytes
 * after its sessions are created; it reads the file again for the embedding tables and the edited
 * graph, and gets the same results as a model that kept them.
 */
const json = (f: string): unknown => JSON.parse(readFileSync(join(SEED_WORLD, f), 'utf8'));
const onnxPath = join(SEED_WORLD, 'onnx/model.onnx');
let reads = 0;
let lean: OnnxModel;
let kept: OnnxModel;
beforeAll(async () => {
  lean = await OnnxModel.load(
    ort,
    {
      id: 'seed-world',
      config: json('config.json'),
      tokenizer: json('tokenizer.json'),
      tokenizerConfig: json('tokenizer_config.json'),
      onnx: new Uint8Array(readFileSync(onnxPath)),
      reread: () => {
        reads++;
        const bytes = new Uint8Array(readFileSync(onnxPath));
        return bytes;
      },
    },
    { backend: 'wasm', threads: 1, cache: false },
  );
  kept = await loadBundled(undefined, { cache: false });
});
afterAll(async () => {
  await lean.release();
  await kept.release();
});

describe('a model that reads its file again instead of keeping the bytes', () => {
  it('reads nothing again to load, and reads the file for the embedding tables once', () => {
    expect(reads).toBe(0);
    expect(lean.precision).toBe(kept.precision);
    const id = lean.tokenizer.encode(' sun')[0] ?? 0;
    expect(lean.neighbours(id, 5)).toEqual(kept.neighbours(id, 5));
    expect(lean.positions(8)).toEqual(kept.positions(8));
    expect(reads).toBe(1);
  });

  it('builds the edited graph from the file read again, with the same result', async () => {
    const ids = lean.tokenizer.encode('The sun rises in the');
    const edit = { ablateHeads: [{ layer: 0, head: 1 }] };
    const [a, b] = [await lean.forwardEdited(ids, edit, false), await kept.forwardEdited(ids, edit, false)];
    expect(Array.from(a.lastLogits)).toEqual(Array.from(b.lastLogits));
    expect(reads).toBe(2);
  });

  it('refuses a file whose size changed since the load, naming it', async () => {
    const fresh = await OnnxModel.load(
      ort,
      { id: 'seed-world', config: json('config.json'), tokenizer: json('tokenizer.json'), tokenizerConfig: {}, onnx: new Uint8Array(readFileSync(onnxPath)), reread: () => new Uint8Array(10) },
      { backend: 'wasm', threads: 1, cache: false },
    );
    expect(() => fresh.embeddingTables()).toThrow(/^seed-world\/onnx\/model\.onnx changed on disk since the model was loaded \(\d+ bytes then, 10 now\); load the model again$/);
    await fresh.release();
  });
});
