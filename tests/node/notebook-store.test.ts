import { mkdir, readFile, readdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { serializeNotebook, type NotebookDoc } from '../../src/common/notebook-format';
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
    expect((await readdir(dir)).sort()).toEqual(['busy.ntl.json', 'busy.ntl.json.bak']);
    expect((await store.read('busy.ntl.json')).name).toMatch(/^v[0-7]$/);
  });

  it('refuses file names with folders, dots or other suffixes', async () => {
    const store = new NotebookStore(await tempDir('workspace'));
    for (const file of ['../escape.ntl.json', 'sub/dir.ntl.json', '.hidden.ntl.json', 'notes.json', '', 'a\\b.ntl.json', 'a..b.ntl.json']) {
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
    await expect(store.read('old.ntl.json')).rejects.toThrow('old.ntl.json: written by a newer Next Token Lab (notebook version 7); this app reads versions up to 2');
    await expect(store.read('missing.ntl.json')).rejects.toThrow(`missing.ntl.json: no such notebook in ${dir}`);
    const list = await store.list();
    expect(list.map((e) => e.name).sort()).toEqual(['broken', 'old']);
    expect(list.find((e) => e.file === 'broken.ntl.json')?.damaged).toMatch(/^damaged, not valid JSON \(/);
    expect(list.find((e) => e.file === 'old.ntl.json')?.damaged).toBe('written by a newer Next Token Lab (notebook version 7); this app reads versions up to 2');
    expect(await readFile(join(dir, 'broken.ntl.json'), 'utf8')).toContain('next-token-lab-notebook');
  });
});

