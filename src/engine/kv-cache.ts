import { errorMessage } from '../common/error-message';
import type * as Ort from 'onnxruntime-web';
import type { ModelConfig } from '../common/model-config';
import type { OrtModule } from './session-options';
import { LOGIT_ROWS_INPUT } from './onnx-edit';
import { ortTypeName } from './tensor-data';

/**
 * The key/value cache as Optimum's graphs take it: which graph runs it (the model's own past inputs,
 * a merged decoder's with-past branch, or a decoder_with_past file), how its inputs are fed, and the
 * recent sequences whose presents are kept so the next step runs one token.
 */

/** A cached past for one token sequence: the present keys and values after it, one per past input of the cache graph. */
export interface CacheEntry {
  ids: number[];
  past: Ort.Tensor[];
  /** The next-token logits after `ids`, where a whole-sequence pass of the shared session left them (`CacheRunner.keep`). */
  logits?: Float32Array;
}

/** Inputs the engine knows how to feed, besides the key/value cache. */
export const FED_INPUTS = new Set(['input_ids', 'attention_mask', 'position_ids', 'token_type_ids', 'cache_position', 'use_cache_branch']);
/** Optimum's cache inputs, `past_key_values.{layer}.key|value`. */
export const PAST_INPUT = /^past_key_values\.(\d+)\.(key|value)$/;

/** Refuses a graph with inputs the engine cannot feed, naming each with its type and shape. */
export function checkFedInputs(inputs: readonly { name: string; elemType: number; dims: readonly (number | string)[] }[], file: string): void {
  const unsupported = inputs.filter((i) => !FED_INPUTS.has(i.name) && !PAST_INPUT.test(i.name));
  if (unsupported.length > 0) {
    throw new Error(
      `${file}: graph inputs the engine cannot feed: ${unsupported.map((i) => `${i.name} (${ortTypeName(i.elemType)} [${i.dims.join(', ')}])`).join(', ')}; it feeds input_ids, attention_mask, position_ids, token_type_ids, cache_position, use_cache_branch and past_key_values.{layer}.key/value`,
    );
  }
}

/** One key or value cache input of a graph and the output that hands back its next state. */
export interface PastSlot {
  input: string;
  output: string;
  type: 'float32' | 'float16';
  /** Key/value heads and head size, from the input's declared shape [batch, kv-heads, past, head size]. */
  kvHeads: number;
  headDim: number;
}

/**
 * A graph that generates on the key/value cache: Optimum's past_key_values inputs and present
 * outputs, plus whichever of attention_mask, position_ids, cache_position and use_cache_branch it declares.
 */
export interface CacheGraph {
  session: Ort.InferenceSession;
  /** Whether the session is the instrumented one (a graph with past inputs serves both). */
  shared: boolean;
  inputs: string[];
  slots: PastSlot[];
  file: string;
}

/** How many sequences keep their cache: enough for six comparison columns and the Sample cell. */
export const CACHE_ENTRIES = 8;

/** The element type ONNX Runtime reports for each value of a session (graph inputs or outputs). */
export function metadataTypes(list: readonly Ort.InferenceSession.ValueMetadata[]): Map<string, { type: string; shape: readonly (number | string)[] }> {
  const types = new Map<string, { type: string; shape: readonly (number | string)[] }>();
  for (const m of list) if (m.isTensor) types.set(m.name, { type: m.type, shape: m.shape });
  return types;
}

/** Why a session's past inputs are not one layer's each for every layer of the model, or null when they are. */
export function layerMismatch(slots: readonly PastSlot[], config: ModelConfig, file: string): string | null {
  const layers = new Set(slots.map((s) => s.input.split('.')[1])).size;
  return layers === config.layers ? null : `${file} has a cache for ${layers} layers, the model ${config.layers}`;
}

/** The past inputs of a session paired with their present outputs; a string naming what is missing when they do not pair up. */
export function pastSlots(session: Ort.InferenceSession, config: ModelConfig, file: string): PastSlot[] | string {
  const inputs = metadataTypes(session.inputMetadata);
  const slots: PastSlot[] = [];
  for (const name of session.inputNames) {
    if (!PAST_INPUT.test(name)) continue;
    const output = name.replace(/^past_key_values\./, 'present.');
    if (!session.outputNames.includes(output)) return `${file} takes "${name}" but has no "${output}" output to hand the cache back`;
    const meta = inputs.get(name);
    const type = meta?.type;
    if (type !== 'float32' && type !== 'float16') return `${file}: the cache input "${name}" is of type ${type ?? 'unknown'}, not float32 or float16`;
    const dim = (i: number, fallback: number): number => {
      const d = meta?.shape[i];
      return typeof d === 'number' && d > 0 ? d : fallback;
    };
    slots.push({ input: name, output, type, kvHeads: dim(1, config.kvHeads), headDim: dim(3, config.headDim) });
  }
  return slots;
}

