import { contextBridge, ipcRenderer } from 'electron';
import type { NtlApi } from '../common/api';
import { IPC } from '../common/ipc-channels';

/** The main-process services, one function per IPC channel; no generic invoke. */
const api: NtlApi = {
  transport: 'ipc',
  models: {
    list: () => ipcRenderer.invoke(IPC.modelsList),
    importBegin: (request) => ipcRenderer.invoke(IPC.modelsImportBegin, request),
    importWrite: (chunk) => ipcRenderer.invoke(IPC.modelsImportWrite, chunk),
    importCommit: (token) => ipcRenderer.invoke(IPC.modelsImportCommit, token),
    importAbort: (token) => ipcRenderer.invoke(IPC.modelsImportAbort, token),
  },
  notebooks: {
    list: () => ipcRenderer.invoke(IPC.notebooksList),
    read: (file) => ipcRenderer.invoke(IPC.notebooksRead, file),
    save: (request) => ipcRenderer.invoke(IPC.notebooksSave, request),
  },
};

contextBridge.exposeInMainWorld('ntl', api);
