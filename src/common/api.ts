import { z } from 'zod';
import type { ImportBegin, ImportChunk } from './model-import';
import type { ModelInfo, ModelList } from './model-info';
import { NotebookDoc } from './notebook-format';

/** A notebook file in the workspace folder. */
export const NotebookEntry = z.object({ file: z.string(), name: z.string(), modifiedMs: z.number() });
export type NotebookEntry = z.infer<typeof NotebookEntry>;

/** File names that requests may name: one plain file in the workspace folder. */
export const NotebookFileName = z
  .string()
  .min(1)
  .max(120)
  .regex(/^[A-Za-z0-9 ._-]+\.ntl\.json$/, 'expected a file name ending in .ntl.json, without folders')
  .refine((name) => !name.startsWith('.'), 'file names may not start with a dot');

export const SaveNotebookRequest = z.object({ file: NotebookFileName, doc: NotebookDoc });
export type SaveNotebookRequest = z.infer<typeof SaveNotebookRequest>;

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
  };
}

export { IPC } from './ipc-channels';
