import { z } from 'zod';
import { CELL_KINDS, CELL_PARAMS, type CellKind } from './cells';

/** The version this app writes; older files are migrated on load, newer ones refused. */
export const NOTEBOOK_VERSION = 2;
export const NOTEBOOK_FORMAT = 'next-token-lab-notebook';
/** Largest note, in UTF-8 bytes. */
export const NOTE_MAX_BYTES = 100_000;
/** Largest `results`, in UTF-8 bytes of its compact JSON; larger ones lose their largest entries at save time. */
export const RESULTS_MAX_BYTES = 2 * 1024 * 1024;

const CellId = z.string().min(1).max(64);

/**
 * A cell as stored. Its `params` are checked per kind by `parseNotebook`: the five engine kinds
 * against `CELL_PARAMS`, notes against `NoteParams`; any other kind (from a newer app) is kept as
 * it is, extra fields included.
 */
export const NotebookCell = z.looseObject({
  id: CellId,
  kind: z.string().min(1).max(64),
  params: z.unknown(),
});
export type NotebookCell = z.infer<typeof NotebookCell>;

export const NoteParams = z.object({
  markdown: z.string().refine((text) => utf8Bytes(text) <= NOTE_MAX_BYTES, `a note may be at most ${NOTE_MAX_BYTES} bytes`),
});

/** A saved notebook (`*.ntl.json`), version 2: what the user set, never runtime state, and optional results. */
export const NotebookDoc = z.object({
  format: z.literal(NOTEBOOK_FORMAT),
  version: z.literal(NOTEBOOK_VERSION),
  name: z.string().max(200),
  prompt: z.string().max(100_000),
  model: z.object({ id: z.string(), sha256: z.string().nullable() }),
  /** The backend the results came from (`wasm`, `webgpu`, ...); null when unknown. */
  backend: z.string().max(64).nullable(),
  cells: z.array(NotebookCell).max(200),
  /** Each cell's last result, by cell id: any JSON. */
  results: z.record(CellId, z.unknown()).optional(),
  /** Cells whose results were dropped to keep `results` within `RESULTS_MAX_BYTES`. */
  resultsDropped: z.array(CellId).optional(),
  appVersion: z.string(),
  savedAt: z.string(),
});
export type NotebookDoc = z.infer<typeof NotebookDoc>;

export function isCellKind(kind: string): kind is CellKind {
  return (CELL_KINDS as readonly string[]).includes(kind);
}

function utf8Bytes(text: string): number {
  return new TextEncoder().encode(text).length;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

type Migration = (doc: Record<string, unknown>) => Record<string, unknown>;

/**
 * How a notebook of version N becomes version N + 1, keyed by N. Each gets a round-trip test in
 * tests/unit/notebook-format.test.ts.
 */
export const MIGRATIONS: Readonly<Record<number, Migration>> = {
  /** v2 adds notes, unknown cells, `backend` and `results`; a v1 file has no backend recorded. */
  1: (doc) => ({ ...doc, version: 2, backend: null }),
};

/** Brings a parsed JSON value up to `NOTEBOOK_VERSION`; refuses a newer version, naming the file and both versions. */
export function migrateNotebook(json: unknown, file = 'notebook'): unknown {
  if (!isRecord(json)) return json;
  let doc = json;
  let version = doc['version'];
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 1) return json;
  if (version > NOTEBOOK_VERSION) {
    throw new Error(`${file}: written by a newer Next Token Lab (notebook version ${version}); this app reads versions up to ${NOTEBOOK_VERSION}`);
  }
  while (version < NOTEBOOK_VERSION) {
    const migrate = MIGRATIONS[version];
    if (!migrate) throw new Error(`${file}: no migration from notebook version ${version}`);
    doc = migrate(doc);
    version += 1;
  }
  return doc;
}

function firstIssue(file: string, error: z.ZodError): Error {
  const issue = error.issues[0];
  return new Error(`${file}: field "${issue?.path.join('.') || '(root)'}": ${issue?.message ?? 'invalid'}`);
}

/**
 * Parses a notebook file's JSON, of any version this app knows, into the current version; the
 * error names the file and the field.
 */
