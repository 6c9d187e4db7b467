import { z } from 'zod';
import type { ImportBegin, ImportChunk } from './model-import';
import type { ModelInfo, ModelList } from './model-info';
import { NotebookDoc } from './notebook-format';

/** A notebook file in the workspace folder. */
export const NotebookEntry = z.object({
  file: z.string(),
  /** The notebook's name; the file name without `.ntl.json` when the file is damaged. */
  name: z.string(),
  modelId: z.string().nullable(),
  /** The start of the prompt, for the file list. */
  promptPreview: z.string(),
  modifiedMs: z.number(),
  /** Why the file cannot be opened (bad JSON, a failed check, a newer version); null when it can. */
  damaged: z.string().nullable(),
});
export type NotebookEntry = z.infer<typeof NotebookEntry>;

/** File names that requests may name: one plain file in the workspace folder. */
export const NotebookFileName = z
  .string()
  .min(1)
  .max(120)
  .regex(/^[A-Za-z0-9 ._-]+\.ntl\.json$/, 'expected a file name ending in .ntl.json, without folders')
  .refine((name) => !name.startsWith('.'), 'file names may not start with a dot')
  .refine((name) => !name.includes('..'), 'file names may not contain ".."');

export const SaveNotebookRequest = z.object({
  file: NotebookFileName,
  doc: NotebookDoc,
  /** Saving over a damaged file is refused unless this is true (its bytes are then kept as the backup). */
  overwriteDamaged: z.boolean().optional(),
});
export type SaveNotebookRequest = z.input<typeof SaveNotebookRequest>;

export const RenameNotebookRequest = z.object({ from: NotebookFileName, to: NotebookFileName });
export type RenameNotebookRequest = z.infer<typeof RenameNotebookRequest>;

export const DuplicateNotebookRequest = z.object({ file: NotebookFileName, newName: NotebookFileName });
export type DuplicateNotebookRequest = z.infer<typeof DuplicateNotebookRequest>;

/** Where `remove` put the file: a name inside `<workspace>/.trash/`. */
export const RemovedNotebook = z.object({ file: z.string(), trashed: z.string() });
export type RemovedNotebook = z.infer<typeof RemovedNotebook>;

/**
 * The services of the main process, as the renderer sees them: over IPC in the desktop app
 * (`window.ntl`) and over HTTP in the browser build. Model bytes never travel here: they are
 * fetched by URL.
 */
export interface NtlApi {
  readonly transport: 'ipc' | 'http';
  models: {
    list(): Promise<ModelList>;
    /** Adding a model folder the user picked: announce its files, send them in pieces, then commit. */
    importBegin(request: ImportBegin): Promise<{ token: string }>;
    importWrite(chunk: ImportChunk): Promise<void>;
    importCommit(token: string): Promise<ModelInfo>;
    importAbort(token: string): Promise<void>;
  };
  notebooks: {
    list(): Promise<NotebookEntry[]>;
    read(file: string): Promise<NotebookDoc>;
    save(request: SaveNotebookRequest): Promise<NotebookEntry>;
    /** The version a save replaced (`<file>.bak`). */
    readBackup(file: string): Promise<NotebookDoc>;
    /** Refused when `to` exists. */
    rename(request: RenameNotebookRequest): Promise<NotebookEntry>;
    /** A byte-for-byte copy under a new file name; refused when it exists. */
    duplicate(request: DuplicateNotebookRequest): Promise<NotebookEntry>;
    /** Moves the file (and its backup) to `<workspace>/.trash/`; nothing is deleted. */
    remove(file: string): Promise<RemovedNotebook>;
  };
}

export { IPC } from './ipc-channels';
