import { createHash } from 'node:crypto';
import { readFile, mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readModelFolder } from '../../src/engine/model-files';
import { ModelRegistry } from '../../src/node/model-registry';
import { folderSources, readModelFiles } from '../../src/node/model-folder-files';
import { RequestError } from '../../src/node/request-error';
import { seedWorld, bundledModels, tempDir, tinyTokenizer, writeModelFolder } from './helpers';

const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

describe('ModelRegistry', () => {
  it('lists a valid model folder with its config, card and ONNX hash', async () => {
    const root = await tempDir('models');
    await writeModelFolder(join(root, 'tiny'), { card: { name: 'Tiny', description: 'for tests', parameters: 1234 } });
    const registry = new ModelRegistry([{ dir: root, source: 'user' }]);
    const list = await registry.list();
    expect(list.problems).toEqual([]);
    expect(list.models).toHaveLength(1);
    const model = list.models[0];
    const onnx = await readFile(join(root, 'tiny', 'onnx', 'model.onnx'));
    expect(model).toMatchObject({
      id: 'tiny',
      name: 'Tiny',
      description: 'for tests',
      source: 'user',
      modelType: 'gpt2',
      layers: 2,
      heads: 2,
      kvHeads: 2,
      hidden: 16,
      vocab: 8,
      context: 32,
      parameters: 1234,
      bytes: onnx.length,
      sha256: sha256(onnx),
      files: { config: 'config.json', tokenizer: 'tokenizer.json', tokenizerConfig: null, onnx: 'onnx/model.onnx', card: 'card.json' },
    });
  });

  it('finds the ONNX file in the documented order', async () => {
    const root = await tempDir('models');
    const folder = join(root, 'flat');
    await writeModelFolder(folder);
    await writeFile(join(folder, 'model.onnx'), 'flat');
    await writeFile(join(folder, 'onnx', 'decoder_model.onnx'), 'decoder');
    const registry = new ModelRegistry([{ dir: root, source: 'user' }]);
    expect((await registry.resolve('flat')).files.onnx).toBe('onnx/model.onnx');
  });

  it('reports broken folders as problems naming the file and cause, never throwing', async () => {
    const root = await tempDir('models');
    await writeModelFolder(join(root, 'good'));
    await writeModelFolder(join(root, 'no-tokenizer'), { tokenizer: false });
    await writeModelFolder(join(root, 'bad-json'), { config: '{"model_type": "gpt2",' });
    await writeModelFolder(join(root, 'no-layers'), { config: JSON.stringify({ model_type: 'gpt2', vocab_size: 8, n_head: 2, n_embd: 16, n_positions: 32 }) });
    const list = await new ModelRegistry([{ dir: root, source: 'user' }]).list();
    expect(list.models.map((m) => m.id)).toEqual(['good']);
    const problem = (id: string): string => list.problems.find((p) => p.path === join(root, id))?.message ?? '';
    expect(problem('no-tokenizer')).toBe(`${join(root, 'no-tokenizer', 'tokenizer.json')} is missing`);
    expect(problem('bad-json')).toMatch(new RegExp(`^${join(root, 'bad-json', 'config.json')} is not valid JSON: `));
    expect(problem('no-layers')).toBe(`${join(root, 'no-layers', 'config.json')}: missing "n_layer" or "num_hidden_layers"`);
  });

  it('throws a clear error for an unknown id or a bad folder', async () => {
    const root = await tempDir('models');
    await writeModelFolder(join(root, 'no-tokenizer'), { tokenizer: false });
    const registry = new ModelRegistry([{ dir: root, source: 'user' }]);
    await expect(registry.resolve('nope')).rejects.toThrow(`unknown model "nope": no folder of that name in ${root}`);
    await expect(registry.resolve('no-tokenizer')).rejects.toThrow('tokenizer.json is missing');
    await expect(registry.resolve(join(root, 'missing-folder'))).rejects.toThrow('does not exist');
  });

  it('locates a model with every check resolve makes, without the graph facts and the hash, which onnxSha256 gives alone', async () => {
    const root = await tempDir('models');
    await writeModelFolder(join(root, 'good'), { card: { name: 'Good' } });
    await writeModelFolder(join(root, 'no-tokenizer'), { tokenizer: false });
    await writeModelFolder(join(root, 'no-layers'), { config: JSON.stringify({ model_type: 'gpt2', vocab_size: 8, n_head: 2, n_embd: 16, n_positions: 32 }) });
    await writeModelFolder(join(root, 'wide-tokenizer'), { tokenizer: JSON.stringify(tinyTokenizer('abcdefghij'.split(''))) });
    await writeModelFolder(join(root, 'bad-graph'), { onnx: 'not a protobuf' });
    const registry = new ModelRegistry([{ dir: root, source: 'user' }]);
    const info = await registry.resolve('good');
    const { heads, kvHeads, parameters, sha256: hash, opset, precision, graphInputs, views, ...rest } = info;
    expect([heads, kvHeads, (parameters ?? 0) > 0, opset > 0, precision, graphInputs, views.length]).toEqual([2, 2, true, true, 'float32', ['input_ids'], 6]);
    const located = await new ModelRegistry([{ dir: root, source: 'user' }]).locate('good');
    expect(located).toEqual(rest);
    expect(Object.keys(located).sort()).toEqual(Object.keys(rest).sort());
    expect(await registry.onnxSha256(rest)).toBe(sha256(await readFile(join(root, 'good', 'onnx', 'model.onnx'))));
    expect(hash).toBe(await registry.onnxSha256(rest));
    for (const id of ['no-tokenizer', 'no-layers', 'wide-tokenizer', 'bad-graph', 'nope']) {
      const refusal = (promise: Promise<unknown>): Promise<string> => promise.then(() => 'accepted', (cause: unknown) => String(cause));
      const resolved = await refusal(new ModelRegistry([{ dir: root, source: 'user' }]).resolve(id));
      expect(resolved).not.toBe('accepted');
      expect(await refusal(new ModelRegistry([{ dir: root, source: 'user' }]).locate(id))).toBe(resolved);
    }
  });

  it('refuses a model folder that is a link leading outside its root', async () => {
    const root = await tempDir('models');
    const elsewhere = await tempDir('elsewhere');
    await writeModelFolder(join(elsewhere, 'outside'));
    await symlink(join(elsewhere, 'outside'), join(root, 'sneaky'));
    const registry = new ModelRegistry([{ dir: root, source: 'user' }]);
    const list = await registry.list();
    expect(list.models).toEqual([]);
    expect(list.problems[0]?.message).toContain('outside the models folder');
    await expect(registry.resolve('sneaky')).rejects.toThrow('outside the models folder');
  });

  it('serves only the model’s own files', async () => {
    const root = await tempDir('models');
    await writeModelFolder(join(root, 'tiny'));
    await writeFile(join(root, 'tiny', 'secret.txt'), 'no');
    const registry = new ModelRegistry([{ dir: root, source: 'bundled' }]);
    expect(await registry.fileForRequest('tiny', 'onnx/model.onnx')).toBe(join(root, 'tiny', 'onnx', 'model.onnx'));
    expect(await registry.fileForRequest('tiny', 'config.json')).toBe(join(root, 'tiny', 'config.json'));
    const refused = async (id: string, path: string): Promise<number> => {
      try {
        await registry.fileForRequest(id, path);
        return 200;
      } catch (cause) {
        expect(cause).toBeInstanceOf(RequestError);
        return cause instanceof RequestError ? cause.status : 0;
      }
    };
    expect(await refused('tiny', '../tiny/config.json')).toBe(403);
    expect(await refused('tiny', 'onnx/../config.json')).toBe(403);
    expect(await refused('tiny', 'secret.txt')).toBe(404);
    expect(await refused('..', 'config.json')).toBe(404);
    expect(await refused('nope', 'config.json')).toBe(404);
  });

  it('refuses a model file that is a link leading outside the model folder', async () => {
    const root = await tempDir('models');
    const elsewhere = await tempDir('elsewhere');
    await writeModelFolder(join(root, 'tiny'));
    await writeFile(join(elsewhere, 'card.json'), JSON.stringify({ name: 'stolen' }));
    await symlink(join(elsewhere, 'card.json'), join(root, 'tiny', 'card.json'));
    const registry = new ModelRegistry([{ dir: root, source: 'user' }]);
    await expect(registry.fileForRequest('tiny', 'card.json')).rejects.toThrow('outside the model folder');
    expect((await registry.list()).problems[0]?.message).toContain('outside the model folder');
  });

  it('keeps the first of two models with the same id', async () => {
    const bundled = await tempDir('bundled');
    const user = await tempDir('user');
    await writeModelFolder(join(bundled, 'twin'));
    await writeModelFolder(join(user, 'twin'));
    await mkdir(join(user, '.hidden'));
    const list = await new ModelRegistry([
      { dir: bundled, source: 'bundled' },
      { dir: user, source: 'user' },
    ]).list();
    expect(list.models.map((m) => [m.id, m.source])).toEqual([['twin', 'bundled']]);
    expect(list.problems.map((p) => p.path)).toEqual([join(user, 'twin')]);
  });

  it('describes the bundled seed-world model and reads its files', async () => {
    const registry = new ModelRegistry([{ dir: bundledModels, source: 'bundled' }]);
    const info = await registry.resolve('seed-world');
    const onnx = await readFile(join(seedWorld, 'onnx', 'model.onnx'));
    const config: unknown = JSON.parse(await readFile(join(seedWorld, 'config.json'), 'utf8'));
    expect(info.sha256).toBe(sha256(onnx));
    const card = JSON.parse(await readFile(join(seedWorld, 'card.json'), 'utf8')) as { parameters?: number; onnx?: { sha256?: string } };
    if (card.onnx?.sha256) expect(info.sha256).toBe(card.onnx.sha256);
    expect(info.parameters).toBe(card.parameters ?? null);
    expect(info.bytes).toBe(onnx.length);
    expect(config).toMatchObject({ n_layer: info.layers, n_head: info.heads, vocab_size: info.vocab });
    const files = await readModelFiles(info);
    expect(files.id).toBe('seed-world');
    expect(Buffer.from(files.onnx).equals(onnx)).toBe(true);
  });

  it('reads a folder without tokenizer_config.json the same way in every host: an empty tokenizer config', async () => {
    const root = await tempDir('models');
    await writeModelFolder(join(root, 'bare'));
    await rm(join(root, 'bare', 'tokenizer_config.json'), { force: true });
    const info = await new ModelRegistry([{ dir: root, source: 'user' }]).resolve('bare');
    expect(info.files.tokenizerConfig).toBeNull();
    const files = await readModelFiles(info);
    expect(files.tokenizerConfig).toEqual({});
    // The page's worker reads through the same function, with fetch instead of fs.
    const fetched = await readModelFolder(
      { ...folderSources(info), config: 'config', tokenizer: 'tokenizer', onnx: 'onnx', onnxData: [] },
      { json: async (name) => (name === 'config' ? files.config : files.tokenizer), bytes: async () => files.onnx },
    );
    expect(fetched.tokenizerConfig).toEqual({});
    expect(fetched.onnxFile).toBe('onnx/model.onnx');
  });
});
