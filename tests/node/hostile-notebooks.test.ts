import { chmod, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MAX_NOTEBOOK_BYTES, formatNotebook, type NotebookDoc } from '../../src/common/notebook-format';
import { NODE_IO, type SaveIo } from '../../src/node/atomic-write';
import { ModelRegistry } from '../../src/node/model-registry';
import { NotebookStore } from '../../src/node/notebook-store';
import { bundledModels, ntl, tempDir } from './helpers';
import { sunDoc } from './fixtures/sun-doc';

/** One row each of docs/hostile-inputs.md: the notebook files and the workspace. */

const doc: NotebookDoc = sunDoc('Sun');

/** The files of a folder, hidden ones included, recursively, with their bytes. */
async function snapshot(dir: string): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) {
      const path = join(entry.parentPath, entry.name);
      files.set(path.slice(dir.length + 1), await readFile(path, 'latin1'));
    }
  }
  return files;
}

/** After a failure: the store still lists, saves another notebook and reads it back. */
async function stillWorks(store: NotebookStore): Promise<void> {
  await store.list();
  await store.save({ file: 'after.ntl.json', doc: { ...doc, name: 'after' } });
  expect((await store.read('after.ntl.json')).name).toBe('after');
}

function fsError(code: string, syscall: string): Error {
  return Object.assign(new Error(`${code}: simulated, ${syscall}`), { code, syscall });
}

