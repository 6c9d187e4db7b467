import { copyFile, mkdir, readdir, readFile, symlink, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MAX_MODEL_BYTES } from '../../src/common/model-limits';
import { modelIdFrom, planImport } from '../../src/common/model-import';
import { ModelImporter } from '../../src/node/model-import';
import { ModelRegistry } from '../../src/node/model-registry';
import { RequestError } from '../../src/node/request-error';
import { projectRoot, seedWorld, tempDir, tinyTokenizer, writeModelFolder } from './helpers';
import { tinyOnnx } from './tiny-onnx';

async function setup(): Promise<{ models: string; source: string; registry: ModelRegistry; importer: ModelImporter }> {
  const models = await tempDir('user-models');
  const source = await tempDir('import-source');
  const registry = new ModelRegistry([{ dir: models, source: 'user' }]);
  return { models, source, registry, importer: new ModelImporter(models, registry) };
}

/** Uploads every file of a folder on disk the way the renderer does, in pieces of `piece` bytes. */
async function upload(importer: ModelImporter, folder: string, name: string, paths: string[], piece = 1000): Promise<unknown> {
  const files = await Promise.all(paths.map(async (path) => ({ path, bytes: new Uint8Array(await readFile(join(folder, path))) })));
  const { token } = await importer.begin({ name, files: files.map((f) => ({ path: f.path, size: f.bytes.byteLength })) });
  for (const file of files) {
    for (let offset = 0; offset < file.bytes.byteLength || offset === 0; offset += piece) {
      await importer.write({ token, file: file.path, offset, data: file.bytes.subarray(offset, offset + piece) });
      if (file.bytes.byteLength === 0) break;
    }
  }
  return importer.commit(token);
}

/** The error a promise rejects with: its message and, for request errors, the HTTP status. */
async function failure(promise: Promise<unknown>): Promise<{ status: number; message: string }> {
  try {
    await promise;
  } catch (cause) {
    return { status: cause instanceof RequestError ? cause.status : 0, message: cause instanceof Error ? cause.message : String(cause) };
  }
  throw new Error('expected a failure');
}

