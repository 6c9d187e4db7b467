import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BrowserWindow, Menu, MessageChannelMain, app, dialog, ipcMain, protocol, screen, session, shell, utilityProcess, type UtilityProcess } from 'electron';
import { IPC, type MenuCommand } from '../common/api';
import { CONTENT_SECURITY_POLICY } from '../common/csp';
import { APP_ORIGIN, APP_SCHEME, handleAppRequest } from './app-protocol';
import { handleIpc } from './ipc';
import { menuTemplate } from './menu-template';
import { loadWindowState, saveWindowStateSync, type WindowState } from './window-state';
import { IPC_EVENTS } from '../common/ipc-channels';
import { ModelImporter } from './services/model-import';
import { ModelRegistry, type ModelRoot } from './services/model-registry';
import { Workspace } from './services/workspace';

// Standard + secure makes app://local a real origin (fetch, workers, cross-origin isolation).
protocol.registerSchemesAsPrivileged([
  { scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true, stream: true, codeCache: true } },
]);

/** In development electron-vite serves the renderer; in a build it comes from app://local. */
const devUrl = app.isPackaged ? undefined : process.env['ELECTRON_RENDERER_URL'];
const devOrigin = devUrl ? new URL(devUrl).origin : null;

function isTrustedOrigin(url: string): boolean {
  try {
    const origin = new URL(url).origin;
    // Non-special schemes report "null" as origin: compare scheme and host instead.
    const parsed = new URL(url);
    return (parsed.protocol === `${APP_SCHEME}:` && parsed.host === 'local') || (devOrigin !== null && origin === devOrigin);
  } catch {
    return false;
  }
}

/** Sandboxed preloads must be CommonJS: electron-vite emits ours as out/preload/index.cjs. */
const preloadPath = fileURLToPath(new URL('../preload/index.cjs', import.meta.url));
const rendererDir = fileURLToPath(new URL('../renderer', import.meta.url));

const nativeEnginePath = fileURLToPath(new URL('./native-engine.js', import.meta.url));

/**
 * Gives the window a native engine (onnxruntime-node in a utility process, not in this process,
 * which must stay responsive): on every page load a fresh process and a message channel, one end to
 * the process, the other to the page (through the preload). The page speaks the worker protocol to it.
 */
function attachNativeEngine(win: BrowserWindow, roots: readonly ModelRoot[]): void {
  let child: UtilityProcess | null = null;
  const stop = (): void => {
    child?.kill();
    child = null;
  };
  win.webContents.on('did-finish-load', () => {
    stop();
    const engine = utilityProcess.fork(nativeEnginePath, [], { serviceName: 'Next Token Lab native engine', stdio: 'inherit' });
    const { port1, port2 } = new MessageChannelMain();
    engine.postMessage({ roots }, [port1]);
    win.webContents.postMessage(IPC_EVENTS.nativeEnginePort, null, [port2]);
    child = engine;
  });
  win.on('closed', stop);
}

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
      console.warn(`Next Token Lab: the window's size and place were not saved: ${cause instanceof Error ? cause.message : String(cause)}`);
    }
  });
  win.webContents.on('will-navigate', (event) => event.preventDefault());
  win.webContents.setWindowOpenHandler(() => ({ action: 'deny' }));
  void win.loadURL(devUrl ?? `${APP_ORIGIN}/index.html`);
  return win;
}

async function start(): Promise<void> {
  await app.whenReady();
  const userData = app.getPath('userData');
  const userModels = join(userData, 'models');
  const modelRoots: ModelRoot[] = [
    { dir: join(app.getAppPath(), 'resources', 'models'), source: 'bundled' },
    { dir: userModels, source: 'user' },
  ];
  const registry = new ModelRegistry(modelRoots);
  const importer = new ModelImporter(userModels, registry);
  await importer.removeStale();
  const workspace = new Workspace(join(userData, 'notebooks'), join(userData, 'settings.json'), {
    trash: (path) => shell.trashItem(path),
    tour: join(app.getAppPath(), 'resources', 'notebooks', 'guided-tour.ntl.json'),
    canChoose: true,
  });
  const restored = await workspace.restore();
  if (restored.problem !== null) console.warn(`Next Token Lab: ${restored.problem}`);
  const routes = { rendererDir, registry };

  protocol.handle(APP_SCHEME, (request) => handleAppRequest(routes, request));
  session.defaultSession.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  session.defaultSession.setPermissionCheckHandler(() => false);
  if (devOrigin !== null) {
    // The dev server does not send our headers: add them so the page behaves as in a build.
    session.defaultSession.webRequest.onHeadersReceived((details, callback) => {
      const headers = { ...details.responseHeaders };
      headers['Cross-Origin-Opener-Policy'] = ['same-origin'];
      headers['Cross-Origin-Embedder-Policy'] = ['require-corp'];
      if (details.resourceType === 'mainFrame') headers['Content-Security-Policy'] = [CONTENT_SECURITY_POLICY];
      callback({ responseHeaders: headers });
    });
  }

  const refreshMenu = async (): Promise<void> => {
    const recent = await workspace.store.recent().catch(() => []);
    const send = (command: MenuCommand): void => {
      BrowserWindow.getFocusedWindow()?.webContents.send(IPC_EVENTS.menuCommand, command);
    };
    Menu.setApplicationMenu(Menu.buildFromTemplate(menuTemplate(recent, send)));
  };
  await refreshMenu();

  const services = {
    registry,
    importer,
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
  };
  for (const channel of Object.values(IPC)) {
    ipcMain.handle(channel, async (event, payload: unknown) => {
      const result = await handleIpc(services, isTrustedOrigin, channel, event, payload);
      // Open Recent follows what was opened, saved, renamed or removed.
      if ((channel.startsWith('notebooks:') && !channel.endsWith('draft') && channel !== IPC.notebooksList) || channel.startsWith('workspace:')) void refreshMenu();
      return result;
    });
  }

  const stateFile = join(userData, 'window-state.json');
  const open = async (): Promise<void> => {
    const win = createWindow(await loadWindowState(stateFile, screen.getAllDisplays().map((d) => d.workArea)), stateFile);
    attachNativeEngine(win, modelRoots);
  };
  await open();
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) void open();
  });
}

app.on('window-all-closed', () => {
  if (process.platform !== 'darwin') app.quit();
});

app.on('web-contents-created', (_event, contents) => {
  contents.on('will-attach-webview', (event) => event.preventDefault());
});

start().catch((cause: unknown) => {
  console.error(`Next Token Lab could not start: ${cause instanceof Error ? cause.message : String(cause)}`);
  app.exit(1);
});