/**
 * Feeds for `rows` new tokens of equal length after `pastLength` cached positions: every input the
 * graph declares, each past input from `past` (by slot) or empty. The attention mask covers past
 * and new positions; positions and cache positions count on from the past. A graph whose head runs
 * on chosen positions (`addLogitRows`) gets the last one, or with `allRows` every new position.
 */
export function feedsFor(
  ort: OrtModule,
  inputs: readonly string[],
  slots: readonly PastSlot[],
  rows: readonly (readonly number[])[],
  past: readonly (Ort.Tensor | undefined)[],
  pastLength: number,
  allRows = false,
): Record<string, Ort.Tensor> {
  const batch = rows.length;
  const n = rows[0]?.length ?? 0;
  const feeds: Record<string, Ort.Tensor> = {};
  const int64 = (width: number, values: (row: number, i: number) => number): Ort.Tensor =>
    new ort.Tensor('int64', BigInt64Array.from({ length: batch * width }, (_, k) => BigInt(values(Math.floor(k / width), k % width))), [batch, width]);
  for (const name of inputs) {
    if (name === 'input_ids') feeds[name] = int64(n, (r, i) => rows[r]?.[i] ?? 0);
    else if (name === 'attention_mask') feeds[name] = int64(pastLength + n, () => 1);
    else if (name === 'position_ids') feeds[name] = int64(n, (_, i) => pastLength + i);
    else if (name === 'token_type_ids') feeds[name] = int64(n, () => 0);
    else if (name === 'cache_position') feeds[name] = new ort.Tensor('int64', BigInt64Array.from({ length: n }, (_, i) => BigInt(pastLength + i)), [n]);
    else if (name === 'use_cache_branch') feeds[name] = new ort.Tensor('bool', new Uint8Array([1]), [1]);
    else if (name === LOGIT_ROWS_INPUT) {
      const rowsFed = allRows ? BigInt64Array.from({ length: n }, (_, i) => BigInt(i)) : BigInt64Array.of(BigInt(n - 1));
      feeds[name] = new ort.Tensor('int64', rowsFed, [rowsFed.length]);
    }
  }
  slots.forEach((slot, k) => {
    feeds[slot.input] = past[k] ?? new ort.Tensor(slot.type, slot.type === 'float16' ? new Uint16Array(0) : new Float32Array(0), [batch, slot.kvHeads, 0, slot.headDim]);
  });
  return feeds;
}

/** A session of a graph that generates on the cache, or why it cannot be used (never silently). */
export async function openCacheGraph(
  ort: OrtModule,
  bytes: Uint8Array,
  file: string,
  config: ModelConfig,
  options: Ort.InferenceSession.SessionOptions,
  external: readonly { path: string; data: Uint8Array }[],
): Promise<{ cacheGraph: CacheGraph | null; cacheNote: string | null }> {
  let session: Ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(bytes, { ...options, ...(external.length > 0 ? { externalData: [...external] } : {}) });
  } catch (cause) {
    return { cacheGraph: null, cacheNote: `${file} is not used for the key/value cache: ${errorMessage(cause)}` };
  }
  const slots = pastSlots(session, config, file);
  const unknown = session.inputNames.filter((n) => !FED_INPUTS.has(n) && !PAST_INPUT.test(n) && n !== LOGIT_ROWS_INPUT);
  const problem =
    typeof slots === 'string'
      ? slots
      : slots.length === 0
        ? `${file} has no past_key_values inputs`
        : (layerMismatch(slots, config, file) ??
          (unknown.length > 0
            ? `${file} takes inputs the engine cannot feed: ${unknown.join(', ')}`
            : !session.inputNames.includes('input_ids') || !session.outputNames.includes('logits')
              ? `${file} lacks an input_ids input or a logits output`
              : null));
  if (problem !== null || typeof slots === 'string') {
    await session.release();
    return { cacheGraph: null, cacheNote: `the key/value cache is not used: ${problem ?? ''}; generation recomputes the whole sequence at each step` };
  }
  return { cacheGraph: { session, shared: false, inputs: [...session.inputNames], slots, file }, cacheNote: null };
}
