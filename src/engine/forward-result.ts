import type * as Ort from 'onnxruntime-web';
import type { ModelConfig } from '../common/model-config';
import { headCounts, type GraphPlan, type Probe } from './onnx-graph';
import { tensorToFloat32 } from './tensor-data';

export interface AttentionResult {
  layers: number;
  heads: number;
  /** Key/value heads (fewer than `heads` with grouped-query attention; the weights are per query head). */
  kvHeads: number;
  /** Per layer, row-major [head][query][key]. */
  data: Float32Array[];
  /**
   * The value vectors the weights multiply, per layer row-major [value head][position][headDim]
   * (value heads: `heads`, or the key/value heads a group of query heads shares); null when the
   * graph does not show them.
   */
  values: { heads: number; headDim: number; data: Float32Array[] } | null;
}

export interface EmbeddingResult {
  dim: number;
  /** Each row-major [position][dim], or null when the graph does not expose it. */
  token: Float32Array | null;
  position: Float32Array | null;
  sum: Float32Array | null;
}

/** Everything one forward pass gives the cells. */
export interface ForwardResult {
  ids: number[];
  vocab: number;
  /** Logits at the last position. */
  lastLogits: Float32Array;
  attention: AttentionResult | null;
  /** Why attention is missing, when it is. */
  attentionNote: string | null;
  embeddings: EmbeddingResult;
  /** The residual stream entering each block and the final norm, each row-major [position][hidden]. */
  residual: Float32Array[] | null;
  /**
   * The stream inside each block after the attention's addition (before the MLP), row-major
   * [position][hidden]: with `residual`, block l's attention output is mid[l] − residual[l] and its
   * MLP output residual[l + 1] − mid[l]. Null when the graph does not show it.
   */
  residualMid: Float32Array[] | null;
  forwardMs: number;
}

/**
 * A tensor's floats as an array that owns its whole buffer, so the worker can transfer it alone.
 * ONNX Runtime hands each output over in a fresh buffer: copied only when it does not (a view into a
 * larger buffer, or a buffer already given to another field of the result).
 */
function ownedFloat32(tensor: Ort.Tensor, taken: Set<ArrayBufferLike>): Float32Array {
  const data = tensorToFloat32(tensor);
  if (data.byteOffset === 0 && data.byteLength === data.buffer.byteLength && !taken.has(data.buffer)) {
    taken.add(data.buffer);
    return data;
  }
  return data.slice();
}

/**
 * Logits at the last position of each of `rows` sequences, from a [rows, positions, vocab] tensor:
 * every position of the sequences, or the last alone where the head runs on chosen positions.
 */
export function lastPositionLogits(logits: Ort.Tensor | undefined, rows: number): Float32Array[] {
  if (!logits) throw new Error('the session returned no logits');
  const vocab = logits.dims[logits.dims.length - 1] ?? 0;
  const all = tensorToFloat32(logits);
  const perRow = all.length / rows;
  return Array.from({ length: rows }, (_, r) => all.slice((r + 1) * perRow - vocab, (r + 1) * perRow));
}

/** The probes of one role, in graph order. */
export function probesOf(plan: GraphPlan, role: Probe['role']): Probe[] {
  return plan.probes.filter((p) => p.role === role);
}

/**
 * The value vectors of every layer, when the graph shows them as [1, heads or kv-heads, n, headDim]
 * (or [1, kv-heads, group or 1, n, headDim] beside 5-D probabilities, read as heads × group).
 */
function readValues(plan: GraphPlan, out: Ort.InferenceSession.OnnxValueMapType, n: number, heads: number, layers: number): AttentionResult['values'] {
  const tensors = probesOf(plan, 'attention-values').map((p) => out[p.tensor]);
  const shape = (t: Ort.Tensor | undefined): number[] | null => {
    const d = t?.dims ?? [];
    if (d.length === 4) return [...d];
    return d.length === 5 ? [d[0] ?? 0, (d[1] ?? 0) * (d[2] ?? 0), d[3] ?? 0, d[4] ?? 0] : null;
  };
  const dims = shape(tensors[0]) ?? [];
  const valueHeads = dims[1] ?? 0;
  const headDim = dims[3] ?? 0;
  const fits = (t: Ort.Tensor | undefined): boolean => {
    const d = shape(t);
    return d !== null && d[0] === 1 && d[1] === valueHeads && d[2] === n && d[3] === headDim;
  };
  if (tensors.length !== layers || !tensors.every(fits) || valueHeads === 0 || heads % valueHeads !== 0) return null;
  return { heads: valueHeads, headDim, data: tensors.map((t) => (t ? tensorToFloat32(t).slice() : new Float32Array())) };
}

