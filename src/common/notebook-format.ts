import { z } from 'zod';
import { SamplingStrategy } from './sampling-strategy';
import { CELL_KINDS, CELL_PARAMS } from './cells';
import { describeIssue, issueWords } from './issue-words';
import { formatBytes } from './model-limits';

/**
 * The notebook file (`*.ntl.json`), documented in docs/notebook-format.md.
 * Version 1: the five computed cells only. Version 2: note cells, cells of kinds this app does not
 * know (kept and written back unchanged), the backend, and optional cached results. Version 3: the
 * Compare cell's set-up (`compare`) and the Context cell's prompts (`context`).
 */
export const NOTEBOOK_FORMAT = 'next-token-lab-notebook';
export const NOTEBOOK_VERSION = 3;
/** Cached results above this many bytes (as JSON) are dropped, largest first, before a save. */
export const MAX_RESULTS_BYTES = 512 * 1024;
/**
 * Notebook files above this size are refused unread: a notebook is parameters, notes and at most
 * `MAX_RESULTS_BYTES` of cached results, so a larger file is not one this app wrote, and parsing it
 * would hold the window for seconds.
 */
export const MAX_NOTEBOOK_BYTES = 16 * 1024 * 1024;

/** Why a notebook file of `bytes` is refused without being read, or null: the same words everywhere. */
export function notebookSizeProblem(file: string, bytes: number): string | null {
  if (bytes <= MAX_NOTEBOOK_BYTES) return null;
  return `${file}: refused: ${formatBytes(bytes)} is more than a notebook can be (at most ${formatBytes(MAX_NOTEBOOK_BYTES)}); it was not opened`;
}
export const NOTE_KIND = 'note';

const CellId = z.string().min(1).max(64);
const KnownKind = z.enum(CELL_KINDS);

/** A computed cell: its kind and parameters (checked against `CELL_PARAMS` by `parseNotebook`). */
const ComputedCellSchema = z.object({ id: CellId, kind: KnownKind, params: z.record(z.string(), z.unknown()).default({}) });
/** A Markdown note between the computed cells. */
const NoteCellSchema = z.object({ id: CellId, kind: z.literal(NOTE_KIND), text: z.string().max(100_000) });
/** A cell of a kind this version does not know: every field is kept as it was read. */
const UnknownCellSchema = z.looseObject({ id: CellId, kind: z.string().min(1).max(64) });

export type ComputedCellDoc = z.infer<typeof ComputedCellSchema>;
export type NoteCellDoc = z.infer<typeof NoteCellSchema>;
export type UnknownCellDoc = z.infer<typeof UnknownCellSchema>;
export type CellDoc = ComputedCellDoc | NoteCellDoc | UnknownCellDoc;

export function isComputedCell(cell: CellDoc): cell is ComputedCellDoc {
  return (CELL_KINDS as readonly string[]).includes(cell.kind);
}
export function isNoteCell(cell: CellDoc): cell is NoteCellDoc {
  return cell.kind === NOTE_KIND;
}
function schemaFor(kind: unknown): z.ZodType<CellDoc> {
  if (typeof kind === 'string' && (CELL_KINDS as readonly string[]).includes(kind)) return ComputedCellSchema;
  if (kind === NOTE_KIND) return NoteCellSchema;
  return UnknownCellSchema;
}

/** One cell, checked by the schema of its kind, so that an error names the field of that kind. */
const CellSchema = z.unknown().transform((raw, ctx): CellDoc => {
  const schema = schemaFor(raw !== null && typeof raw === 'object' && 'kind' in raw ? raw.kind : undefined);
  const parsed = schema.safeParse(raw);
  // An unknown cell keeps its fields in the order they were read, so it is written back unchanged.
  if (parsed.success) return schema === UnknownCellSchema && raw !== null && typeof raw === 'object' ? { ...raw, ...parsed.data } : parsed.data;
  for (const issue of parsed.error.issues) ctx.addIssue({ code: 'custom', path: issue.path.map(String), message: issue.message });
  return z.NEVER;
});

/** A cell's result as it was when saved; `key` says what it was computed from (model, inputs, params). */
export const CachedResult = z.object({ key: z.string().max(200), data: z.unknown() });
export type CachedResult = z.infer<typeof CachedResult>;

/**
 * The Compare cell's set-up: its columns (name, decoding preset, seed) and the number of tokens.
 * Generated tokens are not kept: the same settings and seeds give them again.
 */
export const CompareDoc = z.object({
  maxTokens: z.number().int().min(1).max(4096),
  columns: z
    .array(z.object({ name: z.string().min(1).max(40), seed: z.number().int().min(0).max(0xffffffff), strategy: SamplingStrategy }))
    .min(2, 'a comparison needs at least 2 columns')
    .max(6, 'a comparison has at most 6 columns'),
});
export type CompareDoc = z.infer<typeof CompareDoc>;

