import type { MenuItemConstructorOptions } from 'electron';
import type { MenuCommand } from '../common/api';

/**
 * The desktop menu: File (New, Open, Open Recent, Save, Save As, Export), Edit, View. Each item
 * sends its command to the window, which does the work as its own buttons and shortcuts do. When
 * not packaged (`npm start`, `npm run dev`), View also has Reload and Toggle Developer Tools.
 */
export function menuTemplate(
  recent: readonly string[],
  send: (command: MenuCommand) => void,
  platform: NodeJS.Platform = process.platform,
  isDevelopment = false,
): MenuItemConstructorOptions[] {
  const isMac = platform === 'darwin';
  const item = (label: string, command: MenuCommand, accelerator?: string): MenuItemConstructorOptions => ({ label, accelerator, click: () => send(command) });
  const recentItems: MenuItemConstructorOptions[] =
    recent.length === 0
      ? [{ label: 'No recent notebooks', enabled: false }]
      : recent.map((file) => item(file.replace(/\.ntl\.json$/, ''), { command: 'open-recent', file }));
  return [
    ...(isMac ? [{ role: 'appMenu' as const }] : []),
    {
      label: 'File',
      submenu: [
        item('New Notebook', { command: 'new' }, 'CmdOrCtrl+N'),
        item('Open Notebook File…', { command: 'open' }, 'CmdOrCtrl+O'),
        { label: 'Open Recent', submenu: recentItems },
        item('Open Workspace Folder…', { command: 'open-workspace' }),
        { type: 'separator' },
        item('Save', { command: 'save' }, 'CmdOrCtrl+S'),
        item('Save As…', { command: 'save-as' }, 'CmdOrCtrl+Shift+S'),
        { type: 'separator' },
        item('Export Report (HTML)…', { command: 'export-report' }, 'CmdOrCtrl+E'),
        item('Export Notebook File…', { command: 'export-notebook' }),
        { type: 'separator' },
        isMac ? { role: 'close' } : { role: 'quit' },
      ],
    },
    { role: 'editMenu' },
    {
      label: 'View',
      submenu: [
        item('Notebooks Sidebar', { command: 'toggle-sidebar' }, 'CmdOrCtrl+B'),
        { type: 'separator' },
        { role: 'resetZoom' },
        { role: 'zoomIn' },
        { role: 'zoomOut' },
        { type: 'separator' },
        { role: 'togglefullscreen' },
        ...(isDevelopment ? [{ type: 'separator' as const }, { role: 'reload' as const }, { role: 'forceReload' as const }, { role: 'toggleDevTools' as const }] : []),
      ],
    },
  ];
}
