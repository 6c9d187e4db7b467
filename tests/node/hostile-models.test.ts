import { readdir, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MAX_MODEL_JSON_BYTES } from '../../src/common/model-limits';
import { ModelImporter } from '../../src/node/model-import';
import { ModelRegistry } from '../../src/node/model-registry';
import { tempDir, writeModelFolder } from './helpers';

/** A row of docs/hostile-inputs.md: a tokenizer.json too large to be one. */
describe('a huge tokenizer.json', () => {
  it('is refused unread with its size, in the list and on import; the other models stay usable', async () => {
    const root = await tempDir('models');
    const source = await tempDir('import-source');
    await writeModelFolder(join(root, 'fine'));
    await writeModelFolder(join(root, 'huge'));
    // A sparse file: only its size counts, as no byte of it is read.
    await truncate(join(root, 'huge', 'tokenizer.json'), 100 * 1024 * 1024);
    await writeModelFolder(join(source, 'huge'));
    await truncate(join(source, 'huge', 'tokenizer.json'), MAX_MODEL_JSON_BYTES + 1);
    const registry = new ModelRegistry([{ dir: root, source: 'user' }]);
    const started = performance.now();
    const list = await registry.list();
    expect(list.models.map((m) => m.id)).toEqual(['fine']);
    expect(list.problems.map((p) => p.message)).toEqual([
      expect.stringMatching(/huge\/tokenizer\.json: 100\.0 MiB is more than a model's JSON file can be \(at most 64\.0 MiB\); it was not read$/),
    ]);
    const importer = new ModelImporter(root, registry);
    await expect(importer.importFolder(join(source, 'huge'))).rejects.toThrow(/huge\/tokenizer\.json: 64\.0 MiB is more than a model's JSON file can be/);
    expect(performance.now() - started).toBeLessThan(3_000);
    expect((await readdir(root)).sort()).toEqual(['fine', 'huge']);
    expect((await registry.resolve('fine')).id).toBe('fine');
  });
});
