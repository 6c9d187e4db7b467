import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { MenuCommand } from '../../src/common/api';
import { menuTemplate } from '../../src/main/menu-template';
import { appResources } from '../../src/main/resource-paths';
import { DEFAULT_WINDOW, loadWindowState, saveWindowStateSync } from '../../src/main/window-state';
import { projectRoot, tempDir } from './helpers';

const screen = [{ x: 0, y: 0, width: 1920, height: 1080 }];

describe('window size and position', () => {
  it('are remembered, and a position on no display is dropped', async () => {
    const file = join(await tempDir('window'), 'window-state.json');
    expect(await loadWindowState(file, screen)).toEqual(DEFAULT_WINDOW);
    saveWindowStateSync(file, { x: 100, y: 50, width: 1000, height: 700, isMaximized: false });
    expect(await loadWindowState(file, screen)).toEqual({ x: 100, y: 50, width: 1000, height: 700, isMaximized: false });
    saveWindowStateSync(file, { x: 3000, y: 50, width: 1000, height: 700, isMaximized: true });
    expect(await loadWindowState(file, screen)).toEqual({ width: 1000, height: 700, isMaximized: true });
    await writeFile(file, '{"width": 10');
    expect(await loadWindowState(file, screen)).toEqual(DEFAULT_WINDOW);
    saveWindowStateSync(file, { width: 5, height: 5, isMaximized: false });
    expect(await readFile(file, 'utf8')).toBe('{"width": 10');
  });
});

describe('the desktop menu', () => {
  it('has New, Open, Open Recent with the recent files, Save, Save As and Export, each sending its command', () => {
    const sent: MenuCommand[] = [];
    const template = menuTemplate(['Sun.ntl.json', 'Moon test.ntl.json'], (c) => sent.push(c), 'linux');
    const file = template.find((m) => m.label === 'File');
    const items = Array.isArray(file?.submenu) ? file.submenu : [];
    const labels = items.map((i) => i.label ?? i.role ?? i.type);
    expect(labels).toEqual(['New Notebook', 'Open Notebook File…', 'Open Recent', 'Open Workspace Folder…', 'separator', 'Save', 'Save As…', 'separator', 'Export Report (HTML)…', 'Export Notebook File…', 'separator', 'quit']);
    expect(items.find((i) => i.label === 'Save')?.accelerator).toBe('CmdOrCtrl+S');
    const recent = items.find((i) => i.label === 'Open Recent');
    const recentItems = Array.isArray(recent?.submenu) ? recent.submenu : [];
    expect(recentItems.map((i) => i.label)).toEqual(['Sun', 'Moon test']);
    for (const item of [...items, ...recentItems]) item.click?.(undefined as never, undefined, undefined as never);
    expect(sent).toEqual([
      { command: 'new' },
      { command: 'open' },
      { command: 'open-workspace' },
      { command: 'save' },
      { command: 'save-as' },
      { command: 'export-report' },
      { command: 'export-notebook' },
      { command: 'open-recent', file: 'Sun.ntl.json' },
      { command: 'open-recent', file: 'Moon test.ntl.json' },
    ]);
    const empty = menuTemplate([], () => undefined, 'linux').find((m) => m.label === 'File');
    const emptyRecent = (Array.isArray(empty?.submenu) ? empty.submenu : []).find((i) => i.label === 'Open Recent');
    expect(Array.isArray(emptyRecent?.submenu) ? emptyRecent.submenu[0] : null).toMatchObject({ label: 'No recent notebooks', enabled: false });
  });
});

describe('where the app finds its bundled models and the guided tour', () => {
  it('in development: the project’s resources folder (the app path is the project)', () => {
    expect(appResources({ isPackaged: false, appPath: '/work/ntl', resourcesPath: '/usr/lib/electron/resources' })).toEqual({
      models: join('/work/ntl', 'resources', 'models'),
      tour: join('/work/ntl', 'resources', 'notebooks', 'guided-tour.ntl.json'),
    });
  });

  it('installed: beside the archive, in process.resourcesPath (electron-builder’s extraResources), never inside app.asar', () => {
    const layout = { isPackaged: true, appPath: '/opt/Next Token Lab/resources/app.asar', resourcesPath: '/opt/Next Token Lab/resources' };
    expect(appResources(layout)).toEqual({
      models: join('/opt/Next Token Lab/resources', 'models'),
      tour: join('/opt/Next Token Lab/resources', 'notebooks', 'guided-tour.ntl.json'),
    });
    expect(() => appResources({ ...layout, resourcesPath: undefined })).toThrow(/process\.resourcesPath/);
  });
});

describe('the development menu', () => {
  it('has Reload and Toggle Developer Tools only when not packaged', () => {
    const view = (isDevelopment: boolean): unknown[] => {
      const menu = menuTemplate([], () => undefined, 'linux', isDevelopment).find((m) => m.label === 'View');
      return (Array.isArray(menu?.submenu) ? menu.submenu : []).map((i) => i.role ?? i.label ?? i.type);
    };
    expect(view(true)).toEqual(expect.arrayContaining(['reload', 'forceReload', 'toggleDevTools']));
    expect(view(false)).not.toEqual(expect.arrayContaining(['reload']));
    expect(view(false)).not.toEqual(expect.arrayContaining(['toggleDevTools']));
  });
});

describe('the app’s name', () => {
  it('is Next Token Lab (productName): Electron names the user data folder and the menus after it', async () => {
    const pkg = JSON.parse(await readFile(join(projectRoot, 'package.json'), 'utf8')) as { productName?: string };
    expect(pkg.productName).toBe('Next Token Lab');
  });
});