describe('hostile notebook files', () => {
  it('malformed JSON: named with the parse error, listed as damaged, never overwritten', async () => {
    const dir = await tempDir('hostile');
    const store = new NotebookStore(dir);
    const text = '{"format": "next-token-lab-notebook", "version": 2, "cells": [}';
    await writeFile(join(dir, 'bad.ntl.json'), text);
    await expect(store.read('bad.ntl.json')).rejects.toThrow(/^bad\.ntl\.json: damaged, not valid JSON \(.*JSON.*\)/);
    expect((await store.list()).find((e) => e.file === 'bad.ntl.json')?.damaged).toMatch(/^bad\.ntl\.json: damaged, not valid JSON/);
    await expect(store.save({ file: 'bad.ntl.json', doc })).rejects.toThrow('bad.ntl.json is damaged and is not overwritten');
    expect(await readFile(join(dir, 'bad.ntl.json'), 'utf8')).toBe(text);
    await stillWorks(store);
  });

  it('a future version: named with the version this app reads, never overwritten', async () => {
    const dir = await tempDir('hostile');
    const store = new NotebookStore(dir);
    const text = JSON.stringify({ ...doc, version: 4, newField: 'from the future' });
    await writeFile(join(dir, 'future.ntl.json'), text);
    await expect(store.read('future.ntl.json')).rejects.toThrow(
      'future.ntl.json: field "version": format version 4 is from a newer Next Token Lab; this one reads versions 1 to 3',
    );
    await expect(store.save({ file: 'future.ntl.json', doc })).rejects.toMatchObject({ status: 409 });
    expect(await readFile(join(dir, 'future.ntl.json'), 'utf8')).toBe(text);
    await stillWorks(store);
  });

  it('__proto__ and constructor keys: no prototype is touched, the notebook opens and saves', async () => {
    const dir = await tempDir('hostile');
    const store = new NotebookStore(dir);
    // Written as text: JSON.parse makes "__proto__" an own key, as it would be in a file someone sent.
    const text = JSON.stringify({ ...doc, cells: [{ id: 'u1', kind: 'future-cell', keep: 1 }, ...doc.cells] })
      .replace('"name":', '"__proto__": {"polluted": "top"}, "constructor": {"prototype": {"polluted": "ctor"}}, "name":')
      .replace('"keep":1', '"keep":1, "__proto__": {"polluted": "cell"}, "constructor": "x"')
      .replace('"topK":5', '"__proto__": {"polluted": "params"}, "topK":5');
    await writeFile(join(dir, 'proto.ntl.json'), text);
    const read = await store.read('proto.ntl.json');
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    expect(Object.getPrototypeOf(read)).toBe(Object.prototype);
    for (const cell of read.cells) expect(Object.getPrototypeOf(cell)).toBe(Object.prototype);
    expect(Object.hasOwn(read, '__proto__')).toBe(false);
    expect(read.cells[2]).toEqual({ id: 'c2', kind: 'predict', params: { topK: 5, temperature: 0.7 } });
    // The unknown cell is kept as read, its odd keys as plain data.
    expect(Object.hasOwn(read.cells[0] ?? {}, '__proto__')).toBe(true);
    await store.save({ file: 'proto.ntl.json', doc: read });
    const again = await store.read('proto.ntl.json');
    expect(again).toEqual(read);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    await stillWorks(store);
  });

  it('a 50 MB cached result: refused unread, with the file and its size; a smaller oversize is bounded', async () => {
    const dir = await tempDir('hostile');
    const store = new NotebookStore(dir);
    const huge = formatNotebook({ ...doc, results: { c1: { key: 'k', data: 'x'.repeat(50 * 1024 * 1024) } } });
    await writeFile(join(dir, 'huge.ntl.json'), huge);
    const started = performance.now();
    await expect(store.read('huge.ntl.json')).rejects.toMatchObject({
      status: 413,
      message: `huge.ntl.json: refused: 50.0 MiB is more than a notebook can be (at most 16.0 MiB); it was not opened`,
    });
    expect((await store.list()).find((e) => e.file === 'huge.ntl.json')?.damaged).toContain('huge.ntl.json: refused: 50.0 MiB');
    expect(performance.now() - started).toBeLessThan(2_000);
    await expect(store.save({ file: 'huge.ntl.json', doc })).rejects.toThrow('huge.ntl.json is damaged and is not overwritten');
    expect((await readFile(join(dir, 'huge.ntl.json'))).byteLength).toBe(Buffer.byteLength(huge));
    // Under the bound but with more cached results than the app keeps: opened, the results bounded.
    await writeFile(join(dir, 'big.ntl.json'), formatNotebook({ ...doc, results: { c1: { key: 'k', data: 'x'.repeat(4 * 1024 * 1024) }, c2: { key: 'k', data: [1, 2] } } }));
    expect((await store.read('big.ntl.json')).results).toEqual({ c2: { key: 'k', data: [1, 2] } });
    // The command line refuses it too, before parsing.
    const run = await ntl('run', join(dir, 'huge.ntl.json'));
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain('huge.ntl.json: refused: 50.0 MiB is more than a notebook can be');
    expect(MAX_NOTEBOOK_BYTES).toBe(16 * 1024 * 1024);
    await stillWorks(store);
  });

  it('a notebook whose model is missing opens; the model is named as unknown where it is looked up', async () => {
    const dir = await tempDir('hostile');
    const store = new NotebookStore(dir);
    const orphan = { ...doc, model: { id: 'no-such-model', sha256: 'ab'.repeat(32) } };
    await store.save({ file: 'orphan.ntl.json', doc: orphan });
    expect((await store.read('orphan.ntl.json')).model.id).toBe('no-such-model');
    const registry = new ModelRegistry([{ dir: bundledModels, source: 'bundled' }]);
    await expect(registry.resolve('no-such-model')).rejects.toThrow(/^unknown model "no-such-model": no folder of that name in /);
    expect((await registry.list()).models.map((m) => m.id)).toContain('seed-world');
    const run = await ntl('run', join(dir, 'orphan.ntl.json'));
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(/unknown model "no-such-model"/);
    await stillWorks(store);
  });
});

