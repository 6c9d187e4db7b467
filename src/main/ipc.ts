import type { IpcMainInvokeEvent } from 'electron';
import { z } from 'zod';
import { DraftRequest, IPC, type WorkspaceInfo, NotebookFileName, PickedNotebookFile, ReadNotebookRequest, RenameNotebookRequest, SaveNotebookRequest } from '../common/api';
import { toPageModelInfo, toPageModelList } from '../common/model-info';
import { ImportBegin, ImportChunk, ImportToken } from '../common/model-import';
import { AddGgufRequest, FoundGgufList } from '../common/gguf-found';
import type { GgufLibrary } from '../node/gguf-library';
import type { ModelImporter } from '../node/model-import';
import type { ModelRegistry } from '../node/model-registry';
import type { NotebookStore } from '../node/notebook-store';
import { errorMessage } from '../node/request-error';
import {
  RemoteCancelRequest,
  RemoteGenerateAnswer,
  RemoteGenerateRequest,
  RemoteKeyRequest,
  RemoteKeySource,
  RemoteModelsAnswer,
  RemotePredictAnswer,
  RemotePredictRequest,
  RemoteProgressAnswer,
  RemoteProgressRequest,
  RemoteServer,
  RemoteSurprisalAnswer,
  RemoteSurprisalRequest,
  RemoteTokenizeAnswer,
  RemoteTokenizeRequest,
} from '../common/remote-api';
import type { RemoteService } from '../node/remote-service';

export interface IpcServices {
  registry: ModelRegistry;
  importer: ModelImporter;
  gguf: GgufLibrary;
  /** Shows the system's file dialog for a .gguf file; its path, or null. */
  pickGgufFile(): Promise<string | null>;
  /** The notebooks of the workspace open now (another folder may be opened at any time). */
  readonly store: NotebookStore;
  workspace: {
    info(): WorkspaceInfo;
    /** Shows the folder dialog; the folder picked becomes the workspace. */
    choose(): Promise<WorkspaceInfo | null>;
    useDefault(): Promise<WorkspaceInfo>;
  };
  /** Shows the system's file dialog; the notebook file picked, read within a notebook's size, or null. */
  pickNotebookFile(): Promise<PickedNotebookFile | null>;
  /** Starts again the native engine process of the window that asks. */
  restartNativeEngine(sender: unknown): void;
  /** Served models, the key looked up in `remoteKeys`. */
  remote: RemoteService;
  remoteKeys: { set(baseUrl: string, key: string): Promise<RemoteKeySource> };
}

/** What a handler knows of the call besides its payload: which page's contents sent it. */
export interface IpcCall {
  sender: unknown;
}

type Channel = (typeof IPC)[keyof typeof IPC];

interface Handler<S extends z.ZodType> {
  payload: S;
  run(services: IpcServices, payload: z.infer<S>, call: IpcCall): Promise<unknown>;
  /** Where given, what the handler answers is checked with it before it reaches the page. */
  answer?: z.ZodType;
}

function handler<S extends z.ZodType>(payload: S, run: (services: IpcServices, payload: z.infer<S>, call: IpcCall) => Promise<unknown>, answer?: z.ZodType): Handler<S> {
  return { payload, run, answer };
}