describe('NotebookStore: nothing is lost', () => {
  it('lists name, model, prompt preview, time and damage; one bad file never fails the list', async () => {
    const dir = await tempDir('workspace');
    const store = new NotebookStore(dir);
    await store.save({ file: 'good.ntl.json', doc: { ...doc, prompt: 'p'.repeat(500) } });
    await writeFile(join(dir, 'bad.ntl.json'), JSON.stringify({ ...doc, cells: 'no' }));
    await writeFile(join(dir, 'notes.txt'), 'not a notebook');
    await mkdir(join(dir, 'folder.ntl.json'));
    const list = await store.list();
    expect(list.map((e) => e.file).sort()).toEqual(['bad.ntl.json', 'good.ntl.json']);
    expect(list.find((e) => e.file === 'good.ntl.json')).toMatchObject({ name: 'Sun test', modelId: 'seed-world', promptPreview: 'p'.repeat(80), damaged: null });
    expect(list.find((e) => e.file === 'bad.ntl.json')).toMatchObject({ name: 'bad', modelId: null, promptPreview: '', damaged: 'field "cells": Invalid input: expected array, received string' });
    expect(list.every((e) => e.modifiedMs > 0)).toBe(true);
  });

  it('keeps the replaced version as <name>.ntl.json.bak and reads it back', async () => {
    const dir = await tempDir('workspace');
    const store = new NotebookStore(dir);
    await expect(store.readBackup('a.ntl.json')).rejects.toThrow('a.ntl.json: no backup yet');
    await store.save({ file: 'a.ntl.json', doc });
    await expect(store.readBackup('a.ntl.json')).rejects.toThrow('a.ntl.json: no backup yet');
    await store.save({ file: 'a.ntl.json', doc: { ...doc, prompt: 'second' } });
    await store.save({ file: 'a.ntl.json', doc: { ...doc, prompt: 'third' } });
    expect((await store.read('a.ntl.json')).prompt).toBe('third');
    expect((await store.readBackup('a.ntl.json')).prompt).toBe('second');
    expect(await readFile(join(dir, 'a.ntl.json.bak'), 'utf8')).toBe(serializeNotebook({ ...doc, prompt: 'second' }));
    expect((await store.list()).map((e) => e.file)).toEqual(['a.ntl.json']);
  });

  it('writes the canonical serialization and bounds results', async () => {
    const dir = await tempDir('workspace');
    const store = new NotebookStore(dir);
    await store.save({ file: 'r.ntl.json', doc: { ...doc, results: { c1: 'x'.repeat(3 * 1024 * 1024), c2: { top: [] } } } });
    const saved = await store.read('r.ntl.json');
    expect(saved.results).toEqual({ c2: { top: [] } });
    expect(saved.resultsDropped).toEqual(['c1']);
    expect(await readFile(join(dir, 'r.ntl.json'), 'utf8')).toBe(serializeNotebook(saved));
  });

  it('refuses to save over a damaged file unless asked; then the damaged bytes go to the trash', async () => {
    const dir = await tempDir('workspace');
    const store = new NotebookStore(dir);
    await store.save({ file: 'd.ntl.json', doc });
    await store.save({ file: 'd.ntl.json', doc: { ...doc, prompt: 'older' } });
    await writeFile(join(dir, 'd.ntl.json'), '{ half a file');
    await expect(store.save({ file: 'd.ntl.json', doc })).rejects.toThrow(/^d\.ntl\.json: not saved: the file there is damaged \(damaged, not valid JSON/);
    await expect(store.save({ file: 'd.ntl.json', doc, overwriteDamaged: false })).rejects.toMatchObject({ status: 409 });
    expect(await readFile(join(dir, 'd.ntl.json'), 'utf8')).toBe('{ half a file');
    await store.save({ file: 'd.ntl.json', doc: { ...doc, prompt: 'new' }, overwriteDamaged: true });
    expect((await store.read('d.ntl.json')).prompt).toBe('new');
    // The backup is still the last good version; the damaged bytes are in the trash.
    expect((await store.readBackup('d.ntl.json')).prompt).toBe('The sun rises in the');
    const trash = await readdir(join(dir, '.trash'));
    expect(trash).toHaveLength(1);
    expect(await readFile(join(dir, '.trash', trash[0] ?? ''), 'utf8')).toBe('{ half a file');
  });

  it('renames with the backup; never over an existing file', async () => {
    const dir = await tempDir('workspace');
    const store = new NotebookStore(dir);
    await store.save({ file: 'a.ntl.json', doc });
    await store.save({ file: 'a.ntl.json', doc: { ...doc, prompt: 'v2' } });
    await store.save({ file: 'b.ntl.json', doc: { ...doc, name: 'B' } });
    await expect(store.rename({ from: 'a.ntl.json', to: 'b.ntl.json' })).rejects.toThrow('b.ntl.json already exists');
    await expect(store.rename({ from: 'none.ntl.json', to: 'c.ntl.json' })).rejects.toThrow('none.ntl.json: no such notebook');
    await expect(store.rename({ from: 'a.ntl.json', to: '../c.ntl.json' })).rejects.toThrow('cannot rename: field "to"');
    expect(await store.rename({ from: 'a.ntl.json', to: 'c.ntl.json' })).toMatchObject({ file: 'c.ntl.json', name: 'Sun test' });
    expect((await readdir(dir)).sort()).toEqual(['b.ntl.json', 'c.ntl.json', 'c.ntl.json.bak']);
    expect((await store.read('c.ntl.json')).prompt).toBe('v2');
    expect((await store.readBackup('c.ntl.json')).prompt).toBe(doc.prompt);
  });

  it('duplicates byte for byte; never over an existing file', async () => {
    const dir = await tempDir('workspace');
    const store = new NotebookStore(dir);
    await store.save({ file: 'a.ntl.json', doc });
    await store.save({ file: 'b.ntl.json', doc });
    await expect(store.duplicate({ file: 'a.ntl.json', newName: 'b.ntl.json' })).rejects.toThrow('b.ntl.json already exists');
    expect(await store.duplicate({ file: 'a.ntl.json', newName: 'copy.ntl.json' })).toMatchObject({ file: 'copy.ntl.json', damaged: null });
    expect(await readFile(join(dir, 'copy.ntl.json'))).toEqual(await readFile(join(dir, 'a.ntl.json')));
    expect((await readdir(dir)).sort()).toEqual(['a.ntl.json', 'b.ntl.json', 'copy.ntl.json']);
  });

  it('removes by moving to .trash with a time stamp, backup included', async () => {
    const dir = await tempDir('workspace');
    const store = new NotebookStore(dir);
    await store.save({ file: 'a.ntl.json', doc });
    await store.save({ file: 'a.ntl.json', doc });
    const first = await store.remove('a.ntl.json');
    expect(first.trashed).toMatch(/^\.trash\/\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d-\d{3}Z a\.ntl\.json$/);
    await store.save({ file: 'a.ntl.json', doc: { ...doc, prompt: 'again' } });
    const second = await store.remove('a.ntl.json');
    expect(second.trashed).not.toBe(first.trashed);
    expect(await readdir(dir)).toEqual(['.trash']);
    expect((await readdir(join(dir, '.trash'))).length).toBe(3);
    expect(JSON.parse(await readFile(join(dir, second.trashed), 'utf8'))).toMatchObject({ prompt: 'again' });
    expect(await store.list()).toEqual([]);
    await expect(store.remove('a.ntl.json')).rejects.toThrow('a.ntl.json: no such notebook');
    await expect(store.remove('../a.ntl.json')).rejects.toThrow('bad notebook file name');
  });

  it('never writes through links out of the workspace', async () => {
    const outside = await tempDir('outside');
    const dir = await tempDir('workspace');
    await writeFile(join(outside, 'secret.ntl.json'), serializeNotebook(doc));
    await symlink(join(outside, 'secret.ntl.json'), join(dir, 'link.ntl.json'));
    await symlink(outside, join(dir, '.trash'));
    const store = new NotebookStore(dir);
    expect((await store.list()).map((e) => [e.file, e.damaged])).toEqual([['link.ntl.json', 'a link, not a plain file']]);
    await expect(store.read('link.ntl.json')).rejects.toThrow('link.ntl.json: a link, not a plain file');
    await expect(store.save({ file: 'link.ntl.json', doc })).rejects.toMatchObject({ status: 409 });
    await expect(store.remove('link.ntl.json')).rejects.toThrow('not a plain file');
    await store.save({ file: 'real.ntl.json', doc });
    await expect(store.remove('real.ntl.json')).rejects.toThrow('.trash in the workspace leads outside it');
    expect(await readdir(outside)).toEqual(['secret.ntl.json']);
    // A workspace that is itself a link is used through its real path.
    const linked = join(await tempDir('alias'), 'ws');
    await symlink(dir, linked);
    expect((await new NotebookStore(linked).read('real.ntl.json')).name).toBe('Sun test');
  });
});