describe('hostile paths', () => {
  it('a notebook that is a link leading outside the workspace is refused; the target is never read or written', async () => {
    const dir = await tempDir('hostile');
    const outside = await tempDir('outside');
    const secret = join(outside, 'secret.ntl.json');
    const secretText = formatNotebook({ ...doc, name: 'secret' });
    await writeFile(secret, secretText);
    await symlink(secret, join(dir, 'link.ntl.json'));
    const store = new NotebookStore(dir);
    await expect(store.read('link.ntl.json')).rejects.toMatchObject({ status: 403, message: `link.ntl.json: refused: it is a link to ${secret}, outside the workspace ${dir}` });
    const entry = (await store.list()).find((e) => e.file === 'link.ntl.json');
    expect(entry).toMatchObject({ model: null, preview: '', damaged: expect.stringContaining('outside the workspace') });
    await expect(store.save({ file: 'link.ntl.json', doc })).rejects.toMatchObject({ status: 409 });
    expect(await readFile(secret, 'utf8')).toBe(secretText);
    expect(await readdir(join(dir, '.backups')).catch(() => [])).toEqual([]);
    // A link to a notebook inside the workspace is fine.
    await store.save({ file: 'real.ntl.json', doc });
    await symlink(join(dir, 'real.ntl.json'), join(dir, 'alias.ntl.json'));
    expect((await store.read('alias.ntl.json')).name).toBe('Sun');
    await stillWorks(store);
  });

  it('names with .. or folders are refused in every operation, naming the file', async () => {
    const dir = await tempDir('hostile');
    const store = new NotebookStore(join(dir, 'ws'));
    await writeFile(join(dir, 'victim.ntl.json'), 'keep');
    for (const file of ['../victim.ntl.json', '..', 'a/../../victim.ntl.json', '/etc/passwd']) {
      await expect(store.read(file)).rejects.toMatchObject({ status: 400, message: expect.stringContaining(`bad notebook file name ${JSON.stringify(file)}`) });
      await expect(store.save({ file, doc })).rejects.toMatchObject({ status: 400 });
      await expect(store.remove(file)).rejects.toMatchObject({ status: 400 });
    }
    expect(await readFile(join(dir, 'victim.ntl.json'), 'utf8')).toBe('keep');
    await stillWorks(store);
  });
});

