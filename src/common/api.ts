import { z } from 'zod';
import type { FoundGgufList } from './gguf-found';
import type { ImportBegin, ImportChunk } from './model-import';
import type { PageModelInfo, PageModelList } from './model-info';
import { MAX_NOTEBOOK_BYTES, NotebookDoc } from './notebook-format';
import type {
  RemoteGenerateAnswer,
  RemoteGenerateRequest,
  RemoteKeySource,
  RemoteModelsAnswer,
  RemotePredictAnswer,
  RemotePredictRequest,
  RemoteProgressAnswer,
  RemoteServer,
  RemoteSurprisalAnswer,
  RemoteSurprisalRequest,
  RemoteTokenizeAnswer,
  RemoteTokenizeRequest,
} from './remote-api';

/** A notebook file in the workspace folder, as the sidebar lists it. */
export const NotebookEntry = z.object({
  file: z.string(),
  name: z.string(),
  modifiedMs: z.number(),
  bytes: z.number(),
  /** The model id the notebook names; null when the file is damaged. */
  model: z.string().nullable(),
  /** The first line of its first note, else its prompt. */
  preview: z.string(),
  cells: z.number(),
  /** Why the file cannot be opened (bad JSON, failed schema); null when it is fine. */
  damaged: z.string().nullable(),
  /** Whether the previous version is kept in the workspace's backups. */
  hasBackup: z.boolean(),
});
export type NotebookEntry = z.infer<typeof NotebookEntry>;

/** Unsaved changes kept for recovery after a crash. */
export const DraftEntry = z.object({ file: z.string(), name: z.string(), savedAt: z.string() });
export type DraftEntry = z.infer<typeof DraftEntry>;

/** File names that requests may name: one plain file in the workspace folder. */
export const NotebookFileName = z
  .string()
  .min(1)
  .max(120)
  .regex(/^[A-Za-z0-9 ._-]+\.ntl\.json$/, 'expected a file name ending in .ntl.json, without folders')
  .refine((name) => !name.startsWith('.'), 'file names may not start with a dot');

/** `create`: refuse to replace a file that exists (new notebooks, Save As). */
/**
 * `create: true` saves only into a new file; `create: 'free-name'` saves into a new file named after
 * `file`, or the first free `<name> 2.ntl.json`, … (chosen where the folder is, in one request).
 */
export const SaveNotebookRequest = z.object({ file: NotebookFileName, doc: NotebookDoc, create: z.union([z.boolean(), z.literal('free-name')]).optional() });
export type SaveNotebookRequest = z.infer<typeof SaveNotebookRequest>;

export const DraftRequest = z.object({ file: NotebookFileName, doc: NotebookDoc });
export type DraftRequest = z.infer<typeof DraftRequest>;

/** Renames a notebook: its name and, derived from it, its file. */
export const RenameNotebookRequest = z.object({ file: NotebookFileName, name: z.string().trim().min(1, 'the name is empty').max(200) });
export type RenameNotebookRequest = z.infer<typeof RenameNotebookRequest>;

/** Which copy of a notebook to read: the file, its backup (the version before the last save) or its unsaved draft. */
export const NotebookCopy = z.enum(['file', 'backup', 'draft']);
export type NotebookCopy = z.infer<typeof NotebookCopy>;
export const ReadNotebookRequest = z.object({ file: NotebookFileName, copy: NotebookCopy.default('file') });

/** The folder the notebooks are kept in; `canChoose`: the app can open another one (the desktop app's folder dialog). */
export const WorkspaceInfo = z.object({ dir: z.string(), isDefault: z.boolean(), canChoose: z.boolean() });
export type WorkspaceInfo = z.infer<typeof WorkspaceInfo>;

/** A notebook file the user picked in the system's file dialog (desktop app): its name and text, at most a notebook's size. */
export const PickedNotebookFile = z.object({ name: z.string().min(1).max(255), text: z.string().max(MAX_NOTEBOOK_BYTES) });
export type PickedNotebookFile = z.infer<typeof PickedNotebookFile>;

/** What a desktop menu item asks the window to do. */
export const MenuCommand = z.discriminatedUnion('command', [
  z.object({ command: z.enum(['new', 'open', 'save', 'save-as', 'export-report', 'export-notebook', 'toggle-sidebar', 'open-workspace']) }),
  z.object({ command: z.literal('open-recent'), file: NotebookFileName }),
]);
export type MenuCommand = z.infer<typeof MenuCommand>;