describe('importing a model folder', () => {
  it('copies a valid folder in and lists it with its graph facts', async () => {
    const { models, registry, importer } = await setup();
    const info = await importer.importFolder(seedWorld);
    expect(info).toMatchObject({ id: 'seed-world', source: 'user', layers: 3, heads: 4, kvHeads: 4, hidden: 128, vocab: 1024, context: 128, opset: 17, precision: 'float32', graphInputs: ['input_ids'] });
    expect(info.views.every((v) => v.ok)).toBe(true);
    expect(info.files.onnxWithPast).toBe('onnx/decoder_with_past.onnx');
    expect((await readdir(models)).sort()).toEqual(['seed-world']);
    expect((await readFile(join(models, 'seed-world', 'onnx', 'model.onnx'))).equals(await readFile(join(seedWorld, 'onnx', 'model.onnx')))).toBe(true);
    // A second import of the same folder gets a fresh id instead of overwriting the first.
    expect((await importer.importFolder(seedWorld)).id).toBe('seed-world-2');
    expect((await registry.list()).models.map((m) => m.id)).toEqual(['seed-world', 'seed-world-2']);
  });

  it('describes foreign architectures from their graphs: Llama with grouped-query attention, fused attention', async () => {
    const registry = new ModelRegistry([{ dir: join(projectRoot, 'tests', 'fixtures', 'models'), source: 'user' }]);
    const list = await registry.list();
    expect(list.problems).toEqual([]);
    const byId = new Map(list.models.map((m) => [m.id, m]));
    const view = (id: string, name: string): { ok: boolean; reason: string | null; note: string | null } | undefined => byId.get(id)?.views.find((v) => v.view === name);
    expect(byId.get('llama-tiny')).toMatchObject({ modelType: 'llama', layers: 2, heads: 4, kvHeads: 2, hidden: 32, vocab: 320, precision: 'float32', graphInputs: ['input_ids', 'attention_mask', 'position_ids'] });
    expect(view('llama-tiny', 'attention')).toMatchObject({ ok: true, note: expect.stringContaining('each key/value head is shared by 2 query heads') });
    expect(view('llama-tiny', 'embeddings')?.note).toContain('positions are rotary');
    expect(view('llama-tiny', 'logitLens')?.ok).toBe(true);
    expect(view('gpt-fused-attention', 'attention')).toMatchObject({ ok: true, note: expect.stringContaining("recomputed from Attention's Q and K") });
    expect(view('gpt-decomposed-ln', 'residual')?.ok).toBe(true);
  });

  it('lists a merged decoder (decoder_model_merged.onnx) with the views of its no-cache branch', async () => {
    const { models, source, importer } = await setup();
    const folder = join(source, 'gpt2-merged');
    const gpt2 = join(projectRoot, 'tests', 'fixtures', 'models', 'gpt2-tiny');
    await mkdir(join(folder, 'onnx'), { recursive: true });
    for (const file of ['config.json', 'tokenizer.json', 'tokenizer_config.json']) await copyFile(join(gpt2, file), join(folder, file));
    await copyFile(join(projectRoot, 'tests', 'fixtures', 'gpt2-tiny-merged.onnx'), join(folder, 'onnx', 'decoder_model_merged.onnx'));
    const info = await importer.importFolder(folder);
    expect(info).toMatchObject({ id: 'gpt2-merged', vocab: 50257, opset: 14, graphInputs: ['input_ids', 'attention_mask', 'position_ids'] });
    expect(info.files.onnx).toBe('onnx/decoder_model_merged.onnx');
    expect(info.views.filter((v) => !v.ok)).toEqual([]);
    expect(await readdir(models)).toEqual(['gpt2-merged']);
  });

  it('receives a folder in pieces, validates it, then moves it into place', async () => {
    const { models, source, importer } = await setup();
    await writeModelFolder(join(source, 'My Model'), { card: { name: 'Mine' } });
    const info = (await upload(importer, join(source, 'My Model'), 'My Model', ['config.json', 'tokenizer.json', 'card.json', 'onnx/model.onnx'], 37)) as { id: string; name: string; parameters: number };
    expect(info).toMatchObject({ id: 'My-Model', name: 'Mine', parameters: 8 * 4 * 2 });
    expect(await readdir(models)).toEqual(['My-Model']);
  });

  it('refuses bad folders with the file and cause, leaving the models folder unchanged', async () => {
    const { models, source, importer } = await setup();
    const cases: [string, Parameters<typeof writeModelFolder>[1], RegExp][] = [
      ['no-tokenizer', { tokenizer: false }, /no-tokenizer\/tokenizer\.json is missing/],
      ['bad-json', { tokenizer: '{"model": {"type": "BPE",' }, /bad-json\/tokenizer\.json is not valid JSON: /],
      ['bad-merges', { tokenizer: JSON.stringify({ version: '1.0', added_tokens: [], normalizer: null, pre_tokenizer: null, post_processor: null, decoder: null, model: { type: 'BPE', vocab: { a: 0, b: 1 }, merges: ['a b'] } }) }, /bad-merges\/tokenizer\.json: field "model\.merges\[0\]" \("a b"\): "ab" is not in the vocabulary/],
      ['truncated', { onnx: tinyOnnx().subarray(0, 60) }, /truncated\/onnx\/model\.onnx: not (a readable )?(an )?ONNX model/],
      ['not-onnx', { onnx: 'PK\u0003\u0004 this is a zip file, not a model' }, /not-onnx\/onnx\/model\.onnx: not (a readable )?(an )?ONNX model/],
      ['no-input-ids', { onnx: tinyOnnx({ input: 'tokens' }) }, /no-input-ids\/onnx\/model\.onnx: the graph has no "input_ids" input \(inputs: tokens\)/],
      ['no-logits', { onnx: tinyOnnx({ output: 'scores' }) }, /no-logits\/onnx\/model\.onnx: the graph has no "logits" output \(outputs: scores\)/],
      ['vocab-too-big', { tokenizer: JSON.stringify(tinyTokenizer(Array.from({ length: 12 }, (_, i) => `w${i}`))) }, /vocab-too-big\/tokenizer\.json: vocabulary of 12 tokens is larger than the model's 8 logits \(the last dimension of the graph's "logits" output\)/],
      ['old-opset', { onnx: tinyOnnx({ opset: 11 }) }, /old-opset\/onnx\/model\.onnx: ONNX opset 11 is outside the range 13–23 this app reads/],
      ['custom-op', { onnx: tinyOnnx({ extraOp: { opType: 'FancyAttention', domain: 'org.example' } }) }, /custom-op\/onnx\/model\.onnx: uses custom operator FancyAttention \(domain org\.example, node "\/extra"\), which ONNX Runtime Web has no kernel for/],
    ];
    for (const [name, options, expected] of cases) {
      await writeModelFolder(join(source, name), options);
      const fromDisk = await failure(importer.importFolder(join(source, name)));
      expect(fromDisk.message, name).toMatch(expected);
      expect(fromDisk.status, name).toBe(422);
      const paths = ['config.json', 'onnx/model.onnx', ...(options?.tokenizer === false ? [] : ['tokenizer.json'])];
      const uploaded = await failure(upload(importer, join(source, name), name, paths));
      expect(uploaded.message, `${name} (upload)`).toMatch(expected);
      expect(await readdir(models), name).toEqual([]);
    }
  });

  it('refuses a model larger than the backend can hold before reading it', async () => {
    const { models, source, importer } = await setup();
    await writeModelFolder(join(source, 'huge'));
    // A sparse file: its size is what counts, no disk is used and no byte of it is read.
    await truncate(join(source, 'huge', 'onnx', 'model.onnx'), MAX_MODEL_BYTES + 1);
    const fromDisk = await failure(importer.importFolder(join(source, 'huge')));
    expect(fromDisk.message).toMatch(/huge\/onnx\/model\.onnx: 1\.88 GiB of weights is more than ONNX Runtime Web can load/);
    const announced = await failure(importer.begin({ name: 'huge', files: [{ path: 'config.json', size: 10 }, { path: 'tokenizer.json', size: 10 }, { path: 'onnx/model.onnx', size: 1024 ** 3 }, { path: 'onnx/model.onnx_data', size: 3 * 1024 ** 3 }] }));
    expect(announced.message).toMatch(/huge\/onnx\/model\.onnx: 4\.00 GiB of weights is more than ONNX Runtime Web can load/);
    expect(await readdir(models)).toEqual([]);
  });

  it('refuses a folder that is a symbolic link pointing elsewhere', async () => {
    const { models, source, importer } = await setup();
    await writeModelFolder(join(source, 'real'));
    await symlink(join(source, 'real'), join(source, 'link'));
    const result = await failure(importer.importFolder(join(source, 'link')));
    expect(result.message).toBe(`${join(source, 'link')} is a symbolic link to ${join(source, 'real')}; import the folder itself, not a link to it`);
    expect(await readdir(models)).toEqual([]);
  });

  it('checks uploads: announced files only, in order, complete', async () => {
    const { models, source, importer } = await setup();
    await writeModelFolder(join(source, 'm'));
    const config = new Uint8Array(await readFile(join(source, 'm', 'config.json')));
    const files = [{ path: 'config.json', size: config.byteLength }, { path: 'tokenizer.json', size: 5 }, { path: 'onnx/model.onnx', size: 5 }];
    expect((await failure(importer.begin({ name: 'm', files: [...files, { path: '../escape.json', size: 1 }] }))).message).toMatch(/path segments may not start with a dot/);
    expect((await failure(importer.begin({ name: 'm', files: [...files, { path: 'notes.txt', size: 1 }] }))).message).toBe('import: notes.txt is not a file of a model folder');
    const { token } = await importer.begin({ name: 'm', files });
    expect((await failure(importer.write({ token, file: 'card.json', offset: 0, data: new Uint8Array(1) }))).message).toMatch(/card\.json was not announced/);
    expect((await failure(importer.write({ token, file: 'config.json', offset: 4, data: config }))).message).toMatch(/expected the piece at byte 0, got one at 4/);
    expect((await failure(importer.write({ token, file: 'tokenizer.json', offset: 0, data: new Uint8Array(6) }))).message).toMatch(/larger than the 5 bytes announced/);
    await importer.write({ token, file: 'config.json', offset: 0, data: config });
    expect((await failure(importer.commit(token))).message).toBe('import: m/tokenizer.json arrived incomplete (0 of 5 bytes)');
    expect(await readdir(models)).toEqual([]);
    expect((await failure(importer.commit(token))).status).toBe(404);
  });

  it('cleans up staging folders an interrupted import left behind', async () => {
    const { models, importer } = await setup();
    const { token } = await importer.begin({ name: 'm', files: [{ path: 'config.json', size: 1 }, { path: 'tokenizer.json', size: 1 }, { path: 'onnx/model.onnx', size: 1 }] });
    expect(await readdir(models)).toEqual([`.import-${token}`]);
    const restarted = new ModelImporter(models, new ModelRegistry([{ dir: models, source: 'user' }]));
    await restarted.removeStale();
    expect(await readdir(models)).toEqual([]);
    await writeFile(join(models, 'keep.txt'), 'not an import');
    await restarted.removeStale();
    expect(await readdir(models)).toEqual(['keep.txt']);
  });
});