describe('a workspace that cannot be written', () => {
  it('read-only (simulated EACCES/EROFS): the message names the file, the folder and the cause; nothing changes', async () => {
    const dir = await tempDir('hostile');
    let isReadOnly = false;
    const io: SaveIo = {
      ...NODE_IO,
      open: (path, flags, mode) => (isReadOnly ? Promise.reject(fsError('EACCES', `open '${path}'`)) : NODE_IO.open(path, flags, mode)),
      mkdir: (path) => (isReadOnly ? Promise.reject(fsError('EROFS', `mkdir '${path}'`)) : NODE_IO.mkdir(path)),
    };
    const store = new NotebookStore(dir, { io });
    await store.save({ file: 'sun.ntl.json', doc });
    await store.save({ file: 'sun.ntl.json', doc: { ...doc, name: 'v2' } });
    const before = await snapshot(dir);
    isReadOnly = true;
    await expect(store.save({ file: 'sun.ntl.json', doc: { ...doc, name: 'v3' } })).rejects.toThrow(
      /^sun\.ntl\.json: could not be saved: the folder .* could not be created: the file system is read-only \(EROFS/,
    );
    const drafts = new NotebookStore(join(dir, 'missing-folder'), { io });
    await expect(drafts.saveDraft({ file: 'sun.ntl.json', doc })).rejects.toThrow(/the file system is read-only/);
    // With the folders there, the write itself is refused.
    const existing = new NotebookStore(dir, { io: { ...io, mkdir: NODE_IO.mkdir } });
    await expect(existing.save({ file: 'sun.ntl.json', doc: { ...doc, name: 'v3' } })).rejects.toThrow(
      `sun.ntl.json: could not be saved in ${dir}: the folder is not writable (permission denied) (EACCES: simulated`,
    );
    await expect(existing.save({ file: 'sun.ntl.json', doc: { ...doc, name: 'v3' } })).rejects.toThrow('; the file on disk is unchanged');
    expect(await snapshot(dir)).toEqual(before);
    expect((await existing.read('sun.ntl.json')).name).toBe('v2');
    isReadOnly = false;
    await stillWorks(store);
  });

  it.skipIf(process.getuid?.() === 0)('read-only for real (chmod 555; skipped as root, who may write anyway)', async () => {
    const dir = await tempDir('hostile');
    const store = new NotebookStore(dir);
    await store.save({ file: 'sun.ntl.json', doc });
    const before = await snapshot(dir);
    await chmod(dir, 0o555);
    try {
      await expect(store.save({ file: 'sun.ntl.json', doc: { ...doc, name: 'v2' } })).rejects.toThrow(/^sun\.ntl\.json: could not be saved in .*: the folder is not writable \(permission denied\)/);
      expect(await snapshot(dir)).toEqual(before);
    } finally {
      await chmod(dir, 0o755);
    }
    await stillWorks(store);
  });

  it('a full disk during save (simulated ENOSPC): old file and backup byte for byte, no temporary file left', async () => {
    const dir = await tempDir('hostile');
    let failAt: 'write' | 'backup' | null = null;
    const enospc = (syscall: string): Error => fsError('ENOSPC', syscall);
    const io: SaveIo = {
      ...NODE_IO,
      // Half the text reaches the disk, then there is no more room.
      writeText: async (handle, text) => {
        if (failAt !== 'write') return NODE_IO.writeText(handle, text);
        await handle.writeFile(text.slice(0, text.length >> 1), 'utf8');
        throw enospc('write');
      },
      copyFile: async (from, to) => {
        if (failAt !== 'backup') return NODE_IO.copyFile(from, to);
        await writeFile(to, 'partial');
        throw enospc(`copyfile '${from}'`);
      },
    };
    const store = new NotebookStore(dir, { io });
    await store.save({ file: 'sun.ntl.json', doc: { ...doc, name: 'v1' } });
    await store.save({ file: 'sun.ntl.json', doc: { ...doc, name: 'v2' } });
    await store.saveDraft({ file: 'sun.ntl.json', doc: { ...doc, name: 'draft' } });
    const before = await snapshot(dir);
    expect([...before.keys()].sort()).toEqual(['.autosave/sun.ntl.json', '.backups/sun.ntl.json', '.recent.json', 'sun.ntl.json']);

    failAt = 'write';
    await expect(store.save({ file: 'sun.ntl.json', doc: { ...doc, name: 'v3' } })).rejects.toThrow(
      `sun.ntl.json: could not be saved in ${dir}: the disk is full (ENOSPC: simulated, write); the file on disk is unchanged`,
    );
    await expect(store.saveDraft({ file: 'sun.ntl.json', doc: { ...doc, name: 'draft 2' } })).rejects.toThrow('the disk is full');
    expect(await snapshot(dir)).toEqual(before);

    failAt = 'backup';
    await expect(store.save({ file: 'sun.ntl.json', doc: { ...doc, name: 'v3' } })).rejects.toThrow(
      `sun.ntl.json: could not be saved in ${dir}: its backup could not be kept in ${join(dir, '.backups')}: the disk is full (ENOSPC: simulated, copyfile`,
    );
    expect(await snapshot(dir)).toEqual(before);
    expect((await store.read('sun.ntl.json')).name).toBe('v2');
    expect((await store.read('sun.ntl.json', 'backup')).name).toBe('v1');
    expect((await store.read('sun.ntl.json', 'draft')).name).toBe('draft');

    failAt = null;
    await store.save({ file: 'sun.ntl.json', doc: { ...doc, name: 'v3' } });
    expect((await store.read('sun.ntl.json', 'backup')).name).toBe('v2');
    await stillWorks(store);
  });

  it('a workspace folder that is missing is created on the first save', async () => {
    const dir = await tempDir('hostile');
    const store = new NotebookStore(join(dir, 'a', 'b'));
    await store.save({ file: 'sun.ntl.json', doc });
    expect(await readdir(join(dir, 'a', 'b'))).toContain('sun.ntl.json');
  });
});
