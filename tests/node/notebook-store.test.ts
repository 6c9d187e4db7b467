import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { NotebookDoc } from '../../src/common/notebook-format';
import { NotebookStore } from '../../src/main/services/notebook-store';
import { tempDir } from './helpers';

const doc: NotebookDoc = {
  format: 'next-token-lab-notebook',
  version: 2,
  name: 'Sun test',
  prompt: 'The sun rises in the',
  model: { id: 'seed-world', sha256: null },
  backend: null,
  cells: [
    { id: 'c1', kind: 'tokenize', params: {} },
    { id: 'c2', kind: 'predict', params: { topK: 5, temperature: 0.7 } },
  ],
  appVersion: '0.1.0',
  savedAt: '2025-01-01T00:00:00.000Z',
};

describe('NotebookStore', () => {
  it('saves and reads a notebook back unchanged, and lists it', async () => {
    const dir = await tempDir('workspace');
    const store = new NotebookStore(join(dir, 'notebooks'));
    expect(await store.list()).toEqual([]);
    const entry = await store.save({ file: 'sun test.ntl.json', doc });
    expect(entry).toMatchObject({ file: 'sun test.ntl.json', name: 'Sun test' });
    expect(await store.read('sun test.ntl.json')).toEqual(doc);
    expect((await store.list()).map((e) => [e.file, e.name])).toEqual([['sun test.ntl.json', 'Sun test']]);
    const second = { ...doc, prompt: 'Money goes to the' };
    await store.save({ file: 'sun test.ntl.json', doc: second });
    expect((await store.read('sun test.ntl.json')).prompt).toBe('Money goes to the');
  });

  it('writes atomically: no temporary files are left behind', async () => {
    const dir = await tempDir('workspace');
    const store = new NotebookStore(dir);
    await Promise.all(Array.from({ length: 8 }, (_, i) => store.save({ file: 'busy.ntl.json', doc: { ...doc, name: `v${i}` } })));
    expect(await readdir(dir)).toEqual(['busy.ntl.json']);
    expect((await store.read('busy.ntl.json')).name).toMatch(/^v[0-7]$/);
  });

  it('refuses file names with folders, dots or other suffixes', async () => {
    const store = new NotebookStore(await tempDir('workspace'));
    for (const file of ['../escape.ntl.json', 'sub/dir.ntl.json', '.hidden.ntl.json', 'notes.json', '', 'a\\b.ntl.json']) {
      await expect(store.read(file)).rejects.toThrow('bad notebook file name');
      await expect(store.save({ file, doc })).rejects.toThrow('cannot save: field "file"');
    }
  });

  it('refuses to save an invalid document', async () => {
    const store = new NotebookStore(await tempDir('workspace'));
    await expect(store.save({ file: 'x.ntl.json', doc: { ...doc, version: 99 } })).rejects.toThrow('cannot save: field "doc.version"');
    await expect(store.save({ file: 'x.ntl.json', doc: { ...doc, cells: [{ id: 'p', kind: 'predict', params: { topK: 0 } }] } })).rejects.toThrow(
      'x.ntl.json: cell "p" (predict) parameter "topK": k must be at least 1',
    );
  });

  it('names the file and the cause when a notebook is damaged', async () => {
    const dir = await tempDir('workspace');
    const store = new NotebookStore(dir);
    await writeFile(join(dir, 'broken.ntl.json'), '{"format": "next-token-lab-notebook", ');
    await writeFile(join(dir, 'old.ntl.json'), JSON.stringify({ ...doc, version: 7 }));
    await expect(store.read('broken.ntl.json')).rejects.toThrow(/^broken\.ntl\.json: damaged, not valid JSON \(/);
    await expect(store.read('old.ntl.json')).rejects.toThrow('old.ntl.json: field "version"');
    await expect(store.read('missing.ntl.json')).rejects.toThrow(`missing.ntl.json: no such notebook in ${dir}`);
    expect((await store.list()).map((e) => e.name).sort()).toEqual(['Sun test', 'broken']);
    expect(await readFile(join(dir, 'broken.ntl.json'), 'utf8')).toContain('next-token-lab-notebook');
  });
});
