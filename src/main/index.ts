import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BrowserWindow, Menu, app, dialog, ipcMain, net, protocol, safeStorage, screen, session, shell } from 'electron';
import { IPC, type MenuCommand } from '../common/api';
import { APP_ORIGIN, APP_SCHEME, handleAppRequest, withDevHeaders } from './app-protocol';
import { handleIpc, type IpcServices } from './ipc';
import { menuTemplate } from './menu-template';
import { attachNativeEngine, verifyInUtilityProcess, type NativeEngine } from './native-engine/supervisor';
import { appResources } from './resource-paths';
import { loadWindowState, saveWindowStateSync, type WindowState } from './window-state';
import { IPC_EVENTS } from '../common/ipc-channels';
import { ModelImporter } from '../node/model-import';
import { ModelRegistry, type ModelRoot } from '../node/model-registry';
import { GgufLibrary } from '../node/gguf-library';
import { readPickedNotebook } from '../node/picked-notebook';
import { errorMessage } from '../node/request-error';
import { Workspace } from '../node/workspace';
import { RemoteKeyStore } from '../node/remote-key-store';
import { RemoteService } from '../node/remote-service';

// Standard + secure makes app://local a real origin (fetch, workers, cross-origin isolation).
protocol.registerSchemesAsPrivileged([
  { scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true, stream: true, codeCache: true } },
]);

/** In development electron-vite serves the renderer; in a build it comes from app://local. */
const devUrl = app.isPackaged ? undefined : process.env['ELECTRON_RENDERER_URL'];
const devOrigin = devUrl ? new URL(devUrl).origin : null;

function isTrustedOrigin(url: string): boolean {
  try {
    const parsed = new URL(url);
    // Non-special schemes report "null" as origin: compare scheme and host instead.
    return (parsed.protocol === `${APP_SCHEME}:` && parsed.host === 'local') || (devOrigin !== null && parsed.origin === devOrigin);
  } catch {
    return false;
  }
}

/** Sandboxed preloads must be CommonJS: electron-vite emits ours as out/preload/index.cjs. */
const preloadPath = fileURLToPath(new URL('../preload/index.cjs', import.meta.url));
const rendererDir = fileURLToPath(new URL('../renderer', import.meta.url));

const nativeEnginePath = fileURLToPath(new URL('./native-engine.js', import.meta.url));

function createWindow(state: WindowState, stateFile: string): BrowserWindow {
  const win = new BrowserWindow({
    x: state.x,
    y: state.y,
    width: state.width,
    height: state.height,
    show: false,
    title: 'Next Token Lab',
    webPreferences: {
      preload: preloadPath,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
      // Middle-click would open links in new windows (auxclick); the app has no links to follow.
      disableBlinkFeatures: 'Auxclick',
    },
  });
  win.once('ready-to-show', () => {
    if (state.isMaximized) win.maximize();
    win.show();
  });
  // The window's title follows the page's: the notebook's name and an unsaved mark.
  win.on('close', () => {
    try {
      saveWindowStateSync(stateFile, { ...win.getNormalBounds(), isMaximized: win.isMaximized() });
    } catch (cause) {
      console.warn(`Next Token Lab: the window's size and place were not saved: ${errorMessage(cause)}`);
    }
  });
  win.webContents.on('will-navigate', (event) => event.preventDefault());
  win.webContents.setWindowOpenHandler(() => ({ action: 'deny' }));
  void win.loadURL(devUrl ?? `${APP_ORIGIN}/index.html`);
  return win;
}

/**
 * Before the app had a product name its user data was `<appData>/next-token-lab`: where that folder
 * is and the new one is not, it stays in use, so notebooks and imported models are not left behind.
 */
function keepEarlierUserData(): void {
  const earlier = join(app.getPath('appData'), 'next-token-lab');
  if (!existsSync(app.getPath('userData')) && existsSync(earlier)) app.setPath('userData', earlier);
}

/** Opens the window (set once started): a second instance or the dock may ask for it. */
let openWindow: (() => Promise<void>) | null = null;

/** Another launch of the app (which quits at once): the window there is brought to the front. */
function showExistingWindow(): void {
  const win = BrowserWindow.getAllWindows()[0];
  if (!win) {
    void openWindow?.();
    return;
  }
  if (win.isMinimized()) win.restore();
  win.show();
  win.focus();
}

