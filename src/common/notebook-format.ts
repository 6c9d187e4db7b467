import { z } from 'zod';
import { CELL_KINDS, CELL_PARAMS } from './cells';

export const NOTEBOOK_VERSION = 1;

const KnownCell = z.object({
  id: z.string().min(1).max(64),
  kind: z.enum(CELL_KINDS),
  params: z.record(z.string(), z.unknown()).default({}),
});

/** A saved notebook (`*.ntl.json`): what the user set, never runtime state. */
export const NotebookDoc = z.object({
  format: z.literal('next-token-lab-notebook'),
  version: z.literal(NOTEBOOK_VERSION),
  name: z.string().max(200),
  prompt: z.string().max(100_000),
  model: z.object({ id: z.string(), sha256: z.string().nullable() }),
  cells: z.array(KnownCell).max(200),
  appVersion: z.string(),
  savedAt: z.string(),
});
export type NotebookDoc = z.infer<typeof NotebookDoc>;

/** Parses a notebook file's JSON; the error names the field. */
export function parseNotebook(json: unknown, file = 'notebook'): NotebookDoc {
  const parsed = NotebookDoc.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`${file}: field "${issue?.path.join('.') || '(root)'}": ${issue?.message ?? 'invalid'}`);
  }
  for (const cell of parsed.data.cells) {
    const params = CELL_PARAMS[cell.kind].safeParse(cell.params);
    if (!params.success) {
      const issue = params.error.issues[0];
      throw new Error(`${file}: cell "${cell.id}" (${cell.kind}) parameter "${issue?.path.join('.') ?? ''}": ${issue?.message ?? 'invalid'}`);
    }
  }
  return parsed.data;
}

/** Notebook names become file names: letters, digits, spaces, dots, dashes and underscores only. */
export function notebookFileName(name: string): string {
  const cleaned = name.replace(/[^A-Za-z0-9 ._-]/g, '_').replace(/^[.\s]+/, '').trim().slice(0, 80);
  return `${cleaned || 'untitled'}.ntl.json`;
}
