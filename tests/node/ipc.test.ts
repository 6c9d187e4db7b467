import { describe, expect, it } from 'vitest';
import { IPC } from '../../src/common/api';
import { handleIpc, type IpcServices } from '../../src/main/ipc';
import { ModelImporter } from '../../src/main/services/model-import';
import { ModelRegistry } from '../../src/main/services/model-registry';
import { NotebookStore } from '../../src/main/services/notebook-store';
import { tempDir } from './helpers';

const doc = {
  format: 'next-token-lab-notebook',
  version: 2,
  name: 'Over IPC',
  prompt: 'The sun',
  model: { id: 'seed-world', sha256: null },
  backend: null,
  cells: [{ id: 'n', kind: 'note', params: { markdown: 'hello' } }],
  appVersion: '0.1.0',
  savedAt: '2025-01-01T00:00:00.000Z',
};

describe('IPC handlers of the notebook store', () => {
  it('save, read the backup, rename, duplicate and remove; payloads checked by their schemas', async () => {
    const registry = new ModelRegistry([]);
    const services: IpcServices = { registry, importer: new ModelImporter(await tempDir('ipc-models'), registry), store: new NotebookStore(await tempDir('ipc')) };
    // Only the frame's URL and parent are read; a real WebFrameMain needs Electron.
    const event = { senderFrame: { url: 'app://ntl/index.html', parent: null } } as unknown as Parameters<typeof handleIpc>[3];
    const call = (channel: (typeof IPC)[keyof typeof IPC], payload: unknown): Promise<unknown> => handleIpc(services, () => true, channel, event, payload);
    await call(IPC.notebooksSave, { file: 'a.ntl.json', doc });
    await call(IPC.notebooksSave, { file: 'a.ntl.json', doc: { ...doc, prompt: 'second' } });
    expect(await call(IPC.notebooksReadBackup, 'a.ntl.json')).toEqual(doc);
    expect(await call(IPC.notebooksRename, { from: 'a.ntl.json', to: 'b.ntl.json' })).toMatchObject({ file: 'b.ntl.json', promptPreview: 'second', damaged: null });
    expect(await call(IPC.notebooksDuplicate, { file: 'b.ntl.json', newName: 'c.ntl.json' })).toMatchObject({ file: 'c.ntl.json' });
    expect(await call(IPC.notebooksRemove, 'c.ntl.json')).toMatchObject({ file: 'c.ntl.json', trashed: expect.stringMatching(/^\.trash\//) });
    expect(((await call(IPC.notebooksList, undefined)) as { file: string }[]).map((e) => e.file)).toEqual(['b.ntl.json']);
    await expect(call(IPC.notebooksRename, { from: 'b.ntl.json', to: '../x.ntl.json' })).rejects.toThrow('notebooks:rename: bad request: field "to"');
    await expect(call(IPC.notebooksDuplicate, { file: 'b.ntl.json' })).rejects.toThrow('notebooks:duplicate: bad request: field "newName"');
    await expect(call(IPC.notebooksRemove, '.trash')).rejects.toThrow('notebooks:remove: bad request');
    await expect(call(IPC.notebooksSave, { file: 'b.ntl.json', doc, overwriteDamaged: 'yes' })).rejects.toThrow('field "overwriteDamaged"');
  });
});