describe('importing the forms the hub publishes: each is run before it is accepted', () => {
  const fixtures = join(projectRoot, 'tests/fixtures/models');
  const jsonFiles = ['config.json', 'tokenizer.json', 'tokenizer_config.json'];
  async function folderWith(files: Record<string, string>): Promise<string> {
    const dir = await tempDir('form');
    await mkdir(join(dir, 'onnx'));
    for (const f of jsonFiles) await copyFile(join(fixtures, 'gpt2-hub', f), join(dir, f));
    for (const [to, from] of Object.entries(files)) await copyFile(join(fixtures, from), join(dir, to));
    return dir;
  }

  it("imports Optimum's decoder_model.onnx with decoder_with_past_model.onnx, and the cache graph comes along", async () => {
    const { models, importer } = await setup();
    const dir = await folderWith({
      'onnx/decoder_model.onnx': 'gpt2-optimum-split/onnx/decoder_model.onnx',
      'onnx/decoder_with_past_model.onnx': 'gpt2-optimum-split/onnx/decoder_with_past_model.onnx',
    });
    const info = await importer.importFolder(dir);
    expect(info.files.onnx).toBe('onnx/decoder_model.onnx');
    expect(info.files.onnxWithPast).toBe('onnx/decoder_with_past_model.onnx');
    expect((await readdir(join(models, info.id, 'onnx'))).sort()).toEqual(['decoder_model.onnx', 'decoder_with_past_model.onnx']);
  });

  it('refuses a cache graph that does not match the main graph, naming the cache file; nothing stays behind', async () => {
    const { models, importer } = await setup();
    // Llama's cache graph beside a GPT-2: both 2 layers and 320 tokens, but other weights and shapes.
    const dir = await folderWith({ 'onnx/model.onnx': 'gpt2-fp16-io32/onnx/model.onnx', 'onnx/decoder_with_past.onnx': 'llama-gqa5d/onnx/model.onnx' });
    const { status, message } = await failure(importer.importFolder(dir));
    expect(status).toBe(422);
    expect(message).toMatch(/onnx\/decoder_with_past\.onnx: generating on this key\/value cache differs from recomputing the sequence with .*onnx\/model\.onnx by 0\.\d+ in probability at step 1/);
    expect(await readdir(models)).toEqual([]);
  });

  it('refuses a quantized file missing a scale, naming the file and the tensor; nothing stays behind', async () => {
    const { models, importer } = await setup();
    const onnxProto = (await import('onnx-proto')).default;
    const bytes = await readFile(join(fixtures, 'gpt2-hub/onnx/model_quantized.onnx'));
    const model = onnxProto.onnx.ModelProto.decode(bytes);
    const dq = model.graph?.node?.find((n) => n.opType === 'DequantizeLinear');
    const scale = dq?.input?.[1] ?? '';
    model.graph!.initializer = (model.graph?.initializer ?? []).filter((t) => t.name !== scale);
    const dir = await folderWith({});
    await writeFile(join(dir, 'onnx/model_quantized.onnx'), onnxProto.onnx.ModelProto.encode(model).finish());
    const { status, message } = await failure(importer.importFolder(dir));
    expect(status).toBe(422);
    expect(message).toContain('onnx/model_quantized.onnx');
    expect(message).toContain(scale);
    expect(await readdir(models)).toEqual([]);
  });
});

