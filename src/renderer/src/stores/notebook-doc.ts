import { CELL_KINDS, CELL_PARAMS, type CellKind, type CellParams } from '../../../common/cells';
import { isComputedCell, NOTE_KIND, NOTEBOOK_FORMAT, NOTEBOOK_VERSION, NotebookDoc, type CachedResult, type CellDoc, type CompareDoc, type ContextDoc } from '../../../common/notebook-format';
import { predictResult } from '../../../engine/cell-results';
import type { GenerationState } from '../../../engine/generate';
import type { TokenPiece } from '../../../engine/tokenizer';
import type { ForwardPayload, TokenizeResult } from '../engine/protocol';
import type { CellRuntime } from './cell-status';
import { percent } from '../cells/labels';

export const DEFAULT_PROMPT = 'The sun rises in the';
/** The Context cell's default pair: seed-world's minimal pair, the same last sentence after a money and a river context. */
export const DEFAULT_CONTEXT: ContextDoc = {
  a: 'She took her money to the bank. At the bank she',
  b: 'She rowed her boat down the river to the bank. At the bank she',
  word: ' bank',
};

export function defaultParams(): CellParams {
  return {
    tokenize: CELL_PARAMS.tokenize.parse({}),
    embed: CELL_PARAMS.embed.parse({}),
    attend: CELL_PARAMS.attend.parse({}),
    predict: CELL_PARAMS.predict.parse({}),
    sample: CELL_PARAMS.sample.parse({}),
  };
}

/** A new notebook's cells: the five computed cells, each with its kind as id. */
export function defaultLayout(): CellDoc[] {
  return CELL_KINDS.map((kind) => ({ id: kind, kind, params: {} }));
}

/**
 * The id of the cell that shows each computed kind and holds the parameters the UI edits: the
 * first of its kind. Later cells of a kind are kept as read (shown as cells this version cannot
 * show); a kind the notebook lacks keeps its default id, the kind's name.
 */
export function primaryCells(cells: readonly CellDoc[]): Record<CellKind, string> {
  const ids = Object.fromEntries(CELL_KINDS.map((kind) => [kind, kind])) as Record<CellKind, string>;
  const seen = new Set<CellKind>();
  for (const cell of cells) {
    if (!isComputedCell(cell) || seen.has(cell.kind)) continue;
    seen.add(cell.kind);
    ids[cell.kind] = cell.id;
  }
  return ids;
}

/** Why `cell` is kept as read rather than shown as a cell (null: it is shown, as a computed cell or a note). */
export function keptReason(cell: CellDoc, primary: Record<CellKind, string>): string | null {
  if (isComputedCell(cell)) return primary[cell.kind] === cell.id ? null : `A second ${cell.kind} cell: this version shows one of each kind.`;
  return cell.kind === NOTE_KIND ? null : 'This version of the app does not know this kind of cell.';
}

/** What a notebook saves: the user's settings and layout, the set-ups of Compare and Context, results kept from a file. */
export interface NotebookState {
  name: string;
  prompt: string;
  /** A served model also has its server's `baseUrl` and the timeout (`timeoutS`), never its key. */
  model: NotebookDoc['model'];
  /** The backend the results were computed on, null before a model loaded. */
  backend: string | null;
  layout: CellDoc[];
  params: CellParams;
  results: Record<string, CachedResult>;
  /** Null: the Compare cell's default columns. */
  compare: CompareDoc | null;
  context: ContextDoc;
}

