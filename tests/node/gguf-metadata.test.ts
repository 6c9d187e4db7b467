import { copyFile, readFile, rename, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readGgufFacts } from '../../src/node/gguf-metadata';
import { GGUF_REGISTRATION, registerGguf, sha256File } from '../../src/node/gguf-registration';
import { ModelRegistry } from '../../src/node/model-registry';
import { ntl, projectRoot, tempDir } from './helpers';

/** The hand-written GGUF twin of gpt2-hub (tools/fixtures/build_gguf_fixture.py): GPT-2, 2 layers, 2 heads, width 32, context 64, vocabulary 320. */
const TWIN = join(projectRoot, 'tests/fixtures/models/gpt2-gguf-twin');
const F32 = join(TWIN, 'gpt2-gguf-twin-f32.gguf');
const Q8 = join(TWIN, 'gpt2-gguf-twin-q8_0.gguf');

// GPT-2's tensors at that shape: token and position tables, per layer two norms, qkv, output, up and down
// with their biases, the final norm and the untied output matrix.
const LAYER = 2 * 32 + (32 * 96 + 96) + (32 * 32 + 32) + 2 * 32 + (32 * 128 + 128) + (128 * 32 + 32);
const PARAMETERS = 320 * 32 + 64 * 32 + 2 * LAYER + 2 * 32 + 320 * 32;

describe('GGUF metadata read with @huggingface/gguf', () => {
  it('reads the shape, the tensor types, the parameters and where the token embedding table is (F32)', async () => {
    const facts = await readGgufFacts(F32);
    expect(facts).toMatchObject({ architecture: 'gpt2', name: 'gpt2-gguf-twin (f32)', layers: 2, heads: 2, kvHeads: 2, hidden: 32, context: 64, vocab: 320, parameters: PARAMETERS });
    expect(PARAMETERS).toBe(48_000);
    expect(facts.details).toEqual({ fileType: 'F32', tensorTypes: { F32: 29 }, chatTemplate: null, version: 3, tensors: 29, embeddings: null });
    expect(facts.tokenEmbedding).toMatchObject({ type: 'F32', rows: 320, cols: 32 });
    // The first row of the table is at the offset read from the header: 32 float32 values, not all zero, all finite.
    const bytes = await readFile(F32);
    const row = new Float32Array(bytes.buffer.slice(bytes.byteOffset + facts.tokenEmbedding!.offset, bytes.byteOffset + facts.tokenEmbedding!.offset + 128));
    expect(row.every(Number.isFinite)).toBe(true);
    expect(row.some((v) => v !== 0)).toBe(true);
  });

  it('counts the tensors of each quantization type (Q8_0: the matrices in Q8_0, norms and biases in F32)', async () => {
    const facts = await readGgufFacts(Q8);
    expect(facts.details.fileType).toBe('Q8_0');
    expect(facts.details.tensorTypes).toEqual({ F32: 18, Q8_0: 11 });
    expect(facts.parameters).toBe(PARAMETERS);
    expect(facts.tokenEmbedding?.type).toBe('Q8_0');
    expect(facts.details.embeddings).toBeNull();
  });

  it('refuses a file that is not GGUF, and a truncated header, naming the file and the cause', async () => {
    const dir = await tempDir('gguf-bad');
    const notGguf = join(dir, 'model.gguf');
    await writeFile(notGguf, 'not a model at all, just text');
    await expect(readGgufFacts(notGguf)).rejects.toThrow(`${notGguf}: not a GGUF file (it does not start with "GGUF")`);
    const truncated = join(dir, 'cut.gguf');
    await writeFile(truncated, (await readFile(Q8)).subarray(0, 900));
    await expect(readGgufFacts(truncated)).rejects.toThrow(/cut\.gguf: .*truncated/);
    await expect(readGgufFacts(join(dir, 'absent.gguf'))).rejects.toThrow('absent.gguf: no such GGUF file');
  });
});