export function parseNotebook(json: unknown, file = 'notebook'): NotebookDoc {
  const parsed = NotebookDoc.safeParse(migrateNotebook(json, file));
  if (!parsed.success) throw firstIssue(file, parsed.error);
  const cells = parsed.data.cells.map((cell): NotebookCell => {
    if (isCellKind(cell.kind)) {
      const raw = cell.params ?? {};
      const params = CELL_PARAMS[cell.kind].safeParse(raw);
      if (!params.success || !isRecord(raw)) {
        const issue = params.success ? undefined : params.error.issues[0];
        throw new Error(`${file}: cell "${cell.id}" (${cell.kind}) parameter "${issue?.path.join('.') ?? ''}": ${issue?.message ?? 'expected an object'}`);
      }
      // Known kinds keep the fields this version knows; their params stay as written.
      return { id: cell.id, kind: cell.kind, params: raw };
    }
    if (cell.kind === 'note') {
      const params = NoteParams.safeParse(cell.params);
      if (!params.success) {
        const issue = params.error.issues[0];
        throw new Error(`${file}: cell "${cell.id}" (note) parameter "${issue?.path.join('.') ?? ''}": ${issue?.message ?? 'invalid'}`);
      }
      return { id: cell.id, kind: 'note', params: params.data };
    }
    return cell;
  });
  return { ...parsed.data, cells };
}

/**
 * Drops the largest results (ties: by cell id) until `results` fits in `RESULTS_MAX_BYTES`,
 * recording the dropped cell ids in `resultsDropped`. Returns the doc itself when nothing changes.
 */
export function boundResults(doc: NotebookDoc, maxBytes = RESULTS_MAX_BYTES): NotebookDoc {
  const results = doc.results;
  if (results === undefined) return doc;
  const sizes = Object.entries(results).map(([id, value]) => ({ id, bytes: utf8Bytes(JSON.stringify(canonical(value)) ?? 'null') }));
  let total = utf8Bytes(JSON.stringify(canonical(results)));
  if (total <= maxBytes) {
    const stillDropped = doc.resultsDropped?.filter((id) => !(id in results));
    return stillDropped === undefined || stillDropped.length === doc.resultsDropped?.length ? doc : { ...doc, resultsDropped: stillDropped };
  }
  sizes.sort((a, b) => b.bytes - a.bytes || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const dropped = new Set<string>();
  for (const { id, bytes } of sizes) {
    if (total <= maxBytes) break;
    dropped.add(id);
    // The entry's key, quotes, colon and comma go with it.
    total -= bytes + utf8Bytes(JSON.stringify(id)) + 2;
  }
  const kept = Object.fromEntries(Object.entries(results).filter(([id]) => !dropped.has(id)));
  const before = (doc.resultsDropped ?? []).filter((id) => !(id in kept));
  return { ...doc, results: kept, resultsDropped: [...new Set([...before, ...dropped])].sort() };
}

const TOP_LEVEL_ORDER = ['format', 'version', 'name', 'prompt', 'model', 'backend', 'cells', 'results', 'resultsDropped', 'appVersion', 'savedAt'];
const CELL_ORDER = ['id', 'kind', 'params'];

/** Sorted keys at every level; `__proto__` stays an own key (Object.fromEntries defines, it does not assign). */
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (!isRecord(value)) return value;
  const keys = Object.keys(value).sort();
  return Object.fromEntries(keys.map((key) => [key, canonical(value[key])]));
}

function ordered(value: Record<string, unknown>, first: readonly string[], inner: (key: string, v: unknown) => unknown): Record<string, unknown> {
  const rest = Object.keys(value)
    .filter((key) => !first.includes(key))
    .sort();
  const keys = [...first.filter((key) => key in value), ...rest];
  return Object.fromEntries(keys.filter((key) => value[key] !== undefined).map((key) => [key, inner(key, value[key])]));
}

/**
 * The file's text: a fixed key order at the top level and in cells, sorted keys elsewhere, 2-space
 * indent and a trailing newline, so equal docs give byte-identical files (and small diffs).
 */
export function serializeNotebook(doc: NotebookDoc): string {
  const top = ordered(doc, TOP_LEVEL_ORDER, (key, value) =>
    key === 'cells' && Array.isArray(value) ? value.map((cell) => (isRecord(cell) ? ordered(cell, CELL_ORDER, (_, v) => canonical(v)) : canonical(cell))) : canonical(value),
  );
  return `${JSON.stringify(top, null, 2)}\n`;
}

/** Notebook names become file names: letters, digits, spaces, dots, dashes and underscores only. */
export function notebookFileName(name: string): string {
  const cleaned = name.replace(/[^A-Za-z0-9 ._-]/g, '_').replace(/\.{2,}/g, '.').replace(/^[.\s]+/, '').slice(0, 80).replace(/[.\s]+$/, '');
  return `${cleaned || 'untitled'}.ntl.json`;
}
