import { contextBridge, ipcRenderer } from 'electron';
import type { MenuCommand, NtlApi } from '../common/api';
import { IPC, IPC_EVENTS } from '../common/ipc-channels';

/** The main-process services, one function per IPC channel; no generic invoke. */
const api: NtlApi = {
  transport: 'ipc',
  nativeEngine: true,
  models: {
    list: () => ipcRenderer.invoke(IPC.modelsList),
    importBegin: (request) => ipcRenderer.invoke(IPC.modelsImportBegin, request),
    importWrite: (chunk) => ipcRenderer.invoke(IPC.modelsImportWrite, chunk),
    importCommit: (token) => ipcRenderer.invoke(IPC.modelsImportCommit, token),
    importAbort: (token) => ipcRenderer.invoke(IPC.modelsImportAbort, token),
  },
  notebooks: {
    list: () => ipcRenderer.invoke(IPC.notebooksList),
    read: (file, copy) => ipcRenderer.invoke(IPC.notebooksRead, { file, copy }),
    save: (request) => ipcRenderer.invoke(IPC.notebooksSave, request),
    rename: (request) => ipcRenderer.invoke(IPC.notebooksRename, request),
    duplicate: (file) => ipcRenderer.invoke(IPC.notebooksDuplicate, file),
    remove: (file) => ipcRenderer.invoke(IPC.notebooksRemove, file),
    recent: () => ipcRenderer.invoke(IPC.notebooksRecent),
    saveDraft: (request) => ipcRenderer.invoke(IPC.notebooksSaveDraft, request),
    drafts: () => ipcRenderer.invoke(IPC.notebooksDrafts),
    discardDraft: (file) => ipcRenderer.invoke(IPC.notebooksDiscardDraft, file),
    firstRun: () => ipcRenderer.invoke(IPC.notebooksFirstRun),
    pickFile: () => ipcRenderer.invoke(IPC.notebooksPickFile),
  },
  workspace: {
    info: () => ipcRenderer.invoke(IPC.workspaceInfo),
    choose: () => ipcRenderer.invoke(IPC.workspaceChoose),
    useDefault: () => ipcRenderer.invoke(IPC.workspaceUseDefault),
  },
  engine: {
    // Only the reason reaches the page, never the IPC event.
    onNativeExit: (listener) => {
      ipcRenderer.on(IPC_EVENTS.nativeEngineExit, (_event, reason: unknown) => listener(typeof reason === 'string' ? reason : 'The native engine stopped'));
    },
    restartNative: () => ipcRenderer.invoke(IPC.engineRestartNative),
  },
  menu: {
    // Only the command reaches the page, never the IPC event (it carries the sender).
    onCommand: (listener) => {
      ipcRenderer.on(IPC_EVENTS.menuCommand, (_event, command: MenuCommand) => listener(command));
    },
  },
};

contextBridge.exposeInMainWorld('ntl', api);

// The native engine's port is handed to the page as a window message: a MessagePort can cross from
// this isolated world to the page only that way (contextBridge cannot carry it).
const page = globalThis as unknown as { postMessage(message: unknown, targetOrigin: string, transfer: unknown[]): void };
ipcRenderer.on(IPC_EVENTS.nativeEnginePort, (event) => {
  page.postMessage({ ntl: 'native-engine-port' }, '*', event.ports);
});
