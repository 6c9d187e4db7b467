import { errorMessage } from '../common/error-message';
import { contextBridge, ipcRenderer } from 'electron';
import type { MenuCommand, NtlApi } from '../common/api';
import { IPC, IPC_EVENTS } from '../common/ipc-channels';

/**
 * `ipcRenderer.invoke`, but a refusal carries the main process's own words: Electron passes on only
 * the message, with "Error invoking remote method '<channel>': Error: " before it, which the page
 * would otherwise show to the user.
 */
function invoke<T>(channel: string, ...args: unknown[]): Promise<T> {
  return ipcRenderer.invoke(channel, ...args).catch((cause: unknown) => {
    const message = errorMessage(cause);
    throw new Error(message.replace(/^Error invoking remote method '[^']*': (?:[A-Za-z]*Error: )?/, ''));
  });
}

const cancelGeneration = (requestId: string): Promise<void> => invoke(IPC.remoteCancel, { requestId });

/** The main-process services, one function per IPC channel; no generic invoke. */
const api: NtlApi = {
  transport: 'ipc',
  nativeEngine: true,
  models: {
    list: () => invoke(IPC.modelsList),
    importBegin: (request) => invoke(IPC.modelsImportBegin, request),
    importWrite: (chunk) => invoke(IPC.modelsImportWrite, chunk),
    importCommit: (token) => invoke(IPC.modelsImportCommit, token),
    importAbort: (token) => invoke(IPC.modelsImportAbort, token),
    ggufFound: () => invoke(IPC.modelsGgufFound),
    ggufAdd: (path) => invoke(IPC.modelsGgufAdd, { path }),
    ggufPick: () => invoke(IPC.modelsGgufPick),
  },
  notebooks: {
    list: () => invoke(IPC.notebooksList),
    read: (file, copy) => invoke(IPC.notebooksRead, { file, copy }),
    save: (request) => invoke(IPC.notebooksSave, request),
    rename: (request) => invoke(IPC.notebooksRename, request),
    duplicate: (file) => invoke(IPC.notebooksDuplicate, file),
    remove: (file) => invoke(IPC.notebooksRemove, file),
    recent: () => invoke(IPC.notebooksRecent),
    saveDraft: (request) => invoke(IPC.notebooksSaveDraft, request),
    drafts: () => invoke(IPC.notebooksDrafts),
    discardDraft: (file) => invoke(IPC.notebooksDiscardDraft, file),
    firstRun: () => invoke(IPC.notebooksFirstRun),
    pickFile: () => invoke(IPC.notebooksPickFile),
  },
  workspace: {
    info: () => invoke(IPC.workspaceInfo),
    choose: () => invoke(IPC.workspaceChoose),
    useDefault: () => invoke(IPC.workspaceUseDefault),
  },
  remote: {
    models: (request) => invoke(IPC.remoteModels, request),
    tokenize: (request) => invoke(IPC.remoteTokenize, request),
    predict: (request) => invoke(IPC.remotePredict, request),
    surprisal: (request) => invoke(IPC.remoteSurprisal, request),
    // An AbortSignal cannot cross the bridge: Cancel is a request of its own, naming the generation.
    generate: (request, signal) => {
      const onAbort = (): void => void cancelGeneration(request.requestId);
      signal?.addEventListener('abort', onAbort, { once: true });
      return invoke<Awaited<ReturnType<NtlApi['remote']['generate']>>>(IPC.remoteGenerate, request).finally(() => signal?.removeEventListener('abort', onAbort));
    },
    cancel: (requestId) => cancelGeneration(requestId),
    progress: (requestId) => invoke(IPC.remoteProgress, { requestId }),
    setKey: (request) => invoke(IPC.remoteSetKey, request),
  },
  engine: {
    // Only the reason reaches the page, never the IPC event.
    onNativeExit: (listener) => {
      ipcRenderer.on(IPC_EVENTS.nativeEngineExit, (_event, reason: unknown) => listener(typeof reason === 'string' ? reason : 'The native engine stopped'));
    },
    restartNative: () => invoke(IPC.engineRestartNative),
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