/**
 * The services of the main process, as the renderer sees them: over IPC in the desktop app
 * (`window.ntl`) and over HTTP in the browser build. Model bytes never travel here: they are
 * fetched by URL.
 */
export interface NtlApi {
  readonly transport: 'ipc' | 'http';
  /** Whether a native engine (onnxruntime-node in the desktop app's utility process) will send its port to the page. */
  readonly nativeEngine?: boolean;
  models: {
    list(): Promise<PageModelList>;
    /** Adding a model folder the user picked: announce its files, send them in pieces, then commit. */
    importBegin(request: ImportBegin): Promise<{ token: string }>;
    importWrite(chunk: ImportChunk): Promise<void>;
    importCommit(token: string): Promise<PageModelInfo>;
    importAbort(token: string): Promise<void>;
    /** GGUF files found in LM Studio's and Ollama's models folders. */
    ggufFound(): Promise<FoundGgufList>;
    /** Adds a found GGUF file by path and hash (nothing is copied); only a path the scan found is accepted. */
    ggufAdd(path: string): Promise<PageModelInfo>;
    /** Desktop app only: the system's file dialog for a .gguf file, added by path and hash; null when cancelled. */
    ggufPick?(): Promise<PageModelInfo | null>;
  };
  notebooks: {
    list(): Promise<NotebookEntry[]>;
    read(file: string, copy?: NotebookCopy): Promise<NotebookDoc>;
    save(request: SaveNotebookRequest): Promise<NotebookEntry>;
    rename(request: RenameNotebookRequest): Promise<NotebookEntry>;
    duplicate(file: string): Promise<NotebookEntry>;
    /** To the system trash in the desktop app, to the workspace's `.trash` folder in the browser build. */
    remove(file: string): Promise<void>;
    recent(): Promise<string[]>;
    saveDraft(request: DraftRequest): Promise<void>;
    drafts(): Promise<DraftEntry[]>;
    discardDraft(file: string): Promise<void>;
    /** The first time the app opens the workspace: the guided tour's file, put there to be opened; else null. */
    firstRun(): Promise<string | null>;
    /**
     * Shows the system's file dialog (desktop app only: a native menu click is not a user action
     * in the page, so the page's own file chooser would not open): the file picked, or null.
     */
    pickFile?(): Promise<PickedNotebookFile | null>;
  };
  workspace: {
    info(): Promise<WorkspaceInfo>;
    /**
     * Asks the user for another workspace folder (the system's folder dialog; the page never names
     * a path): the new workspace, or null when the dialog was cancelled. Desktop app only.
     */
    choose(): Promise<WorkspaceInfo | null>;
    /** Back to the default folder under the app's user data. Desktop app only. */
    useDefault(): Promise<WorkspaceInfo>;
  };
  /**
   * Served models (OpenAI-compatible servers), asked by the main process or the serve process. No
   * answer carries the API key.
   */
  remote: {
    models(request: z.input<typeof RemoteServer>): Promise<RemoteModelsAnswer>;
    tokenize(request: z.input<typeof RemoteTokenizeRequest>): Promise<RemoteTokenizeAnswer>;
    predict(request: z.input<typeof RemotePredictRequest>): Promise<RemotePredictAnswer>;
    surprisal(request: z.input<typeof RemoteSurprisalRequest>): Promise<RemoteSurprisalAnswer>;
    /** One column streamed by the server; `signal` (Cancel) stops it and keeps the steps streamed so far. */
    generate(request: RemoteGenerateRequest, signal?: AbortSignal): Promise<RemoteGenerateAnswer>;
    /** Stops the generation `requestId` (what `generate`'s signal does). */
    cancel?(requestId: string): Promise<void>;
    /** The steps of the generation `requestId` streamed in so far; null once it has ended. */
    progress?(requestId: string): Promise<RemoteProgressAnswer>;
    /** Keeps (or, with '', forgets) the server's key encrypted with the system's keychain: desktop app only. */
    setKey?(request: { baseUrl: string; key: string }): Promise<{ keySource: RemoteKeySource }>;
  };
  /** The desktop app's native engine process (absent in the browser build). */
  engine?: {
    /** Called when the process ended on its own (a crash), with the reason in words. */
    onNativeExit(listener: (reason: string) => void): void;
    /** Starts it again; its new port reaches the page as the first one did. */
    restartNative(): Promise<void>;
  };
  /** The desktop app's menu (absent in the browser build): each item the user picks. */
  menu?: {
    onCommand(listener: (command: MenuCommand) => void): void;
  };
}

export { IPC } from './ipc-channels';
