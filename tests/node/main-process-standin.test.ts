/**
 * The main process with `electron` replaced by an Electron-shaped stand-in: NOT Electron. It shows
 * what the main process does with Electron's API (start-up, every IPC channel through the real
 * wrapper, the app:// routes, a second instance, the native engine's process dying), not that
 * Electron answers so; e2e/electron.spec.ts runs the real app where a binary exists.
 *
 * It runs twice: on the source (src/main/index.ts, through Vitest's module mocking), always; and on
 * the built entry (out/main/index.js, what Electron loads) when a build newer than the sources is
 * there (`npx electron-vite build`; `npm run test:e2e` makes one), else that half reports itself
 * skipped with the reason.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { copyFile, mkdir, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { IPC } from '../../src/common/api';
import { IPC_EVENTS } from '../../src/common/ipc-channels';
import { createServer as createNetServer } from 'node:net';
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

const SOURCE_ENTRY = join(projectRoot, 'src', 'main', 'index.ts');
const BUILT_ENTRY = join(projectRoot, 'out', 'main', 'index.js');
/** Which entry `launch` loads: set by each half of the suite. */
let entry = SOURCE_ENTRY;

function newestChange(dir: string): number {
  let newest = 0;
  for (const name of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, name.name);
    newest = Math.max(newest, name.isDirectory() ? newestChange(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/** Why the built entry cannot be tested now, or null. */
function builtEntryProblem(): string | null {
  if (!existsSync(BUILT_ENTRY)) return 'no build: run `npx electron-vite build`';
  const sources = Math.max(...['main', 'common', 'preload', 'engine'].map((d) => newestChange(join(projectRoot, 'src', d))));
  return statSync(BUILT_ENTRY).mtimeMs < sources ? 'the build is older than the sources: run `npx electron-vite build`' : null;
}

/** Loads the main process afresh against a new stand-in; `ready` makes the app ready at once. */
async function launch(options: Partial<StandInOptions> = {}, { ready = true, resourcesPath = '' } = {}): Promise<ElectronStandIn> {
  const appData = options.appData ?? (await tempDir('app-data'));
  const standIn = createElectronStandIn({
    appData,
    userData: options.userData ?? join(appData, 'Next Token Lab'),
    appPath: options.appPath ?? (await appFolder()),
    ...options,
  });
  // An installed app finds its models and tour beside the archive, in process.resourcesPath.
  saved.env['resourcesPath'] ??= process.resourcesPath;
  Object.assign(process, { resourcesPath: resourcesPath || undefined });
  vi.resetModules();
  vi.doMock('electron', () => standIn.module);
  await import(/* @vite-ignore */ entry);
  if (ready) {
    standIn.app.becomeReady();
    await until(() => standIn.BrowserWindow.all.length === 1 && standIn.calls.menus.length > 0, 'the window');
  }
  return standIn;
}

afterEach(() => {
  vi.doUnmock('electron');
  const { resourcesPath, ...env } = saved.env;
  Object.assign(process, { resourcesPath });
  for (const [key, value] of Object.entries(env)) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
  saved.env = {};
});

function mainProcessSuite(): void {
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
    e.answerNextDialog({ canceled: true, filePaths: [] });
    expect(await call(IPC.notebooksPickFile)).toBeNull();
    e.BrowserWindow.all[0]?.webContents.emit('did-finish-load');
    expect(await call(IPC.engineRestartNative)).toBeUndefined();

    // GGUF: a file picked in the main process's dialog is added by path and hash; the page cannot name one.
    const gguf = join(projectRoot, 'tests/fixtures/models/gpt2-gguf-twin/gpt2-gguf-twin-q8_0.gguf');
    e.answerNextDialog({ canceled: false, filePaths: [gguf] });
    expect(await call(IPC.modelsGgufPick)).toMatchObject({ id: 'gpt2-gguf-twin-q8_0', format: 'gguf', precision: 'Q8_0', source: 'user' });
    e.answerNextDialog({ canceled: true, filePaths: [] });
    expect(await call(IPC.modelsGgufPick)).toBeNull();
    const empty = await tempDir('no-apps');
    Object.assign(process.env, { NTL_LMSTUDIO_DIR: join(empty, 'lmstudio'), NTL_OLLAMA_DIR: join(empty, 'ollama') });
    try {
      expect(await call(IPC.modelsGgufFound)).toEqual({
        files: [],
        searched: [
          { origin: 'lmstudio', dir: join(empty, 'lmstudio'), exists: false },
          { origin: 'ollama', dir: join(empty, 'ollama'), exists: false },
        ],
      });
      await expect(call(IPC.modelsGgufAdd, { path: gguf })).rejects.toThrow("is not a GGUF file found in LM Studio's or Ollama's models folder");
    } finally {
      delete process.env['NTL_LMSTUDIO_DIR'];
      delete process.env['NTL_OLLAMA_DIR'];
    }
    // A served model: the key kept encrypted in userData, never in clear, never answered.
    const closed = createNetServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const address = closed.address();
    const gone = `http://127.0.0.1:${address !== null && typeof address === 'object' ? address.port : 0}`;
    await new Promise((resolve) => closed.close(resolve));
    const key = 'sk-standin-never-in-clear';
    expect(await call(IPC.remoteSetKey, { baseUrl: `${gone}/v1`, key })).toEqual({ keySource: 'stored' });
    const stored = await readFile(e.userDataFile('remote-keys.json'), 'utf8');
    expect(stored).not.toContain(key);
    expect(Object.keys(JSON.parse(stored) as object)).toEqual([gone]);
    const refused = `server ${gone}: connection refused (is the server running on that port?)`;
    await expect(call(IPC.remoteModels, { baseUrl: gone })).rejects.toThrow(refused);
    const target = { baseUrl: gone, model: 'm', prompt: 'The sun' };
    await expect(call(IPC.remoteTokenize, target)).rejects.toThrow(refused);
    await expect(call(IPC.remotePredict, target)).rejects.toThrow(refused);
    await expect(call(IPC.remoteSurprisal, target)).rejects.toThrow(refused);
    await expect(call(IPC.remoteGenerate, { ...target, requestId: 'r1', settings: { greedy: true }, seed: 1, maxTokens: 2 })).rejects.toThrow(refused);
    expect(await call(IPC.remoteCancel, { requestId: 'r1' })).toBeUndefined();
    expect(await call(IPC.remoteProgress, { requestId: 'r1' })).toBeNull();

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
  it('a second instance quits at once, leaving the first one’s import staging alone; the first one comes to the front', async () => {
    const appData = await tempDir('app-data');
    const userData = join(appData, 'Next Token Lab');
    const staging = join(userData, 'models', '.import-in-progress');
    await mkdir(staging, { recursive: true });
    const second = await launch({ appData, userData, hasLock: false }, { ready: false });
    second.app.becomeReady();
    await new Promise((r) => setTimeout(r, 100));
    expect(second.app.quitCount).toBe(1);
    expect(second.BrowserWindow.all).toEqual([]);
    expect(second.ipcMain.channels()).toEqual([]);
    expect((await stat(staging)).isDirectory()).toBe(true);

    const first = await launch({ appData: await tempDir('app-data') });
    const [win] = first.BrowserWindow.all;
    if (!win) throw new Error('no window');
    win.minimized = true;
    first.app.emit('second-instance', {}, ['electron', '.'], '/');
    expect(win.restoreCount).toBe(1);
    expect(win.focusCount).toBe(1);
    expect(first.app.quitCount).toBe(0);
  });

  it('File ▸ Open Notebook File… shows the dialog in the main process and hands over the file checked; big files refused', async () => {
    const e = await launch();
    const dir = await tempDir('picked');
    const tour = await readFile(TOUR, 'utf8');
    await writeFile(join(dir, 'Picked.ntl.json'), tour);
    e.answerNextDialog({ canceled: false, filePaths: [join(dir, 'Picked.ntl.json')] });
    expect(await e.ipcMain.invoke(IPC.notebooksPickFile)).toEqual({ name: 'Picked.ntl.json', text: tour });
    expect(e.calls.openDialogs.at(-1)).toMatchObject({ properties: ['openFile'] });
    e.answerNextDialog({ canceled: true, filePaths: [] });
    expect(await e.ipcMain.invoke(IPC.notebooksPickFile)).toBeNull();
    const big = join(dir, 'Big.ntl.json');
    await writeFile(big, '');
    const { truncate } = await import('node:fs/promises');
    await truncate(big, 16 * 1024 * 1024 + 1);
    e.answerNextDialog({ canceled: false, filePaths: [big] });
    await expect(e.ipcMain.invoke(IPC.notebooksPickFile)).rejects.toThrow(/Big\.ntl\.json: refused: 16\.0 MiB is more than a notebook can be/);
    e.answerNextDialog({ canceled: false, filePaths: [dir] });
    await expect(e.ipcMain.invoke(IPC.notebooksPickFile)).rejects.toThrow(/not a file/);
    await expect(e.ipcMain.invoke(IPC.notebooksPickFile, { path: '/etc/passwd' })).rejects.toThrow(/bad request/);
  });

  it('gives the page a native engine; when its process dies, says why and restarts it on request', async () => {
    const e = await launch();
    const [win] = e.BrowserWindow.all;
    if (!win) throw new Error('no window');
    win.webContents.emit('did-finish-load');
    expect(e.forked).toHaveLength(1);
    const [engine] = e.forked;
    expect(engine?.modulePath).toMatch(/native-engine\.js$/);
    expect(engine?.posted[0]?.message).toEqual({ roots: [expect.objectContaining({ source: 'bundled' }), expect.objectContaining({ source: 'user' })] });
    expect(win.webContents.posted.map((p) => p.channel)).toEqual([IPC_EVENTS.nativeEnginePort]);

    engine?.crash(134);
    const exits = win.webContents.sent.filter((m) => m.channel === IPC_EVENTS.nativeEngineExit);
    expect(exits).toEqual([{ channel: IPC_EVENTS.nativeEngineExit, args: [expect.stringMatching(/native engine stopped.*exit code 134/)] }]);

    expect(await e.ipcMain.invoke(IPC.engineRestartNative)).toBeUndefined();
    expect(e.forked).toHaveLength(2);
    expect(win.webContents.posted.map((p) => p.channel)).toEqual([IPC_EVENTS.nativeEnginePort, IPC_EVENTS.nativeEnginePort]);
    // A process stopped on purpose (a reload, the window closing) is not reported.
    win.webContents.emit('did-finish-load');
    await new Promise((r) => setTimeout(r, 20));
    expect(e.forked[1]?.killed).toBe(true);
    win.close();
    await new Promise((r) => setTimeout(r, 20));
    expect(e.forked[2]?.killed).toBe(true);
    expect(win.webContents.sent.filter((m) => m.channel === IPC_EVENTS.nativeEngineExit)).toHaveLength(1);
  });

  it('a start-up failure is shown in a dialog, not only logged', async () => {
    const e = await launch({ protocolFails: 'the app: scheme is taken' }, { ready: false });
    e.app.becomeReady();
    await until(() => e.app.exitCodes.length > 0, 'the exit');
    expect(e.app.exitCodes).toEqual([1]);
    expect(e.calls.errorBoxes).toEqual([{ title: 'Next Token Lab could not start', content: expect.stringContaining('the app: scheme is taken') }]);
  });

  it('keeps the user data of earlier versions (before the app had a product name)', async () => {
    const appData = await tempDir('app-data');
    await mkdir(join(appData, 'next-token-lab', 'notebooks'), { recursive: true });
    const e = await launch({ appData, userData: join(appData, 'Next Token Lab') });
    expect(e.app.getPath('userData')).toBe(join(appData, 'next-token-lab'));
    expect(await e.ipcMain.invoke(IPC.workspaceInfo)).toMatchObject({ dir: join(appData, 'next-token-lab', 'notebooks') });
  });

  it('the menu has Reload and Toggle Developer Tools in development only; installed, the models and tour come from the resources folder', async () => {
    const dev = await launch();
    const view = (e: ElectronStandIn): string[] => {
      const menu = e.calls.menus.at(-1)?.find((m) => m.label === 'View');
      return (menu?.submenu ?? []).map((i) => i.role ?? i.label ?? i.type ?? '');
    };
    expect(view(dev)).toEqual(expect.arrayContaining(['reload', 'toggleDevTools']));
    // Installed: the archive (app path) holds code only; models and the tour are extra resources beside it.
    const installed = await tempDir('installed');
    await writeModelFolder(join(installed, 'resources', 'models', 'beside-the-archive'));
    await mkdir(join(installed, 'resources', 'notebooks'));
    await copyFile(TOUR, join(installed, 'resources', 'notebooks', 'guided-tour.ntl.json'));
    await mkdir(join(installed, 'resources', 'app.asar'));
    const packaged = await launch({ isPackaged: true, appPath: join(installed, 'resources', 'app.asar') }, { resourcesPath: join(installed, 'resources') });
    expect(((await packaged.ipcMain.invoke(IPC.modelsList)) as { models: { id: string }[] }).models.map((m) => m.id)).toEqual(['beside-the-archive']);
    expect(await packaged.ipcMain.invoke(IPC.notebooksFirstRun)).toBe('Guided tour.ntl.json');
    expect(view(packaged)).not.toContain('reload');
    expect(view(packaged)).not.toContain('toggleDevTools');
  });

  it('when the system trash fails, a removed notebook goes to the workspace’s .trash folder', async () => {
    const e = await launch();
    await e.ipcMain.invoke(IPC.notebooksFirstRun);
    e.failTrash('no trash on this file system');
    expect(await e.ipcMain.invoke(IPC.notebooksRemove, 'Guided tour.ntl.json')).toBeUndefined();
    const trash = await readdir(e.userDataFile('notebooks', '.trash'));
    expect(trash).toEqual([expect.stringMatching(/ Guided tour\.ntl\.json$/)]);
  });

  it('models:list gives the page no absolute paths', async () => {
    const e = await launch();
    const list = (await e.ipcMain.invoke(IPC.modelsList)) as { models: Record<string, unknown>[] };
    expect(list.models[0]).not.toHaveProperty('path');
    expect(JSON.stringify(list)).not.toContain(e.app.getAppPath());
  });

  it('app:// refuses requests that another origin starts', async () => {
    const e = await launch();
    const fromElsewhere = await e.protocol.request('app://local/models/tiny/config.json', { referrer: 'https://example.com/page' });
    expect(fromElsewhere.status).toBe(403);
    expect((await e.protocol.request('app://local/models/tiny/config.json', { headers: { origin: 'https://example.com' } })).status).toBe(403);
    // The app's own page, its workers (ONNX Runtime starts some from blob: URLs), and loads that name no initiator.
    for (const init of [{ referrer: 'app://local/index.html' }, { referrer: 'app://local/assets/engine.worker.js' }, { headers: { origin: 'app://local' } }, { referrer: 'blob:app://local/6f1c' }, {}]) {
      expect((await e.protocol.request('app://local/models/tiny/config.json', init)).status, JSON.stringify(init)).toBe(200);
    }
  });

  it('in development (electron-vite dev) the dev server’s origin serves the model files too', async () => {
    saved.env['ELECTRON_RENDERER_URL'] = process.env['ELECTRON_RENDERER_URL'];
    process.env['ELECTRON_RENDERER_URL'] = 'http://localhost:5173';
    const e = await launch();
    expect(e.BrowserWindow.all[0]?.url).toBe('http://localhost:5173');
    const config = await e.protocol.request('http://localhost:5173/models/tiny/config.json');
    expect(config.status).toBe(200);
    expect(JSON.parse(await config.text())).toMatchObject({ model_type: 'gpt2' });
    expect(e.calls.netFetches).toEqual([]);
    const script = await e.protocol.request('http://localhost:5173/src/main.ts');
    expect(await script.text()).toBe('from the dev server');
    expect(script.headers.get('cross-origin-embedder-policy')).toBe('require-corp');
    expect(script.headers.get('content-security-policy')).toBeNull();
    const devPage = await e.protocol.request('http://localhost:5173/', { headers: { accept: 'text/html' } });
    expect(devPage.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(devPage.headers.get('cross-origin-opener-policy')).toBe('same-origin');
    expect(await (await e.protocol.request('http://example.com/models/tiny/config.json')).text()).toBe('from the dev server');
    expect(e.calls.netFetches).toEqual(['http://localhost:5173/src/main.ts', 'http://localhost:5173/', 'http://example.com/models/tiny/config.json']);
  });
}

describe('main process under an Electron stand-in (not Electron): the source, src/main/index.ts', () => {
  beforeAll(() => {
    entry = SOURCE_ENTRY;
  });
  mainProcessSuite();
});

const builtProblem = builtEntryProblem();
describe.skipIf(builtProblem !== null)(`main process under an Electron stand-in (not Electron): the built entry, out/main/index.js${builtProblem ? ` (skipped: ${builtProblem})` : ''}`, () => {
  beforeAll(() => {
    entry = BUILT_ENTRY;
  });
  mainProcessSuite();

  it('hands Electron paths that exist in the build: the preload, the native engine’s entry, the renderer', async () => {
    const e = await launch();
    const [win] = e.BrowserWindow.all;
    expect(existsSync(String(win?.options.webPreferences?.['preload']))).toBe(true);
    win?.webContents.emit('did-finish-load');
    expect(existsSync(e.forked[0]?.modulePath ?? '')).toBe(true);
    expect(fileURLToPath(new URL('../renderer/index.html', `file://${BUILT_ENTRY}`))).toSatisfy(existsSync);
  });
});