/** One handler per channel of `IPC`: the payload schema and the service call. */
export const IPC_HANDLERS: Record<Channel, Handler<z.ZodType>> = {
  [IPC.modelsList]: handler(z.undefined(), async (s) => toPageModelList(await s.registry.list())),
  [IPC.modelsImportBegin]: handler(ImportBegin, (s, request) => s.importer.begin(request)),
  [IPC.modelsImportWrite]: handler(ImportChunk, (s, chunk) => s.importer.write(chunk)),
  [IPC.modelsImportCommit]: handler(ImportToken, async (s, token) => toPageModelInfo(await s.importer.commit(token))),
  [IPC.modelsImportAbort]: handler(ImportToken, (s, token) => s.importer.abort(token)),
  [IPC.modelsGgufFound]: handler(z.undefined(), (s) => s.gguf.found(), FoundGgufList),
  [IPC.modelsGgufAdd]: handler(AddGgufRequest, async (s, { path }) => toPageModelInfo(await s.gguf.addFound(path))),
  [IPC.modelsGgufPick]: handler(z.undefined(), async (s) => {
    const path = await s.pickGgufFile();
    return path === null ? null : toPageModelInfo(await s.gguf.addFile(path));
  }),
  [IPC.notebooksList]: handler(z.undefined(), (s) => s.store.list()),
  [IPC.notebooksRead]: handler(ReadNotebookRequest, (s, { file, copy }) => s.store.read(file, copy)),
  [IPC.notebooksSave]: handler(SaveNotebookRequest, (s, request) => s.store.save(request)),
  [IPC.notebooksRename]: handler(RenameNotebookRequest, (s, request) => s.store.rename(request)),
  [IPC.notebooksDuplicate]: handler(NotebookFileName, (s, file) => s.store.duplicate(file)),
  [IPC.notebooksRemove]: handler(NotebookFileName, (s, file) => s.store.remove(file)),
  [IPC.notebooksRecent]: handler(z.undefined(), (s) => s.store.recent()),
  [IPC.notebooksSaveDraft]: handler(DraftRequest, (s, request) => s.store.saveDraft(request)),
  [IPC.notebooksDrafts]: handler(z.undefined(), (s) => s.store.drafts()),
  [IPC.notebooksDiscardDraft]: handler(NotebookFileName, (s, file) => s.store.discardDraft(file)),
  [IPC.notebooksFirstRun]: handler(z.undefined(), (s) => s.store.firstRun()),
  [IPC.notebooksPickFile]: handler(z.undefined(), (s) => s.pickNotebookFile(), PickedNotebookFile.nullable()),
  [IPC.workspaceInfo]: handler(z.undefined(), (s) => Promise.resolve(s.workspace.info())),
  [IPC.workspaceChoose]: handler(z.undefined(), (s) => s.workspace.choose()),
  [IPC.workspaceUseDefault]: handler(z.undefined(), (s) => s.workspace.useDefault()),
  [IPC.engineRestartNative]: handler(z.undefined(), async (s, _payload, call) => s.restartNativeEngine(call.sender)),
  [IPC.remoteModels]: handler(RemoteServer, (s, request) => s.remote.models(request), RemoteModelsAnswer),
  [IPC.remoteTokenize]: handler(RemoteTokenizeRequest, (s, request) => s.remote.tokenize(request), RemoteTokenizeAnswer),
  [IPC.remotePredict]: handler(RemotePredictRequest, (s, request) => s.remote.predict(request), RemotePredictAnswer),
  [IPC.remoteSurprisal]: handler(RemoteSurprisalRequest, (s, request) => s.remote.surprisal(request), RemoteSurprisalAnswer),
  [IPC.remoteGenerate]: handler(RemoteGenerateRequest, (s, request) => s.remote.generate(request), RemoteGenerateAnswer),
  [IPC.remoteCancel]: handler(RemoteCancelRequest, (s, request) => s.remote.cancel(request)),
  [IPC.remoteProgress]: handler(RemoteProgressRequest, (s, request) => s.remote.progress(request), RemoteProgressAnswer),
  // Answers only where the key now comes from: the key itself never goes back to the page.
  [IPC.remoteSetKey]: handler(RemoteKeyRequest, async (s, { baseUrl, key }) => ({ keySource: await s.remoteKeys.set(baseUrl, key) }), z.object({ keySource: RemoteKeySource })),
};

/**
 * The one wrapper every IPC call goes through: the sender must be the top frame of the app's own
 * origin, the payload must parse with the channel's schema, and what comes back is plain data
 * (checked with the channel's answer schema where it has one).
 */
export async function handleIpc(
  services: IpcServices,
  isTrustedOrigin: (url: string) => boolean,
  channel: Channel,
  event: Pick<IpcMainInvokeEvent, 'senderFrame'> & { sender?: unknown },
  payload: unknown,
): Promise<unknown> {
  const frame = event.senderFrame;
  if (!frame || frame.parent !== null || !isTrustedOrigin(frame.url)) {
    throw new Error(`${channel}: refused a call from ${frame?.url ?? 'an unknown frame'}`);
  }
  const spec = IPC_HANDLERS[channel];
  const parsed = spec.payload.safeParse(payload);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`${channel}: bad request: field "${issue?.path.join('.') || '(root)'}": ${issue?.message ?? 'invalid'}`);
  }
  try {
    const result = plainData(await spec.run(services, parsed.data, { sender: event.sender }));
    return spec.answer ? spec.answer.parse(result) : result;
  } catch (cause) {
    throw new Error(errorMessage(cause));
  }
}

/**
 * A JSON round trip makes sure only plain data crosses the bridge. A handler that answers nothing
 * (`undefined`, for which `JSON.stringify` gives no text at all) answers `undefined`.
 */
export function plainData(value: unknown): unknown {
  const text = JSON.stringify(value);
  return text === undefined ? undefined : (JSON.parse(text) as unknown);
}
