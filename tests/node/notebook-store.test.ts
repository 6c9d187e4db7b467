import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatNotebook, type NotebookDoc } from '../../src/common/notebook-format';
import { NotebookStore } from '../../src/node/notebook-store';
import { tempDir } from './helpers';
import { sunDoc } from './fixtures/sun-doc';

const doc: NotebookDoc = sunDoc('Sun test');

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

  it("saves a new notebook under the first free name in one request, also when windows save at once (no name probed and refused)", async () => {
    const store = new NotebookStore(await tempDir('workspace'));
    await store.save({ file: 'Untitled.ntl.json', doc: { ...doc, name: 'Untitled' } });
    const made = await Promise.all(Array.from({ length: 4 }, () => store.save({ file: 'Untitled.ntl.json', doc: { ...doc, name: 'Untitled' }, create: 'free-name' })));
    expect(made.map((e) => e.file).sort()).toEqual(['Untitled 2.ntl.json', 'Untitled 3.ntl.json', 'Untitled 4.ntl.json', 'Untitled 5.ntl.json']);
    expect((await store.list()).map((e) => e.file).sort()).toEqual(['Untitled 2.ntl.json', 'Untitled 3.ntl.json', 'Untitled 4.ntl.json', 'Untitled 5.ntl.json', 'Untitled.ntl.json']);
    // Each takes its file's name, so no two are listed alike (issue 19).
    expect(made.map((e) => e.name).sort()).toEqual(['Untitled 2', 'Untitled 3', 'Untitled 4', 'Untitled 5']);
    expect((await store.read('Untitled 3.ntl.json')).name).toBe('Untitled 3');
  });

  it('writes atomically: no temporary files are left behind', async () => {
    const dir = await tempDir('workspace');
    const store = new NotebookStore(dir);
    await Promise.all(Array.from({ length: 8 }, (_, i) => store.save({ file: 'busy.ntl.json', doc: { ...doc, name: `v${i}` } })));
    expect((await readdir(dir)).filter((f) => !f.startsWith('.'))).toEqual(['busy.ntl.json']);
    expect((await readdir(dir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    expect((await readdir(join(dir, '.backups'))).filter((f) => f.endsWith('.tmp'))).toEqual([]);
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
    // Damaged files are listed under their file names, with the reason.
    expect((await store.list()).map((e) => [e.name, e.damaged !== null]).sort()).toEqual([['broken', true], ['old', true]]);
    expect(await readFile(join(dir, 'broken.ntl.json'), 'utf8')).toContain('next-token-lab-notebook');
  });

  it('lists a damaged file with the reason, never overwrites it, and opens its backup', async () => {
    const dir = await tempDir('workspace');
    const store = new NotebookStore(dir);
    await store.save({ file: 'sun.ntl.json', doc });
    await store.save({ file: 'sun.ntl.json', doc: { ...doc, prompt: 'second' } });
    const damagedText = '{"format": "next-token-lab-notebook", "version": 2, "cells": [';
    await writeFile(join(dir, 'sun.ntl.json'), damagedText);
    await writeFile(join(dir, 'newer.ntl.json'), JSON.stringify({ ...doc, version: 9 }));
    const entries = await store.list();
    expect(entries.find((e) => e.file === 'sun.ntl.json')).toMatchObject({ damaged: expect.stringContaining('sun.ntl.json: damaged, not valid JSON'), hasBackup: true, model: null });
    expect(entries.find((e) => e.file === 'newer.ntl.json')?.damaged).toContain('format version 9 is from a newer Next Token Lab');
    await expect(store.read('sun.ntl.json')).rejects.toThrow('; its backup can be opened');
    await expect(store.save({ file: 'sun.ntl.json', doc })).rejects.toThrow('sun.ntl.json is damaged and is not overwritten');
    await expect(store.saveDraft({ file: 'newer.ntl.json', doc })).resolves.toBeUndefined();
    await expect(store.save({ file: 'newer.ntl.json', doc })).rejects.toMatchObject({ status: 409 });
    expect(await readFile(join(dir, 'sun.ntl.json'), 'utf8')).toBe(damagedText);
    // The backup is the version before the last save.
    expect((await store.read('sun.ntl.json', 'backup')).prompt).toBe(doc.prompt);
    await expect(store.read('newer.ntl.json', 'backup')).rejects.toThrow('newer.ntl.json: there is no backup of it');
  });

  it('writes the stable format, drops results that are too large, keeps the previous version', async () => {
    const dir = await tempDir('workspace');
    const store = new NotebookStore(dir);
    const withResults: NotebookDoc = { ...doc, results: { c1: { key: 'k', data: { ids: [1, 2] } }, c2: { key: 'k', data: 'x'.repeat(600 * 1024) } } };
    await store.save({ file: 'r.ntl.json', doc: withResults });
    const text = await readFile(join(dir, 'r.ntl.json'), 'utf8');
    expect(text).toBe(formatNotebook({ ...withResults, results: { c1: { key: 'k', data: { ids: [1, 2] } } } }));
    expect(Object.keys((await store.read('r.ntl.json')).results ?? {})).toEqual(['c1']);
    await store.save({ file: 'r.ntl.json', doc: { ...doc, name: 'v2' } });
    expect(await readFile(join(dir, '.backups', 'r.ntl.json'), 'utf8')).toBe(text);
  });

  it('lists name, model, cells and a preview from the first note, else the prompt', async () => {
    const dir = await tempDir('workspace');
    const store = new NotebookStore(dir);
    await store.save({ file: 'a.ntl.json', doc: { ...doc, cells: [{ id: 'n', kind: 'note', text: '\n## Does it know *east*?\nmore' }, ...doc.cells] } });
    await store.save({ file: 'b.ntl.json', doc: { ...doc, name: 'B', prompt: 'Money goes to the' } });
    const entries = await store.list();
    expect(entries.map((e) => [e.file, e.name, e.model, e.cells, e.preview, e.damaged])).toEqual([
      ['b.ntl.json', 'B', 'seed-world', 2, 'Money goes to the', null],
      ['a.ntl.json', 'Sun test', 'seed-world', 3, 'Does it know east?', null],
    ]);
    expect(await store.recent()).toEqual(['b.ntl.json', 'a.ntl.json']);
  });

  it('creates only new files when asked, renames, duplicates, and moves to the trash', async () => {
    const dir = await tempDir('workspace');
    const trashed: string[] = [];
    const store = new NotebookStore(dir);
    await store.save({ file: 'sun.ntl.json', doc, create: true });
    await expect(store.save({ file: 'sun.ntl.json', doc, create: true })).rejects.toThrow('sun.ntl.json already exists in the workspace');
    const renamed = await store.rename({ file: 'sun.ntl.json', name: 'Sunrise / east' });
    expect(renamed).toMatchObject({ file: 'Sunrise _ east.ntl.json', name: 'Sunrise / east' });
    await expect(store.read('sun.ntl.json')).rejects.toThrow('no such notebook');
    const copy = await store.duplicate('Sunrise _ east.ntl.json');
    expect(copy).toMatchObject({ file: 'Sunrise _ east copy.ntl.json', name: 'Sunrise / east copy' });
    expect((await store.duplicate('Sunrise _ east.ntl.json')).file).toBe('Sunrise _ east copy 2.ntl.json');
    await expect(store.rename({ file: 'Sunrise _ east.ntl.json', name: 'Sunrise _ east copy' })).rejects.toThrow('already exists');
    await expect(store.rename({ file: 'Sunrise _ east.ntl.json', name: '  ' })).rejects.toThrow('cannot rename: field "name": the name is empty');
    await store.remove('Sunrise _ east copy.ntl.json');
    expect((await readdir(join(dir, '.trash')))[0]).toMatch(/ Sunrise _ east copy\.ntl\.json$/);
    expect((await store.list()).map((e) => e.file).sort()).toEqual(['Sunrise _ east copy 2.ntl.json', 'Sunrise _ east.ntl.json']);
    const desktop = new NotebookStore(dir, { trash: async (path) => void trashed.push(path) });
    await desktop.remove('Sunrise _ east.ntl.json');
    expect(trashed).toEqual([join(dir, 'Sunrise _ east.ntl.json')]);
    await expect(store.remove('gone.ntl.json')).rejects.toThrow('gone.ntl.json: no such notebook');
  });

  it('keeps drafts of unsaved changes until the notebook is saved or the draft discarded', async () => {
    const dir = await tempDir('workspace');
    const store = new NotebookStore(dir);
    await store.save({ file: 'sun.ntl.json', doc });
    await store.saveDraft({ file: 'sun.ntl.json', doc: { ...doc, prompt: 'unsaved', savedAt: '2026-01-02T00:00:00.000Z' } });
    await store.saveDraft({ file: 'new.ntl.json', doc: { ...doc, name: 'New' } });
    expect(await store.drafts()).toEqual([
      { file: 'sun.ntl.json', name: 'Sun test', savedAt: '2026-01-02T00:00:00.000Z' },
      { file: 'new.ntl.json', name: 'New', savedAt: doc.savedAt },
    ]);
    expect((await store.read('sun.ntl.json', 'draft')).prompt).toBe('unsaved');
    expect((await store.read('sun.ntl.json')).prompt).toBe(doc.prompt);
    await store.save({ file: 'sun.ntl.json', doc });
    await store.discardDraft('new.ntl.json');
    expect(await store.drafts()).toEqual([]);
    expect((await store.list()).map((e) => e.file)).toEqual(['sun.ntl.json']);
  });

  it('refuses names that leave the workspace in every operation', async () => {
    const parent = await tempDir('workspace');
    const dir = join(parent, 'inner');
    const store = new NotebookStore(dir);
    await store.save({ file: 'ok.ntl.json', doc });
    for (const file of ['../escape.ntl.json', '..\\escape.ntl.json', '/etc/passwd.ntl.json', 'a/../../b.ntl.json', '.recent.json', '..ntl.json', 'x.ntl.json\u0000']) {
      await expect(store.read(file)).rejects.toMatchObject({ status: 400 });
      await expect(store.read(file, 'backup')).rejects.toMatchObject({ status: 400 });
      await expect(store.save({ file, doc })).rejects.toMatchObject({ status: 400 });
      await expect(store.saveDraft({ file, doc })).rejects.toMatchObject({ status: 400 });
      await expect(store.duplicate(file)).rejects.toMatchObject({ status: 400 });
      await expect(store.remove(file)).rejects.toMatchObject({ status: 400 });
      await expect(store.discardDraft(file)).rejects.toMatchObject({ status: 400 });
      await expect(store.rename({ file, name: 'x' })).rejects.toMatchObject({ status: 400 });
    }
    await expect(store.read('ok.ntl.json', '../..')).rejects.toThrow('cannot read: field "copy"');
    // A name with folders in it becomes a plain file name inside the workspace.
    expect((await store.rename({ file: 'ok.ntl.json', name: '../../etc/passwd' })).file).toBe('_.._etc_passwd.ntl.json');
    expect(await readdir(parent)).toEqual(['inner']);
  });
});