/**
 * The cells' result of one pass from the session's outputs (each disposed after): the last position's
 * logits, and with `instrument` every probe the plan found. `attentionDims` is the shape of the
 * attention probabilities read (4-D, or 5-D for grouped-query graphs that keep the groups).
 */
export function readForward(
  plan: GraphPlan,
  config: ModelConfig,
  out: Ort.InferenceSession.OnnxValueMapType,
  ids: readonly number[],
  instrument: boolean,
  forwardMs: number,
): { result: ForwardResult; attentionDims: number[] | null } {
  let attentionDims: number[] | null = null;
  try {
    const lastLogits = lastPositionLogits(out[plan.logitsOutput], 1)[0] ?? new Float32Array();
    const result: ForwardResult = {
      ids: [...ids],
      vocab: lastLogits.length,
      lastLogits,
      attention: null,
      attentionNote: null,
      embeddings: { dim: config.hidden, token: null, position: null, sum: null },
      residual: null,
      residualMid: null,
      forwardMs,
    };
    if (!instrument) return { result, attentionDims };
    const taken = new Set<ArrayBufferLike>([lastLogits.buffer]);
    const read = (role: Probe['role']): Float32Array | null => {
      const probe = probesOf(plan, role)[0];
      const tensor = probe ? out[probe.tensor] : undefined;
      return tensor ? ownedFloat32(tensor, taken) : null;
    };
    result.embeddings.token = read('token-embedding');
    result.embeddings.position = read('position-embedding');
    result.embeddings.sum = read('embedding-sum');
    const streams = probesOf(plan, 'residual').map((p) => out[p.tensor]);
    if (streams.length > 0 && streams.every((t) => t !== undefined && t.dims.at(-1) === config.hidden)) {
      result.residual = streams.map((t) => (t ? ownedFloat32(t, taken) : new Float32Array()));
      const mids = probesOf(plan, 'residual-mid').map((p) => out[p.tensor]);
      if (mids.length === streams.length - 1 && mids.every((t) => t !== undefined && t.dims.at(-1) === config.hidden)) {
        result.residualMid = mids.map((t) => (t ? ownedFloat32(t, taken) : new Float32Array()));
      }
    }
    const layers: Float32Array[] = [];
    let heads = 0;
    for (const probe of probesOf(plan, 'attention')) {
      const tensor = out[probe.tensor];
      const dims = tensor?.dims ?? [];
      const n = ids.length;
      // [1, heads, n, n], or grouped-query attention kept as [1, kv-heads, group, n, n]: the same
      // memory read as heads kv·group + g, the order in which query heads share key/value heads.
      if (tensor && (dims.length === 4 || dims.length === 5) && dims[0] === 1 && dims.at(-2) === n && dims.at(-1) === n) {
        heads = dims.length === 5 ? (dims[1] ?? 0) * (dims[2] ?? 0) : (dims[1] ?? 0);
        attentionDims = [...dims];
        layers.push(ownedFloat32(tensor, taken));
      }
    }
    if (layers.length > 0) {
      const kvHeads = Math.min(heads, headCounts(plan, { heads, kvHeads: config.kvHeads }).kvHeads);
      result.attention = { layers: layers.length, heads, kvHeads, data: layers, values: readValues(plan, out, ids.length, heads, layers.length) };
    } else if (plan.fusedAttention.length > 0) {
      const refused = plan.fusedRecompute && !plan.fusedRecompute.ok ? ` They are not recomputed: ${plan.fusedRecompute.reason}.` : '';
      result.attentionNote = `This model computes attention inside fused ${plan.fusedAttention.join(', ')} operators, so its attention weights never exist as a tensor and cannot be shown.${refused}`;
    } else {
      result.attentionNote = 'No Softmax over attention scores was found in this graph, so attention weights cannot be shown.';
    }
    return { result, attentionDims };
  } finally {
    for (const tensor of Object.values(out)) tensor.dispose();
  }
}
