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
  /** GGUF files in LM Studio's and Ollama's folders; adding one of them by path, or one picked in the system's file dialog. */
  modelsGgufFound: 'models:gguf-found',
  modelsGgufAdd: 'models:gguf-add',
  modelsGgufPick: 'models:gguf-pick',
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
  /** The system's file dialog, shown by the main process; the file picked comes back checked. */
  notebooksPickFile: 'notebooks:pick-file',
  workspaceInfo: 'workspace:info',
  workspaceChoose: 'workspace:choose',
  workspaceUseDefault: 'workspace:use-default',
  /** Starts the native engine's process again (after it stopped); its new port comes as `nativeEnginePort`. */
  engineRestartNative: 'engine:restart-native',
  /** A served model (OpenAI-compatible server), asked by the main process: the page's CSP stays offline. */
  remoteModels: 'remote:models',
  remoteTokenize: 'remote:tokenize',
  remotePredict: 'remote:predict',
  remoteSurprisal: 'remote:surprisal',
  remoteGenerate: 'remote:generate',
  remoteCancel: 'remote:cancel',
  remoteProgress: 'remote:progress',
  /** Keeps a server's API key encrypted with the system's keychain (never sent back to the page). */
  remoteSetKey: 'remote:set-key',
} as const;

/** Messages from the main process to the window (not requests: nothing is answered). */
export const IPC_EVENTS = {
  menuCommand: 'menu:command',
  /** The window's end of the native engine's message channel (the desktop app only). */
  nativeEnginePort: 'engine:native-port',
  /** The native engine's process ended on its own (a crash): the reason, in words. */
  nativeEngineExit: 'engine:native-exit',
} as const;