async function start(): Promise<void> {
  keepEarlierUserData();
  await app.whenReady();
  const userData = app.getPath('userData');
  const userModels = join(userData, 'models');
  const resources = appResources({ isPackaged: app.isPackaged, appPath: app.getAppPath(), resourcesPath: process.resourcesPath });
  const modelRoots: ModelRoot[] = [
    { dir: resources.models, source: 'bundled' },
    { dir: userModels, source: 'user' },
  ];
  const registry = new ModelRegistry(modelRoots);
  // Each import is run once in a utility process before it is added (never onnxruntime in the main process).
  const importer = new ModelImporter(userModels, registry, verifyInUtilityProcess(nativeEnginePath));
  // Only the one instance there is gets here (the single-instance lock): no import can be under way.
  await importer.removeStale();
  const workspace = new Workspace(join(userData, 'notebooks'), join(userData, 'settings.json'), {
    trash: (path) => shell.trashItem(path),
    tour: resources.tour,
    canChoose: true,
  });
  const restored = await workspace.restore();
  if (restored.problem !== null) console.warn(`Next Token Lab: ${restored.problem}`);
  const routes = { rendererDir, registry };

  protocol.handle(APP_SCHEME, (request) => handleAppRequest(routes, request, { host: 'local', isTrustedOrigin }));
  session.defaultSession.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  session.defaultSession.setPermissionCheckHandler(() => false);
  if (devOrigin !== null) {
    const devHost = new URL(devOrigin).host;
    // electron-vite's dev server: the model files, which it does not serve, are answered here on its
    // origin, as app://local answers them in a build; the rest comes from it with our headers added,
    // so the page behaves as in a build.
    protocol.handle('http', async (request) => {
      const url = new URL(request.url);
      if (url.origin !== devOrigin) return net.fetch(request, { bypassCustomProtocolHandlers: true });
      if (url.pathname.startsWith('/models/')) return handleAppRequest(routes, request, { host: devHost, isTrustedOrigin });
      return withDevHeaders(await net.fetch(request, { bypassCustomProtocolHandlers: true }));
    });
  }

  const refreshMenu = async (): Promise<void> => {
    const recent = await workspace.store.recent().catch(() => []);
    const send = (command: MenuCommand): void => {
      BrowserWindow.getFocusedWindow()?.webContents.send(IPC_EVENTS.menuCommand, command);
    };
    Menu.setApplicationMenu(Menu.buildFromTemplate(menuTemplate(recent, send, process.platform, !app.isPackaged)));
  };
  await refreshMenu();

  const engines = new WeakMap<object, NativeEngine>();
  const remoteKeys = new RemoteKeyStore(join(userData, 'remote-keys.json'), safeStorage);
  const services: IpcServices = {
    remote: new RemoteService(remoteKeys),
    remoteKeys,
    registry,
    importer,
    gguf: new GgufLibrary(userModels, registry),
    pickGgufFile: async () => {
      const owner = BrowserWindow.getFocusedWindow();
      const options = { title: 'Add a GGUF model file', properties: ['openFile' as const], filters: [{ name: 'GGUF models', extensions: ['gguf'] }] };
      const picked = owner ? await dialog.showOpenDialog(owner, options) : await dialog.showOpenDialog(options);
      const file = picked.filePaths[0];
      return picked.canceled || file === undefined ? null : file;
    },
    get store() {
      return workspace.store;
    },
    workspace: {
      info: () => workspace.info(),
      choose: async () => {
        const owner = BrowserWindow.getFocusedWindow();
        const options = { title: 'Open a workspace folder', defaultPath: workspace.info().dir, properties: ['openDirectory' as const, 'createDirectory' as const] };
        const picked = owner ? await dialog.showOpenDialog(owner, options) : await dialog.showOpenDialog(options);
        const dir = picked.filePaths[0];
        return picked.canceled || dir === undefined ? null : workspace.use(dir);
      },
      useDefault: () => workspace.useDefault(),
    },
    pickNotebookFile: async () => {
      const owner = BrowserWindow.getFocusedWindow();
      const options = {
        title: 'Open a notebook file',
        properties: ['openFile' as const],
        filters: [
          { name: 'Notebooks', extensions: ['json'] },
          { name: 'All files', extensions: ['*'] },
        ],
      };
      const picked = owner ? await dialog.showOpenDialog(owner, options) : await dialog.showOpenDialog(options);
      const file = picked.filePaths[0];
      return picked.canceled || file === undefined ? null : readPickedNotebook(file);
    },
    restartNativeEngine: (sender) => {
      const engine = typeof sender === 'object' && sender !== null ? engines.get(sender) : undefined;
      if (!engine) throw new Error('this window has no native engine');
      engine.restart();
    },
  };
  const changesFiles = (channel: string): boolean =>
    (channel.startsWith('notebooks:') && !channel.endsWith('draft') && channel !== IPC.notebooksList && channel !== IPC.notebooksPickFile) || channel.startsWith('workspace:');
  for (const channel of Object.values(IPC)) {
    ipcMain.handle(channel, async (event, payload: unknown) => {
      const result = await handleIpc(services, isTrustedOrigin, channel, event, payload);
      // Open Recent follows what was opened, saved, renamed or removed.
      if (changesFiles(channel)) void refreshMenu();
      return result;
    });
  }

  const stateFile = join(userData, 'window-state.json');
  openWindow = async (): Promise<void> => {
    const win = createWindow(await loadWindowState(stateFile, screen.getAllDisplays().map((d) => d.workArea)), stateFile);
    engines.set(win.webContents, attachNativeEngine(win, modelRoots, nativeEnginePath));
  };
  // The first listing hashes every model file: started with the window, not when the page asks.
  void registry.list().catch(() => undefined);
  await openWindow();
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) void openWindow?.();
  });
}

// One instance at a time: a second one would remove the first one's import staging folders and
// write the same files. It quits before doing anything; the first one comes to the front.
if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  app.on('second-instance', showExistingWindow);

  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });

  app.on('web-contents-created', (_event, contents) => {
    contents.on('will-attach-webview', (event) => event.preventDefault());
  });

  start().catch((cause: unknown) => {
    const message = errorMessage(cause);
    console.error(`Next Token Lab could not start: ${message}`);
    // The console is nowhere to be seen in an installed app.
    dialog.showErrorBox('Next Token Lab could not start', message);
    app.exit(1);
  });
}
