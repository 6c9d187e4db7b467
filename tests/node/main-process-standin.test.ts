/**
 * The main process (src/main/index.ts, loaded as source through Vitest with `electron` replaced by
 * an Electron-shaped stand-in): NOT Electron. It shows what the main process does with Electron's
 * API (start-up, every IPC channel through the real wrapper, the app:// routes, a second instance,
 * the native engine's process dying); e2e/electron.spec.ts runs the real app where a binary exists.
 */
import { copyFile, mkdir, readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { IPC } from '../../src/common/api';
import { createElectronStandIn, type ElectronStandIn, type StandInOptions } from './fixtures/electron-standin';
import { projectRoot, tempDir, writeModelFolder } from './helpers';

const TOUR = join(projectRoot, 'resources', 'notebooks', 'guided-tour.ntl.json');

async function until(condition: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (await condition()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** An app folder as `app.getAppPath()` sees it in development: resources/models and the tour. */
async function appFolder(): Promise<string> {
  const dir = await tempDir('app');
  await writeModelFolder(join(dir, 'resources', 'models', 'tiny'));
  await mkdir(join(dir, 'resources', 'notebooks'), { recursive: true });
  await copyFile(TOUR, join(dir, 'resources', 'notebooks', 'guided-tour.ntl.json'));
  return dir;
}

const saved: { env: Record<string, string | undefined> } = { env: {} };

/** Loads the main process afresh against a new stand-in; `ready` makes the app ready at once. */
async function launch(options: Partial<StandInOptions> = {}, { ready = true } = {}): Promise<ElectronStandIn> {
  const appData = options.appData ?? (await tempDir('app-data'));
  const standIn = createElectronStandIn({
    appData,
    userData: options.userData ?? join(appData, 'Next Token Lab'),
    appPath: options.appPath ?? (await appFolder()),
    ...options,
  });
  vi.resetModules();
  vi.doMock('electron', () => standIn.module);
  await import('../../src/main/index');
  if (ready) {
    standIn.app.becomeReady();
    await until(() => standIn.BrowserWindow.all.length === 1 && standIn.calls.menus.length > 0, 'the window');
  }
  return standIn;
}

afterEach(() => {
  vi.doUnmock('electron');
  for (const [key, value] of Object.entries(saved.env)) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
  saved.env = {};
});

describe('main process under an Electron stand-in (not Electron)', () => {
  it('starts: one secure window on app://local, the scheme privileged, permissions refused, a menu', async () => {
    const e = await launch();
    expect(e.calls.privilegedSchemes).toEqual([expect.objectContaining({ scheme: 'app', privileges: expect.objectContaining({ standard: true, secure: true }) })]);
    const [win] = e.BrowserWindow.all;
    expect(win?.url).toBe('app://local/index.html');
    expect(win?.options.webPreferences).toMatchObject({ contextIsolation: true, sandbox: true, nodeIntegration: false, webSecurity: true });
    expect(String(win?.options.webPreferences?.['preload'])).toMatch(/preload[\\/]index\.cjs$/);
    expect(win?.webContents.windowOpenHandler?.()).toEqual({ action: 'deny' });
    const denied: boolean[] = [];
    (e.session.defaultSession.permissionRequestHandler as (c: unknown, p: string, cb: (ok: boolean) => void) => void)(null, 'media', (ok) => denied.push(ok));
    expect(denied).toEqual([false]);
    expect(e.calls.menus.at(-1)?.map((m) => m.label ?? m.role)).toEqual(['File', 'editMenu', 'View']);
    win?.emit('ready-to-show');
    expect(win?.isShown).toBe(true);
    expect(e.app.exitCodes).toEqual([]);
  });

  it('answers every IPC channel through the real wrapper, handlers that return nothing included', async () => {
    const e = await launch();
    const seen = new Set<string>();
    const call = async (channel: string, payload?: unknown): Promise<unknown> => {
      seen.add(channel);
      return e.ipcMain.invoke(channel, payload);
    };
    expect(e.ipcMain.channels().sort()).toEqual(Object.values(IPC).sort());

    const list = (await call(IPC.modelsList)) as { models: { id: string }[]; problems: unknown[] };
    expect(list.models.map((m) => m.id)).toEqual(['tiny']);

    // A model import, piece by piece: import-write answers nothing.
    const source = await tempDir('import-source');
    await writeModelFolder(source);
    const files = ['config.json', 'tokenizer.json', 'onnx/model.onnx'];
    const bytes = await Promise.all(files.map(async (f) => new Uint8Array(await readFile(join(source, f)))));
    const { token } = (await call(IPC.modelsImportBegin, { name: 'imported', files: files.map((path, i) => ({ path, size: bytes[i]?.byteLength ?? 0 })) })) as { token: string };
    for (const [i, path] of files.entries()) expect(await call(IPC.modelsImportWrite, { token, file: path, offset: 0, data: bytes[i] })).toBeUndefined();
    expect(await call(IPC.modelsImportCommit, token)).toMatchObject({ id: 'imported', source: 'user' });
    const aborted = (await call(IPC.modelsImportBegin, { name: 'dropped', files: files.map((path) => ({ path, size: 1 })) })) as { token: string };
    expect(await call(IPC.modelsImportAbort, aborted.token)).toBeUndefined();

    expect(await call(IPC.notebooksFirstRun)).toBe('Guided tour.ntl.json');
    const tour = (await call(IPC.notebooksRead, { file: 'Guided tour.ntl.json' })) as Record<string, unknown>;
    expect(tour).toMatchObject({ name: 'Guided tour' });
    const doc = { ...tour, name: 'Sun' };
    expect(await call(IPC.notebooksSave, { file: 'Sun.ntl.json', doc, create: true })).toMatchObject({ file: 'Sun.ntl.json', name: 'Sun' });
    expect(await call(IPC.notebooksRename, { file: 'Sun.ntl.json', name: 'Moon' })).toMatchObject({ file: 'Moon.ntl.json' });
    expect(await call(IPC.notebooksDuplicate, 'Moon.ntl.json')).toMatchObject({ file: 'Moon copy.ntl.json' });
    expect(((await call(IPC.notebooksList)) as { file: string }[]).map((n) => n.file).sort()).toEqual(['Guided tour.ntl.json', 'Moon copy.ntl.json', 'Moon.ntl.json']);
    expect(await call(IPC.notebooksRecent)).toEqual(expect.arrayContaining(['Moon.ntl.json']));
    expect(await call(IPC.notebooksSaveDraft, { file: 'Moon.ntl.json', doc: { ...doc, name: 'Moon' } })).toBeUndefined();
    expect(await call(IPC.notebooksDrafts)).toEqual([expect.objectContaining({ file: 'Moon.ntl.json' })]);
    expect(await call(IPC.notebooksRead, { file: 'Moon.ntl.json', copy: 'draft' })).toMatchObject({ name: 'Moon' });
    expect(await call(IPC.notebooksDiscardDraft, 'Moon.ntl.json')).toBeUndefined();
    expect(await call(IPC.notebooksRemove, 'Moon copy.ntl.json')).toBeUndefined();
    expect(e.calls.trashed.map((p) => p.split(/[\\/]/).pop())).toEqual(['Moon copy.ntl.json']);

    const info = (await call(IPC.workspaceInfo)) as { dir: string; isDefault: boolean; canChoose: boolean };
    expect(info).toEqual({ dir: e.userDataFile('notebooks'), isDefault: true, canChoose: true });
    const other = await tempDir('workspace');
    e.answerNextDialog({ canceled: false, filePaths: [other] });
    expect(await call(IPC.workspaceChoose)).toMatchObject({ dir: other, isDefault: false });
    e.answerNextDialog({ canceled: true, filePaths: [] });
    expect(await call(IPC.workspaceChoose)).toBeNull();
    expect(await call(IPC.workspaceUseDefault)).toMatchObject({ isDefault: true });

    expect([...seen].sort()).toEqual(Object.values(IPC).sort());
  });

  it('refuses calls from other origins and from frames, and payloads of the wrong shape', async () => {
    const e = await launch();
    await expect(e.ipcMain.invoke(IPC.notebooksList, undefined, { url: 'https://example.com/' })).rejects.toThrow(/refused a call from https:\/\/example\.com/);
    await expect(e.ipcMain.invoke(IPC.notebooksList, undefined, { parent: {} })).rejects.toThrow(/refused/);
    await expect(e.ipcMain.invoke(IPC.notebooksRead, { file: '../../etc/passwd' })).rejects.toThrow(/bad request: field "file"/);
  });

  it('serves app://local: the page with its CSP and isolation headers, model files, nothing outside', async () => {
    const e = await launch();
    const page = await e.protocol.request('app://local/index.html');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(page.headers.get('cross-origin-opener-policy')).toBe('same-origin');
    expect(page.headers.get('cross-origin-embedder-policy')).toBe('require-corp');
    expect(await page.text()).toContain('<div id="app">');
    const config = await e.protocol.request('app://local/models/tiny/config.json');
    expect(config.status).toBe(200);
    expect(config.headers.get('cross-origin-resource-policy')).toBe('same-origin');
    expect(JSON.parse(await config.text())).toMatchObject({ model_type: 'gpt2' });
    const head = await e.protocol.request('app://local/models/tiny/onnx/model.onnx', { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(Number(head.headers.get('content-length'))).toBeGreaterThan(0);
    for (const url of ['app://local/models/tiny/../../../../etc/passwd', 'app://local/%2e%2e/%2e%2e/etc/passwd', 'app://local/models/nope/config.json', 'app://elsewhere/index.html']) {
      expect([403, 404], url).toContain((await e.protocol.request(url)).status);
    }
    expect((await e.protocol.request('app://local/index.html', { method: 'POST', body: 'x' })).status).toBe(405);
  });

  it('remembers the window’s place when it closes, written before the process can end', async () => {
    const e = await launch();
    const [win] = e.BrowserWindow.all;
    if (!win) throw new Error('no window');
    win.bounds = { x: 30, y: 40, width: 1000, height: 700 };
    win.close();
    // Synchronously: nothing may be left to an event loop that is about to stop.
    expect(JSON.parse(await readFile(e.userDataFile('window-state.json'), 'utf8'))).toEqual({ x: 30, y: 40, width: 1000, height: 700, isMaximized: false });
    expect((await readdir(e.userDataFile())).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    expect((await stat(e.userDataFile('window-state.json'))).isFile()).toBe(true);
  });
});