describe('planImport', () => {
  const sized = (paths: string[]): { path: string; size: number }[] => paths.map((path) => ({ path, size: 10 }));

  it('picks the full-precision graph, its cache graph and data, and reports the variants left out', () => {
    const plan = planImport('gpt2', sized(['config.json', 'tokenizer.json', 'tokenizer_config.json', 'README.md', 'onnx/model_q4.onnx', 'onnx/model.onnx', 'onnx/model.onnx_data', 'onnx/decoder_with_past.onnx', 'onnx/model_fp16.onnx']));
    expect(plan.onnx).toBe('onnx/model.onnx');
    expect(plan.files.map((f) => f.path)).toEqual(['config.json', 'tokenizer.json', 'tokenizer_config.json', 'onnx/model.onnx', 'onnx/model.onnx_data', 'onnx/decoder_with_past.onnx']);
    expect(plan.skipped).toEqual(['onnx/model_q4.onnx', 'onnx/model_fp16.onnx']);
  });

  it("pairs Optimum's decoder_with_past_model.onnx (with the variant's suffix) with its decoder", () => {
    const plan = planImport('o', sized(['config.json', 'tokenizer.json', 'onnx/decoder_model.onnx', 'onnx/decoder_with_past_model.onnx', 'onnx/decoder_with_past_model_quantized.onnx']));
    expect(plan.files.map((f) => f.path)).toEqual(['config.json', 'tokenizer.json', 'onnx/decoder_model.onnx', 'onnx/decoder_with_past_model.onnx']);
    const quantized = planImport('o', sized(['config.json', 'tokenizer.json', 'onnx/decoder_model_quantized.onnx', 'onnx/decoder_with_past_model_quantized.onnx']));
    expect(quantized.files.map((f) => f.path)).toContain('onnx/decoder_with_past_model_quantized.onnx');
  });

  it('takes the variant asked for, and names the variants present when it is missing', () => {
    const paths = sized(['config.json', 'tokenizer.json', 'onnx/model.onnx', 'onnx/model_fp16.onnx', 'onnx/model_q4.onnx']);
    expect(planImport('h', paths, 'q4').onnx).toBe('onnx/model_q4.onnx');
    expect(() => planImport('h', paths, 'quantized')).toThrow('h: no quantized variant (this folder has fp32, fp16, q4)');
  });

  it('takes a quantized variant when it is the only graph', () => {
    expect(planImport('q', sized(['config.json', 'tokenizer.json', 'onnx/decoder_model_merged_quantized.onnx'])).onnx).toBe('onnx/decoder_model_merged_quantized.onnx');
  });

  it('names what is missing', () => {
    expect(() => planImport('x', sized(['config.json', 'onnx/model.onnx']))).toThrow('x/tokenizer.json is missing');
    expect(() => planImport('x', sized(['config.json', 'tokenizer.json', 'weights.bin']))).toThrow(/^x: no ONNX file \(looked for onnx\/model\.onnx/);
  });

  it('makes ids from folder names', () => {
    expect(modelIdFrom('My Model (v2)')).toBe('My-Model-v2');
    expect(modelIdFrom('..hidden')).toBe('hidden');
    expect(modelIdFrom('日本語')).toBe('model');
  });
});
