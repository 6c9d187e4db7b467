/**
 * IPC channels, one per service function. Kept free of imports: the sandboxed preload may not
 * `require` packages, so it imports only this file (and types).
 */
export const IPC = {
  modelsList: 'models:list',
  modelsImportBegin: 'models:import-begin',
  modelsImportWrite: 'models:import-write',
  modelsImportCommit: 'models:import-commit',
  modelsImportAbort: 'models:import-abort',
  notebooksList: 'notebooks:list',
  notebooksRead: 'notebooks:read',
  notebooksSave: 'notebooks:save',
  notebooksRename: 'notebooks:rename',
  notebooksDuplicate: 'notebooks:duplicate',
  notebooksRemove: 'notebooks:remove',
  notebooksRecent: 'notebooks:recent',
  notebooksSaveDraft: 'notebooks:save-draft',
  notebooksDrafts: 'notebooks:drafts',
  notebooksDiscardDraft: 'notebooks:discard-draft',
  notebooksFirstRun: 'notebooks:first-run',
  workspaceInfo: 'workspace:info',
  workspaceChoose: 'workspace:choose',
  workspaceUseDefault: 'workspace:use-default',
} as const;

/** Messages from the main process to the window (not requests: nothing is answered). */
export const IPC_EVENTS = {
  menuCommand: 'menu:command',
  /** The window's end of the native engine's message channel (the desktop app only). */
  nativeEnginePort: 'engine:native-port',
} as const;