/** The Context cell: two prompts that share a word, and the word (a token's text; null: the last shared token). */
export const ContextDoc = z.object({ a: z.string().max(10_000), b: z.string().max(10_000), word: z.string().max(200).nullable().default(null) });
export type ContextDoc = z.infer<typeof ContextDoc>;

/** A saved notebook (version 3): what the user set and, optionally, what the cells computed. */
export const NotebookDoc = z
  .object({
    format: z.literal(NOTEBOOK_FORMAT),
    version: z.literal(NOTEBOOK_VERSION),
    name: z.string().max(200),
    prompt: z.string().max(100_000),
    /**
     * A served model is `id: "remote:NAME"` with the server's `baseUrl`: never its API key, which
     * stays in the app's encrypted store or the environment. `timeoutS` is how long a request to it may
     * take (absent: 60 s).
     */
    model: z.object({
      id: z.string().max(200),
      sha256: z.string().max(64).nullable(),
      baseUrl: z.url({ protocol: /^https?$/, error: 'the server address must be an http:// or https:// URL' }).max(2000).optional(),
      timeoutS: z.number().min(1, 'the timeout must be at least 1 s').max(600, 'the timeout must be at most 600 s').optional(),
    }),
    /** The backend the results were computed on (wasm, webgpu), null before any run. */
    backend: z.string().max(40).nullable(),
    appVersion: z.string().max(40),
    savedAt: z.string().max(40),
    cells: z.array(CellSchema).max(200),
    results: z.record(CellId, CachedResult).optional(),
    /** The Compare cell's columns; absent: the default two columns. */
    compare: CompareDoc.optional(),
    /** The Context cell's two prompts; absent: its default pair. */
    context: ContextDoc.optional(),
  })
  .superRefine((doc, ctx) => {
    const seen = new Set<string>();
    doc.cells.forEach((cell, i) => {
      if (seen.has(cell.id)) ctx.addIssue({ code: 'custom', path: ['cells', i, 'id'], message: `cell id "${cell.id}" is used twice` });
      seen.add(cell.id);
    });
  });
export type NotebookDoc = z.infer<typeof NotebookDoc>;

/** The version 1 document, as version 1 of the app wrote it. */
const NotebookDocV1 = z.looseObject({
  format: z.literal(NOTEBOOK_FORMAT),
  version: z.literal(1),
  cells: z.array(z.unknown()),
});

/**
 * Migrations, one per version: `MIGRATIONS[n]` turns a version n document into version n + 1.
 * Each has a round-trip test (tests/unit/notebook-format.test.ts).
 */
const MIGRATIONS: Record<number, (doc: Record<string, unknown>) => Record<string, unknown>> = {
  1: (doc) => {
    const v1 = NotebookDocV1.parse(doc);
    return { ...v1, version: 2, backend: null };
  },
  // Version 2 had no Compare set-up: the comparison opens with its default columns.
  2: (doc) => ({ ...doc, version: 3 }),
};

/** The format a comparison exported from the Compare cell declares: told apart from a notebook by name. */
const COMPARISON_FORMAT = 'next-token-lab-comparison';

/** Brings a document of any older version up to `NOTEBOOK_VERSION`; refuses newer ones by name. */
export function migrateNotebook(json: unknown, file = 'notebook'): unknown {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) throw new Error(`${file}: not a notebook: expected a JSON object`);
  if ('format' in json && json.format === COMPARISON_FORMAT) {
    throw new Error(`${file}: field "format": this is a comparison exported from the Compare cell ("${COMPARISON_FORMAT}"), not a notebook; import a notebook file (.ntl.json, "format": "${NOTEBOOK_FORMAT}")`);
  }
  const head = z.looseObject({ format: z.literal(NOTEBOOK_FORMAT), version: z.number().int().min(1) }).safeParse(json);
  if (!head.success) throw new Error(describeIssue(file, head.error, json));
  let doc: Record<string, unknown> = head.data;
  if (head.data.version > NOTEBOOK_VERSION) {
    throw new Error(`${file}: field "version": format version ${head.data.version} is from a newer Next Token Lab; this one reads versions 1 to ${NOTEBOOK_VERSION}`);
  }
  for (let version = head.data.version; version < NOTEBOOK_VERSION; version++) {
    const step = MIGRATIONS[version];
    if (!step) throw new Error(`${file}: no migration from format version ${version}`);
    try {
      doc = step(doc);
    } catch (cause) {
      if (cause instanceof z.ZodError) throw new Error(`${describeIssue(file, cause, doc)} (format version ${version})`);
      throw cause;
    }
  }
  return doc;
}

/** Parses a notebook file's JSON of any known version (migrated to the current one); the error names the field. */
export function parseNotebook(json: unknown, file = 'notebook'): NotebookDoc {
  const migrated = migrateNotebook(json, file);
  const parsed = NotebookDoc.safeParse(migrated);
  if (!parsed.success) throw new Error(describeIssue(file, parsed.error, migrated));
  for (const cell of parsed.data.cells) {
    if (!isComputedCell(cell)) continue;
    const params = CELL_PARAMS[cell.kind].safeParse(cell.params);
    if (!params.success) {
      const issue = params.error.issues[0];
      throw new Error(`${file}: cell "${cell.id}" (${cell.kind}) parameter "${issue?.path.join('.') ?? ''}": ${issueWords(issue, cell.params)}`);
    }
  }
  return parsed.data;
}

function sortedKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortedKeys);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.keys(value)
      .sort()
      .map((key) => [key, sortedKeys((value as Record<string, unknown>)[key])]),
  );
}

function canonicalCell(cell: CellDoc): unknown {
  if (isComputedCell(cell)) return { id: cell.id, kind: cell.kind, params: sortedKeys(cell.params) };
  if (isNoteCell(cell)) return { id: cell.id, kind: cell.kind, text: cell.text };
  return cell;
}

/**
 * JSON with two-space indentation where short arrays of numbers or strings (token ids, a row of
 * weights) stay on one line: long enough files still diff one value a line where values change.
 */
export function prettyJson(value: unknown, indent = ''): string {
  if (value === undefined) return 'null';
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  const inner = `${indent}  `;
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    if (value.every((v) => v === null || typeof v !== 'object')) {
      const flat = `[${value.map((v) => JSON.stringify(v ?? null)).join(', ')}]`;
      if (flat.length + indent.length <= 100) return flat;
    }
    return `[\n${value.map((v) => `${inner}${prettyJson(v, inner)}`).join(',\n')}\n${indent}]`;
  }
  const entries = Object.entries(value).filter(([, v]) => v !== undefined);
  if (entries.length === 0) return '{}';
  return `{\n${entries.map(([k, v]) => `${inner}${JSON.stringify(k)}: ${prettyJson(v, inner)}`).join(',\n')}\n${indent}}`;
}

/**
 * The file's text: keys in a fixed order (the header, then cells in notebook order, then results
 * in cell order), parameters sorted, unknown cells exactly as read.
 */
export function formatNotebook(doc: NotebookDoc): string {
  const results = doc.results
    ? Object.fromEntries(doc.cells.flatMap((cell) => (doc.results?.[cell.id] ? [[cell.id, { key: doc.results[cell.id]?.key, data: sortedKeys(doc.results[cell.id]?.data) }]] : [])))
    : undefined;
  const ordered = {
    format: doc.format,
    version: doc.version,
    name: doc.name,
    prompt: doc.prompt,
    model: { id: doc.model.id, sha256: doc.model.sha256, ...(doc.model.baseUrl !== undefined ? { baseUrl: doc.model.baseUrl } : {}), ...(doc.model.timeoutS !== undefined ? { timeoutS: doc.model.timeoutS } : {}) },
    backend: doc.backend,
    appVersion: doc.appVersion,
    savedAt: doc.savedAt,
    cells: doc.cells.map(canonicalCell),
    ...(doc.context ? { context: { a: doc.context.a, b: doc.context.b, word: doc.context.word } } : {}),
    ...(doc.compare ? { compare: { maxTokens: doc.compare.maxTokens, columns: doc.compare.columns.map((c) => ({ name: c.name, seed: c.seed, strategy: sortedKeys(c.strategy) })) } } : {}),
    ...(results && Object.keys(results).length > 0 ? { results } : {}),
  };
  return `${prettyJson(ordered)}\n`;
}

/**
 * Keeps the cached results within `maxBytes` (as JSON): the largest go first, so the parameters
 * and notes, which are the experiment, are never what is lost. Results of cells that are gone are dropped.
 */
export function boundResults(doc: NotebookDoc, maxBytes = MAX_RESULTS_BYTES): { doc: NotebookDoc; dropped: string[] } {
  if (!doc.results) return { doc, dropped: [] };
  const ids = new Set(doc.cells.map((c) => c.id));
  const sizes = Object.entries(doc.results).map(([id, result]) => ({ id, bytes: ids.has(id) ? JSON.stringify(result).length : Infinity }));
  sizes.sort((a, b) => b.bytes - a.bytes);
  let total = sizes.reduce((sum, s) => sum + (Number.isFinite(s.bytes) ? s.bytes : 0), 0);
  const dropped: string[] = [];
  for (const s of sizes) {
    if (Number.isFinite(s.bytes) && total <= maxBytes) break;
    dropped.push(s.id);
    if (Number.isFinite(s.bytes)) total -= s.bytes;
  }
  if (dropped.length === 0) return { doc, dropped };
  const results = Object.fromEntries(Object.entries(doc.results).filter(([id]) => !dropped.includes(id)));
  return { doc: { ...doc, results }, dropped };
}

/** Notebook names become file names: letters, digits, spaces, dots, dashes and underscores only. */
export function notebookFileName(name: string): string {
  const cleaned = name.replace(/[^A-Za-z0-9 ._-]/g, '_').replace(/^[.\s]+/, '').trim().slice(0, 80);
  return `${cleaned || 'untitled'}.ntl.json`;
}