describe('a GGUF file registered by path and hash', () => {
  it('is listed by the registry with its header, where it is, without copying it', async () => {
    const models = await tempDir('gguf-models');
    const id = await registerGguf(models, Q8, { takenIds: new Set() });
    expect(id).toBe('gpt2-gguf-twin-q8_0');
    const saved = JSON.parse(await readFile(join(models, id, GGUF_REGISTRATION), 'utf8'));
    expect(saved).toMatchObject({ path: Q8, sha256: await sha256File(Q8), origin: 'registered' });
    const { models: listed, problems } = await new ModelRegistry([{ dir: models, source: 'user' }]).list();
    expect(problems).toEqual([]);
    expect(listed).toHaveLength(1);
    expect(listed[0]).toMatchObject({ id, format: 'gguf', path: Q8, modelType: 'gpt2', layers: 2, heads: 2, vocab: 320, context: 64, parameters: 48_000, precision: 'Q8_0', sha256: saved.sha256 });
    expect(listed[0]?.gguf).toMatchObject({ file: 'gpt2-gguf-twin-q8_0.gguf', origin: 'registered', tensorTypes: { F32: 18, Q8_0: 11 } });
    expect(listed[0]?.views.find((v) => v.view === 'attention')?.reason).toBe("llama.cpp's public API does not expose attention weights");
    // An architecture the bundled llama.cpp does not know is refused before anything tries to load it.
    const foreign = join(await tempDir('gguf-foreign'), 'foreign.gguf');
    const bytes = await readFile(Q8);
    await writeFile(foreign, Buffer.from(bytes.toString('latin1').replaceAll('gpt2', 'zzz9'), 'latin1'));
    await expect(registerGguf(await tempDir('gguf-foreign-models'), foreign, { takenIds: new Set() })).rejects.toThrow(
      `${foreign}: architecture "zzz9" is not one the bundled llama.cpp (node-llama-cpp 3.21.1) can run`,
    );
    // A file larger than the machine's memory is refused before its header is read.
    await expect(registerGguf(await tempDir('gguf-small-machine'), Q8, { takenIds: new Set(), memoryBytes: 32 * 1024 })).rejects.toThrow(
      `${Q8}: the file (59.8 KiB) is larger than this machine's memory (32.0 KiB); llama.cpp could not load it`,
    );
    // Added twice: refused, naming the model it already is.
    await expect(registerGguf(models, Q8, { takenIds: new Set([id]) })).rejects.toThrow(`is already added, as ${id}`);
  });

  it('is listed as missing once moved or deleted, and as changed once rewritten; the registry keeps going', async () => {
    const dir = await tempDir('gguf-moved');
    const models = join(dir, 'models');
    const file = join(dir, 'twin.gguf');
    await copyFile(Q8, file);
    const id = await registerGguf(models, file, { takenIds: new Set() });
    const registry = new ModelRegistry([{ dir: models, source: 'user' }]);
    expect((await registry.list()).models.map((m) => m.id)).toEqual([id]);
    await utimes(file, new Date(), new Date(Date.now() + 5000));
    expect((await registry.list()).problems[0]?.message).toMatch(`${id}: the GGUF file ${file} has changed since it was added`);
    await rename(file, join(dir, 'elsewhere.gguf'));
    const list = await registry.list();
    expect(list.models).toEqual([]);
    expect(list.problems).toEqual([{ path: join(models, id), message: `${id}: the GGUF file ${file} is missing (moved or deleted since it was added)` }]);
  });

  it('`ntl import FILE.gguf` registers it and `ntl models --json` shows its metadata', async () => {
    const models = await tempDir('gguf-ntl');
    process.env['NTL_MODELS_DIR'] = models;
    try {
      const added = await ntl('import', F32, '--json');
      expect(added.stderr).toBe('');
      expect(JSON.parse(added.stdout)).toMatchObject({ id: 'gpt2-gguf-twin-f32', format: 'gguf', source: 'user', path: F32 });
      const listed = await ntl('models', '--json');
      const twin = JSON.parse(listed.stdout).models.find((m: { id: string }) => m.id === 'gpt2-gguf-twin-f32');
      expect(twin).toMatchObject({ format: 'gguf', path: F32, layers: 2, heads: 2, kv_heads: 2, hidden: 32, context: 64, vocab: 320, parameters: 48_000, precision: 'F32' });
      expect(twin.gguf).toMatchObject({ origin: 'registered', file_type: 'F32', tensor_types: { F32: 29 }, chat_template: null, embeddings: true });
      expect(twin.views.attention).toBe("llama.cpp's public API does not expose attention weights");
      // Run by its id, as a registered GGUF: llama.cpp, with the twin's top token (tests/fixtures/gpt2-gguf-twin-reference.json).
      const predicted = await ntl('predict', '--model', 'gpt2-gguf-twin-f32', '--prompt', 'The sun rises in the', '--top', '3', '--json');
      expect(predicted.stderr).toBe('');
      expect(JSON.parse(predicted.stdout)).toMatchObject({ source: 'gguf', tokens: [{ id: 267 }, { id: 292 }, { id: 290 }, { id: 288 }, { id: 258 }], top: [{ id: 106 }, { id: 274 }, {}] });
      const attention = await ntl('attention', '--model', 'gpt2-gguf-twin-f32', '--prompt', 'The sun');
      expect(attention.code).not.toBe(0);
      expect(attention.stderr).toContain('llama.cpp');
      const text = await ntl('models');
      expect(text.stdout).toMatch(/gpt2-gguf-twin-f32\s+user \(gguf\)\s+2\s+2\s+32\s+320\s+64\s+48000\s+\d+\s+F32/);
    } finally {
      delete process.env['NTL_MODELS_DIR'];
    }
  }, 120_000);
});
