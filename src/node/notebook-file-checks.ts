import { NotebookFileName } from '../common/api';
import { isNoteCell, parseNotebook, type NotebookDoc } from '../common/notebook-format';
import { RequestError, errorMessage } from './request-error';

/** What the notebook store checks and reads of a file's name and text, before any file is touched. */

export const SUFFIX = '.ntl.json';
const PREVIEW_CHARS = 120;

export function isMissing(cause: unknown): boolean {
  return cause instanceof Error && 'code' in cause && cause.code === 'ENOENT';
}

export function checkFileName(file: unknown): string {
  const parsed = NotebookFileName.safeParse(file);
  if (!parsed.success) {
    throw new RequestError(400, `bad notebook file name ${JSON.stringify(file)}: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
  }
  return parsed.data;
}

export function badRequest(what: string, error: { issues: { path: PropertyKey[]; message: string }[] }): RequestError {
  const issue = error.issues[0];
  return new RequestError(400, `${what}: field "${issue?.path.map(String).join('.') || '(root)'}": ${issue?.message ?? 'invalid'}`);
}

/** The first line of the first note (Markdown marks dropped), else the prompt. */
export function previewOf(doc: NotebookDoc): string {
  const note = doc.cells.find(isNoteCell);
  const line = note?.text.split('\n').find((l) => l.trim() !== '');
  const text = line !== undefined ? line.replace(/^\s*(#+|[-*>]|\d+\.)\s*/, '').replace(/[*_`]/g, '') : doc.prompt;
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > PREVIEW_CHARS ? `${flat.slice(0, PREVIEW_CHARS - 1)}…` : flat;
}

export type Parsed = { ok: true; doc: NotebookDoc } | { ok: false; reason: string };

/** Parses a file's text; never throws: a damaged file is a value with the reason. */
export function parseText(file: string, text: string): Parsed {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    return { ok: false, reason: `${file}: damaged, not valid JSON (${errorMessage(cause)})` };
  }
  try {
    return { ok: true, doc: parseNotebook(json, file) };
  } catch (cause) {
    return { ok: false, reason: `${errorMessage(cause)} (the notebook is damaged or from a newer version)` };
  }
}