/** The notebook document of `state` (plain, validated data: reactive proxies cannot be sent over IPC). */
export function toNotebookDoc(state: NotebookState, stamp: { appVersion: string; savedAt: string }): NotebookDoc {
  const primary = primaryCells(state.layout);
  const doc: NotebookDoc = {
    format: NOTEBOOK_FORMAT,
    version: NOTEBOOK_VERSION,
    name: state.name,
    prompt: state.prompt,
    model: {
      id: state.model.id,
      sha256: state.model.sha256,
      ...(state.model.baseUrl !== undefined ? { baseUrl: state.model.baseUrl } : {}),
      ...(state.model.timeoutS !== undefined ? { timeoutS: state.model.timeoutS } : {}),
    },
    backend: state.backend,
    appVersion: stamp.appVersion,
    savedAt: stamp.savedAt,
    cells: state.layout.map((cell) => (isComputedCell(cell) && primary[cell.kind] === cell.id ? { id: cell.id, kind: cell.kind, params: { ...state.params[cell.kind] } } : cell)),
    results: state.results,
    ...(state.compare ? { compare: state.compare } : {}),
    context: { ...state.context },
  };
  return NotebookDoc.parse(JSON.parse(JSON.stringify(doc)));
}

/** The state a document opens as: each kind's parameters from its first cell (defaults where they do not parse). */
export function fromNotebookDoc(doc: NotebookDoc): Omit<NotebookState, 'backend'> {
  const params = defaultParams();
  const primary = primaryCells(doc.cells);
  for (const cell of doc.cells) {
    if (!isComputedCell(cell) || primary[cell.kind] !== cell.id) continue;
    const parsed = CELL_PARAMS[cell.kind].safeParse(cell.params);
    if (parsed.success) (params as Record<CellKind, unknown>)[cell.kind] = parsed.data;
  }
  return {
    name: doc.name,
    prompt: doc.prompt,
    model: { ...doc.model },
    layout: doc.cells.map((cell) => ({ ...cell })),
    params,
    results: { ...(doc.results ?? {}) },
    compare: doc.compare ?? null,
    context: { ...(doc.context ?? DEFAULT_CONTEXT) },
  };
}

/** A short, stable hash (FNV-1a, 32 bits) naming what a cached result was computed from. */
export function resultKey(parts: unknown): string {
  const text = JSON.stringify(parts);
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(16).padStart(8, '0');
}

/** What the cells computed in this window, and what it was computed from. */
export interface RunRecord {
  /** The model's hash (its id without one) and the variant: `sha:fp16`. */
  model: string;
  prompt: string;
  params: CellParams;
  cells: Readonly<Record<string, CellRuntime>>;
  tokens: TokenizeResult | null;
  forward: ForwardPayload | null;
  generation: GenerationState | null;
  piece: (id: number) => TokenPiece;
}

/** A small record of what each finished cell computed, by cell id, saved with the notebook (bounded by the file store). */
export function cellResults(layout: readonly CellDoc[], run: RunRecord): Record<string, CachedResult> {
  const out: Record<string, CachedResult> = {};
  const key = (kind: CellKind): string => resultKey([run.model, run.prompt, run.params.tokenize, kind === 'sample' ? run.params.sample : kind === 'predict' ? run.params.predict : null]);
  for (const cell of layout) {
    if (!isComputedCell(cell) || run.cells[cell.id]?.status !== 'done') continue;
    if (cell.kind === 'tokenize' && run.tokens) {
      const pieces = run.tokens.pieces;
      out[cell.id] = { key: key('tokenize'), data: { summary: `${pieces.length} tokens`, ids: pieces.map((p) => p.id), text: pieces.map((p) => p.text) } };
    } else if (cell.kind === 'predict' && run.forward) {
      const { top } = predictResult(run.forward.lastLogits, run.params.predict.topK, run.params.predict.temperature);
      const first = top[0];
      out[cell.id] = {
        key: key('predict'),
        data: {
          summary: first ? `top-1 “${run.piece(first.id).display}” at ${percent(first.prob)}` : '',
          top: top.map((t) => ({ id: t.id, token: run.piece(t.id).text, prob: t.prob, logit: t.logit })),
        },
      };
    } else if (cell.kind === 'sample' && run.generation) {
      const steps = run.generation.steps;
      const text = steps.map((st) => st.token).join('');
      out[cell.id] = { key: key('sample'), data: { summary: `generated ${JSON.stringify(text)}`, text, steps: steps.map((st) => ({ id: st.id, token: st.token, prob: st.prob })) } };
    }
  }
  return out;
}
