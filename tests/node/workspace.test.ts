import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Workspace } from '../../src/node/workspace';
import { sunDoc } from './fixtures/sun-doc';
import { tempDir } from './helpers';

const doc = sunDoc;

describe('the workspace folder', () => {
  it('starts on the default folder, opens another one, and remembers it for the next run', async () => {
    const root = await tempDir('workspace');
    const settings = join(root, 'user', 'settings.json');
    const other = join(root, 'shared notebooks');
    await mkdir(other);
    const first = new Workspace(join(root, 'user', 'notebooks'), settings, { canChoose: true });
    expect(await first.restore()).toEqual({ problem: null });
    expect(first.info()).toEqual({ dir: join(root, 'user', 'notebooks'), isDefault: true, canChoose: true });
    await first.store.save({ file: 'Home.ntl.json', doc: doc('Home') });

    expect(await first.use(other)).toEqual({ dir: other, isDefault: false, canChoose: true });
    expect(await first.store.list()).toEqual([]);
    await first.store.save({ file: 'Away.ntl.json', doc: doc('Away') });
    expect(JSON.parse(await readFile(settings, 'utf8'))).toEqual({ workspace: other });

    const second = new Workspace(join(root, 'user', 'notebooks'), settings, { canChoose: true });
    await second.restore();
    expect(second.info().dir).toBe(other);
    expect((await second.store.list()).map((e) => e.name)).toEqual(['Away']);
    await second.useDefault();
    expect((await second.store.list()).map((e) => e.name)).toEqual(['Home']);
    expect(JSON.parse(await readFile(settings, 'utf8'))).toEqual({});
  });

  it('refuses a relative path, a file and a missing folder, naming it, and keeps the open workspace', async () => {
    const root = await tempDir('workspace-bad');
    const file = join(root, 'a-file.txt');
    await writeFile(file, 'not a folder');
    const workspace = new Workspace(join(root, 'notebooks'), join(root, 'settings.json'), { canChoose: true });
    await expect(workspace.use('relative/notebooks')).rejects.toThrow('relative/notebooks: expected an absolute path to a folder');
    await expect(workspace.use(file)).rejects.toThrow(`${file}: is a file, expected a folder`);
    await expect(workspace.use(join(root, 'gone'))).rejects.toThrow(`${join(root, 'gone')}: cannot be opened as a workspace`);
    expect(workspace.info().dir).toBe(join(root, 'notebooks'));
  });

  it('falls back to the default folder when the remembered one is gone or the settings are damaged, and says why', async () => {
    const root = await tempDir('workspace-gone');
    const settings = join(root, 'settings.json');
    await writeFile(settings, JSON.stringify({ workspace: join(root, 'removed') }));
    const workspace = new Workspace(join(root, 'notebooks'), settings, { canChoose: true });
    expect((await workspace.restore()).problem).toContain(`${join(root, 'removed')}: cannot be opened as a workspace`);
    expect(workspace.info().isDefault).toBe(true);
    await writeFile(settings, '{"workspace": 12');
    expect((await workspace.restore()).problem).toContain(`${settings}: ignored`);
    expect(workspace.info().isDefault).toBe(true);
  });
});
