import onnxProto from 'onnx-proto';
import { formatHook } from '../common/hook-names';
import type { GraphNode } from './onnx-decode';
import { HEAD_GATE_INPUT, KEY_KEEP_INPUT } from './intervention';

const { onnx } = onnxProto;
type INode = onnxProto.onnx.INodeProto;

/**
 * Attention weights of fused attention operators, recomputed inside the graph (issue 15).
 *
 * A fused operator (com.microsoft GroupQueryAttention, MultiHeadAttention, Attention, or ONNX's own
 * Attention of opset 23) never writes
 * its probabilities to a tensor. For each one, nodes are added that read the operator's own inputs
 * and compute what it computes: its packing of Q, K and V, its rotary rotation with the graph's own
 * cos/sin caches, its past, its key/value head sharing, its scale, softcap, causal and local-window
 * mask, then softmax(Q·Kᵀ·scale + mask) per head, in float32 (as ONNX Runtime's kernels do). The
 * probabilities [1, heads, n, total] and the values [1, value heads, total, head size] become graph
 * outputs of the instrumented session, computed in the same pass. A configuration that is not
 * covered is refused with the operator and the attribute or input named: never approximated.
 */

/** One fused operator whose weights are recomputed. */
export interface FusedLayer {
  /** The operator type (GroupQueryAttention, MultiHeadAttention, Attention). */
  op: string;
  /** The operator's first output (its attention output, [batch, n, heads × head size]): identifies the node. */
  output: string;
  heads: number;
  kvHeads: number;
  /**
   * Tensors the recomputation creates, named by their hook points (`ntl_fused/blocks.0.attn.hook_pattern`):
   * probabilities [1, heads, n, total] and values [1, kvHeads, total, head size].
   */
  probs: string;
  values: string;
}

export type FusedPlan = { ok: true; layers: FusedLayer[]; ops: string[] } | { ok: false; reason: string };

const PREFIX = 'ntl_fused';

/** A plain sentence naming how the weights are obtained, for the model list and the Attend cell. */
export function recomputedNote(plan: FusedPlan & { ok: true }): string {
  return `attention weights recomputed from ${plan.ops.join(' and ')}'s Q and K (the fused operator never outputs them)`;
}

const present = (node: GraphNode, i: number): boolean => Boolean(node.inputs[i]);

/** Why the recomputation does not cover this node, or null when it does. */
function refusal(node: GraphNode): string | null {
  const a = node.attributes;
  const attr = (name: string): number => a[name] ?? 0;
  const inputs = (names: Record<number, string>): string | null => {
    for (const [i, name] of Object.entries(names)) if (present(node, Number(i))) return `${node.opType}: its input "${name}" is not recomputed`;
    return null;
  };
  const op = node.opType;
  switch (op) {
    case 'GroupQueryAttention': {
      if (!a['num_heads'] || !a['kv_num_heads']) return `${op}: num_heads or kv_num_heads is missing`;
      if (attr('smooth_softmax') !== 0) return `${op}: smooth_softmax=${attr('smooth_softmax')} is not recomputed`;
      if (attr('qk_output') !== 0) return `${op}: qk_output=${attr('qk_output')} is not recomputed`;
      if (attr('do_rotary') !== 0 && !(present(node, 7) && present(node, 8))) return `${op}: do_rotary=1 without cos_cache and sin_cache inputs`;
      if (present(node, 1) !== present(node, 2)) return `${op}: a key input without a value input (or the reverse) is not recomputed`;
      if (present(node, 3) !== present(node, 4)) return `${op}: past_key without past_value (or the reverse) is not recomputed`;
      if (!present(node, 5)) return `${op}: its seqlens_k input is missing`;
      return inputs({ 10: 'attention_bias', 11: 'head_sink', 12: 'k_scale', 13: 'v_scale' });
    }
    case 'MultiHeadAttention': {
      if (!a['num_heads']) return `${op}: num_heads is missing`;
      if (!present(node, 1) || !present(node, 2)) return `${op}: packed QKV (no key and value inputs) is not recomputed`;
      if (present(node, 6) !== present(node, 7)) return `${op}: past_key without past_value (or the reverse) is not recomputed`;
      return inputs({ 4: 'key_padding_mask', 5: 'attention_bias', 8: 'past_sequence_length', 9: 'cache_indirection' });
    }
    case 'Attention': {
      if (node.domain !== 'com.microsoft') {
        // ONNX's own Attention (opset 23).
        if (!a['q_num_heads'] || !a['kv_num_heads']) return `Attention (ONNX): 4-D Q, K and V (no q_num_heads and kv_num_heads attributes) are not recomputed`;
        if (attr('softcap') !== 0) return `Attention (ONNX): softcap=${attr('softcap')} is not recomputed`;
        if (attr('qk_matmul_output_mode') !== 0) return `Attention (ONNX): qk_matmul_output_mode=${attr('qk_matmul_output_mode')} is not recomputed`;
        if (present(node, 4) !== present(node, 5)) return `Attention (ONNX): past_key without past_value (or the reverse) is not recomputed`;
        return inputs({ 3: 'attn_mask', 6: 'nonpad_kv_seqlen' })?.replace(/^Attention:/, 'Attention (ONNX):') ?? null;
      }
      if (!a['num_heads']) return `${op}: num_heads is missing`;
      if (attr('do_rotary') !== 0) return `${op}: do_rotary=${attr('do_rotary')} is not recomputed`;
      if (attr('past_present_share_buffer') !== 0) return `${op}: past_present_share_buffer=1 is not recomputed`;
      const sizes = node.ints?.['qkv_hidden_sizes'];
      if (sizes && sizes.length > 0 && (sizes.length !== 3 || sizes[0] !== sizes[1])) return `${op}: qkv_hidden_sizes=[${sizes.join(', ')}] is not recomputed`;
      return inputs({ 3: 'mask_index', 5: 'attention_bias', 6: 'past_sequence_length' });
    }
    default:
      return `${node.domain ? `${node.domain}.` : ''}${op} is not recomputed`;
  }
}

/**
 * Which fused operators the recomputation covers: all of them (then each gets its probes), or the
 * first one that is not, with the reason.
 */
export function planFusedAttention(nodes: readonly GraphNode[]): FusedPlan {
  const layers: FusedLayer[] = [];
  for (const node of nodes) {
    const reason = refusal(node);
    if (reason) return { ok: false, reason };
    const output = node.outputs[0];
    if (!output) return { ok: false, reason: `${node.opType}: the node has no output` };
    const onnxAttention = node.opType === 'Attention' && node.domain !== 'com.microsoft';
    const heads = node.attributes[onnxAttention ? 'q_num_heads' : 'num_heads'] ?? 0;
    const kvHeads = node.opType === 'GroupQueryAttention' || onnxAttention ? (node.attributes['kv_num_heads'] ?? 0) : heads;
    if (heads % kvHeads !== 0) return { ok: false, reason: `${node.opType}: num_heads=${heads} is not a multiple of kv_num_heads=${kvHeads}` };
    const layer = layers.length;
    const probs = `${PREFIX}/${formatHook({ hook: 'attn.hook_pattern', layer })}`;
    const values = `${PREFIX}/${formatHook({ hook: 'attn.hook_v', layer })}`;
    layers.push({ op: node.opType, output, heads, kvHeads, probs, values });
  }
  return { ok: true, layers, ops: [...new Set(layers.map((l) => l.op))] };
}

/** A plan without the recomputation (its probes dropped), saying why: for a graph that does not load with it. */
export function withoutRecompute<P extends { probes: readonly { tensor: string }[]; fusedRecompute: FusedPlan | null }>(plan: P, reason: string): P {
  const made = new Set(plan.fusedRecompute?.ok ? plan.fusedRecompute.layers.flatMap((l) => [l.probs, l.values]) : []);
  return { ...plan, probes: plan.probes.filter((p) => !made.has(p.tensor)), fusedRecompute: { ok: false, reason } };
}

/** Builds nodes and constants into a list, with unique names under a prefix. */
class Builder {
  readonly nodes: INode[] = [];
  constructor(
    readonly prefix: string,
    private readonly initializers: onnxProto.onnx.ITensorProto[],
  ) {}

  private count = 0;

  name(hint: string): string {
    return `${this.prefix}/${hint}_${this.count++}`;
  }

  op(opType: string, inputs: string[], attrs: Record<string, number | number[]> = {}, output = this.name(opType)): string {
    const attribute = Object.entries(attrs).map(([name, v]) =>
      Array.isArray(v)
        ? onnx.AttributeProto.create({ name, type: onnx.AttributeProto.AttributeType.INTS, ints: v })
        : onnx.AttributeProto.create({ name, type: onnx.AttributeProto.AttributeType.INT, i: v }),
    );
    this.nodes.push(onnx.NodeProto.create({ name: `${this.prefix}/node_${this.nodes.length}`, opType, input: inputs, output: [output], attribute }));
    return output;
  }

  ints(values: number[], scalar = false): string {
    const name = this.name('const');
    this.initializers.push(onnx.TensorProto.create({ name, dataType: onnx.TensorProto.DataType.INT64, dims: scalar ? [] : [values.length], int64Data: values }));
    return name;
  }

  float(value: number): string {
    const name = this.name('const');
    this.initializers.push(onnx.TensorProto.create({ name, dataType: onnx.TensorProto.DataType.FLOAT, dims: [], floatData: [value] }));
    return name;
  }

  toFloat(tensor: string): string {
    return this.op('Cast', [tensor], { to: onnx.TensorProto.DataType.FLOAT });
  }

  /** One dimension of a tensor as a 1-D int64 [1]. */
  dim(tensor: string, axis: number): string {
    return this.op('Slice', [this.op('Shape', [tensor]), this.ints([axis]), this.ints([axis + 1])]);
  }

  /** [B, n, heads·d] → [B, heads, n, d]. */
  splitHeads(tensor: string, heads: number): string {
    return this.op('Transpose', [this.op('Reshape', [tensor, this.ints([0, 0, heads, -1])])], { perm: [0, 2, 1, 3] });
  }

  /** Elements [start, end) of `tensor` along `axis`. */
  slice(tensor: string, axis: number, start: number, end: number): string {
    return this.op('Slice', [tensor, this.ints([start]), this.ints([end]), this.ints([axis])]);
  }
}

/** Rotates [1, heads, n, d] by the cos/sin rows at `positions` ([1, n] int64), as GroupQueryAttention's do_rotary does. */
function rotate(b: Builder, x: string, cosCache: string, sinCache: string, positions: string, interleaved: boolean): string {
  const cos = b.toFloat(b.op('Gather', [cosCache, positions])); // [1, n, rot/2]
  const sin = b.toFloat(b.op('Gather', [sinCache, positions]));
  const c = b.op('Unsqueeze', [cos, b.ints([1])]); // [1, 1, n, rot/2]
  const s = b.op('Unsqueeze', [sin, b.ints([1])]);
  // The rotated part is the first 2·(cache width) of each head; the rest passes through.
  const half = b.dim(cosCache, 1);
  const rot = b.op('Mul', [half, b.ints([2])]);
  const big = b.ints([2 ** 31 - 1]);
  const last = b.ints([-1]);
  const part = b.op('Slice', [x, b.ints([0]), rot, last]);
  const rest = b.op('Slice', [x, rot, big, last]);
  // Pairs: (i, i + rot/2) split in halves, or (2i, 2i + 1) interleaved.
  const pairs = b.op('Reshape', [part, b.ints(interleaved ? [0, 0, 0, -1, 2] : [0, 0, 0, 2, -1])]);
  const axis = interleaved ? 4 : 3;
  const x1 = b.op('Gather', [pairs, b.ints([0], true)], { axis });
  const x2 = b.op('Gather', [pairs, b.ints([1], true)], { axis });
  const r1 = b.op('Sub', [b.op('Mul', [x1, c]), b.op('Mul', [x2, s])]);
  const r2 = b.op('Add', [b.op('Mul', [x2, c]), b.op('Mul', [x1, s])]);
  const rotated = interleaved
    ? b.op('Reshape', [b.op('Concat', [b.op('Unsqueeze', [r1, last]), b.op('Unsqueeze', [r2, last])], { axis: -1 }), b.ints([0, 0, 0, -1])])
    : b.op('Concat', [r1, r2], { axis: -1 });
  return b.op('Concat', [rotated, rest], { axis: -1 });
}

interface Projected {
  /** [1, heads, n, d], [1, kvHeads, total, d] (float32), values in the operator's type. */
  q: string;
  k: string;
  v: string;
  /** Positions of the queries before the first one (the past length), int64 [1]. */
  past: string;
  scale: number;
  softcap: number;
  causal: boolean;
  window: number;
}

function concatPast(b: Builder, past: string | undefined, current: string): string {
  return past ? b.op('Concat', [past, current], { axis: 2 }) : current;
}

function gqaInputs(b: Builder, node: GraphNode, heads: number, kvHeads: number): Projected {
  const [query = '', key, value, pastKey, pastValue, seqlens = ''] = node.inputs;
  let q: string;
  let k: string;
  let v: string;
  if (key && value) {
    q = b.splitHeads(query, heads);
    k = b.splitHeads(key, kvHeads);
    v = b.splitHeads(value, kvHeads);
  } else {
    const all = b.op('Transpose', [b.op('Reshape', [query, b.ints([0, 0, heads + 2 * kvHeads, -1])])], { perm: [0, 2, 1, 3] });
    q = b.slice(all, 1, 0, heads);
    k = b.slice(all, 1, heads, heads + kvHeads);
    v = b.slice(all, 1, heads + kvHeads, heads + 2 * kvHeads);
  }
  const n = b.dim(query, 1);
  // The queries' positions: total − n + i, total = seqlens_k + 1 (the first sequence of the batch).
  const total = b.op('Add', [b.op('Cast', [b.slice(seqlens, 0, 0, 1)], { to: onnx.TensorProto.DataType.INT64 }), b.ints([1])]);
  const past = b.op('Sub', [total, n]);
  if (node.attributes['do_rotary']) {
    const cosCache = node.inputs[7] ?? '';
    const sinCache = node.inputs[8] ?? '';
    const given = node.inputs[9];
    const positions = given
      ? b.op('Cast', [given], { to: onnx.TensorProto.DataType.INT64 })
      : b.op('Unsqueeze', [b.op('Add', [b.op('Range', [b.ints([0], true), b.op('Squeeze', [n, b.ints([0])]), b.ints([1], true)]), past]), b.ints([0])]);
    const interleaved = (node.attributes['rotary_interleaved'] ?? 0) !== 0;
    q = rotate(b, b.toFloat(q), cosCache, sinCache, positions, interleaved);
    k = rotate(b, b.toFloat(k), cosCache, sinCache, positions, interleaved);
  }
  return {
    q: b.toFloat(q),
    k: b.toFloat(concatPast(b, pastKey, k)),
    v: concatPast(b, pastValue, v),
    past,
    scale: node.attributes['scale'] ?? 0,
    softcap: node.attributes['softcap'] ?? 0,
    causal: true,
    window: node.attributes['local_window_size'] ?? -1,
  };
}

function mhaInputs(b: Builder, node: GraphNode, heads: number): Projected {
  const [query = '', key = '', value = '', bias, , , pastKey, pastValue] = node.inputs;
  let [q, k, v] = [query, key, value];
  if (bias) {
    // bias [3 · hidden]: the query's, the key's and the value's, added before the heads are split.
    const third = b.op('Div', [b.dim(bias, 0), b.ints([3])]);
    const at = (i: number): string => b.op('Mul', [third, b.ints([i])]);
    const piece = (i: number): string => b.op('Slice', [bias, at(i), at(i + 1), b.ints([0])]);
    [q, k, v] = [b.op('Add', [q, piece(0)]), b.op('Add', [k, piece(1)]), b.op('Add', [v, piece(2)])];
  }
  const kh = concatPast(b, pastKey, b.splitHeads(k, heads));
  return {
    q: b.toFloat(b.splitHeads(q, heads)),
    k: b.toFloat(kh),
    v: concatPast(b, pastValue, b.splitHeads(v, heads)),
    past: b.op('Sub', [b.dim(kh, 2), b.dim(query, 1)]),
    scale: node.attributes['scale'] ?? 0,
    softcap: 0,
    causal: (node.attributes['unidirectional'] ?? 0) !== 0,
    window: -1,
  };
}

/** ONNX's Attention (opset 23) on 3-D Q [B, n, heads·d], K and V [B, t, kvHeads·d], past [B, kvHeads, p, d]. */
function onnxAttentionInputs(b: Builder, node: GraphNode, heads: number, kvHeads: number): Projected {
  const [query = '', key = '', value = '', , pastKey, pastValue] = node.inputs;
  return {
    q: b.toFloat(b.splitHeads(query, heads)),
    k: b.toFloat(concatPast(b, pastKey, b.splitHeads(key, kvHeads))),
    v: concatPast(b, pastValue, b.splitHeads(value, kvHeads)),
    // is_causal aligns the mask to the upper left (query i sees keys j ≤ i), as the operator's definition says.
    past: b.ints([0]),
    scale: node.attributes['scale'] ?? 0,
    softcap: 0,
    causal: (node.attributes['is_causal'] ?? 0) !== 0,
    window: -1,
  };
}

function attentionInputs(b: Builder, node: GraphNode, heads: number): Projected {
  const [input = '', weights = '', bias, , past] = node.inputs;
  let qkv = b.op('MatMul', [input, weights]);
  if (bias) qkv = b.op('Add', [qkv, bias]);
  const all = b.op('Reshape', [qkv, b.ints([0, 0, 3, heads, -1])]); // [B, n, 3, heads, d]
  const part = (i: number): string => b.op('Transpose', [b.op('Squeeze', [b.slice(all, 2, i, i + 1), b.ints([2])])], { perm: [0, 2, 1, 3] });
  const pastPart = (i: number): string | undefined => (past ? b.op('Squeeze', [b.slice(past, 0, i, i + 1), b.ints([0])]) : undefined);
  const k = concatPast(b, pastPart(0), part(1));
  return {
    q: b.toFloat(part(0)),
    k: b.toFloat(k),
    v: concatPast(b, pastPart(1), part(2)),
    past: b.op('Sub', [b.dim(k, 2), b.dim(input, 1)]),
    scale: node.attributes['scale'] ?? 0,
    softcap: 0,
    causal: (node.attributes['unidirectional'] ?? 0) !== 0,
    window: -1,
  };
}

/** Each key/value head repeated for the query heads that share it: [1, kv, t, d] → [1, heads, t, d] (head h reads kv head h / (heads / kv)). */
function repeatHeads(b: Builder, x: string, heads: number, kvHeads: number): string {
  if (heads === kvHeads) return x;
  const grouped = b.op('Expand', [b.op('Unsqueeze', [x, b.ints([2])]), b.ints([1, 1, heads / kvHeads, 1, 1])]);
  const shape = b.op('Concat', [b.ints([1, heads]), b.dim(x, 2), b.dim(x, 3)], { axis: 0 });
  return b.op('Reshape', [grouped, shape]);
}

/** softmax(Q·Kᵀ·scale [softcapped] + mask) as the operator computes it, written to `out`. */
function probabilities(b: Builder, p: Projected, heads: number, kvHeads: number, out: string): void {
  const k = repeatHeads(b, p.k, heads, kvHeads);
  let scores = b.op('MatMul', [p.q, b.op('Transpose', [k], { perm: [0, 1, 3, 2] })]);
  const scale = p.scale !== 0 ? b.float(p.scale) : b.op('Reciprocal', [b.op('Sqrt', [b.toFloat(b.dim(p.q, 3))])]);
  scores = b.op('Mul', [scores, scale]);
  if (p.softcap > 0) {
    const cap = b.float(p.softcap);
    scores = b.op('Mul', [b.op('Tanh', [b.op('Div', [scores, cap])]), cap]);
  }
  if (p.causal) {
    // Query i sits at position past + i and sees keys j ≤ past + i (and, with a window of w, j > past + i − w).
    const zero = b.ints([0], true);
    const one = b.ints([1], true);
    const scalar = (t: string): string => b.op('Squeeze', [t, b.ints([0])]);
    const queries = b.op('Add', [b.op('Range', [zero, scalar(b.dim(p.q, 2)), one]), p.past]);
    const keys = b.op('Range', [zero, scalar(b.dim(k, 2)), one]);
    const q = b.op('Unsqueeze', [queries, b.ints([1])]); // [n, 1]
    const kk = b.op('Unsqueeze', [keys, b.ints([0])]); // [1, t]
    let hidden = b.op('Greater', [kk, q]);
    if (p.window > 0) hidden = b.op('Or', [hidden, b.op('Not', [b.op('Greater', [kk, b.op('Sub', [q, b.ints([p.window], true)])])])]);
    scores = b.op('Where', [hidden, b.float(-Infinity), scores]);
  }
  b.op('Softmax', [scores], { axis: -1 }, out);
}

/**
 * Returns the model with each planned fused operator's probabilities and values computed beside it
 * (nodes inserted right after the operator, reading its inputs). The weights are re-encoded once.
 */
export function addFusedRecompute(bytes: Uint8Array, plan: FusedPlan & { ok: true }, nodes: readonly GraphNode[], file = 'model.onnx'): Uint8Array {
  const model = onnx.ModelProto.decode(bytes);
  const graph = model.graph;
  if (!graph?.node) throw new Error(`${file}: no graph`);
  const initializers = graph.initializer ?? (graph.initializer = []);
  for (const [l, layer] of plan.layers.entries()) {
    const node = nodes.find((n) => n.outputs[0] === layer.output);
    const index = graph.node.findIndex((n) => n.output?.[0] === layer.output);
    if (!node || index < 0) throw new Error(`${file}: no fused attention node produces "${layer.output}"`);
    const b = new Builder(`${PREFIX}/${l}`, initializers);
    const projected =
      node.opType === 'GroupQueryAttention'
        ? gqaInputs(b, node, layer.heads, layer.kvHeads)
        : node.opType === 'MultiHeadAttention'
          ? mhaInputs(b, node, layer.heads)
          : node.domain === 'com.microsoft'
            ? attentionInputs(b, node, layer.heads)
            : onnxAttentionInputs(b, node, layer.heads, layer.kvHeads);
    // The values first: the attention edits go right after the probabilities, and read them.
    b.op('Identity', [projected.v], {}, layer.values);
    probabilities(b, projected, layer.heads, layer.kvHeads, layer.probs);
    graph.node.splice(index + 1, 0, ...b.nodes);
  }
  return onnx.ModelProto.encode(model).finish();
}

/**
 * For the edited run (interventions), on a graph that has the recomputation and the attention edits
 * (`addAttentionEdits` on the recomputed probabilities): each fused operator's output becomes its
 * own output with the switched-off heads' slices zeroed, or, in a layer where a token was taken out
 * of a row, the decomposed form: the edited probabilities times the values, heads merged again.
 */
export function addFusedEdits(bytes: Uint8Array, plan: FusedPlan & { ok: true }, opset: number, file = 'model.onnx'): Uint8Array {
  const model = onnx.ModelProto.decode(bytes);
  const graph = model.graph;
  if (!graph?.node) throw new Error(`${file}: no graph`);
  const initializers = graph.initializer ?? (graph.initializer = []);
  plan.layers.forEach((layer, l) => {
    const fused = graph.node?.find((n) => n.output?.[0] === layer.output);
    const at = graph.node?.findIndex((n) => n.output?.includes(layer.probs)) ?? -1;
    if (!fused?.output || at < 0) throw new Error(`${file}: the recomputed attention of "${layer.output}" is missing`);
    const own = `${layer.output}/ntl_fused_output`;
    fused.output[0] = own;
    const b = new Builder(`${PREFIX}/${l}/edit`, initializers);
    // To the operator's output type (CastLike from opset 15; before it, fused graphs are float32).
    const like = (t: string): string => (opset >= 15 ? b.op('CastLike', [t, own]) : b.toFloat(t));
    const index = b.ints([l], true);
    // Switched-off heads: their slice of the output [B, n, heads · d] is zeroed.
    const gate = b.op('Reshape', [b.op('Gather', [HEAD_GATE_INPUT, index]), b.ints([1, 1, layer.heads, 1])]);
    const perHead = b.op('Reshape', [own, b.ints([0, 0, layer.heads, -1])]);
    const gated = b.op('Reshape', [b.op('Mul', [perHead, like(gate)]), b.ints([0, 0, -1])]);
    // A layer with a token taken out: the edited weights (gates included) times the values.
    const values = b.toFloat(repeatHeads(b, layer.values, layer.heads, layer.kvHeads));
    const weighted = b.op('MatMul', [layer.probs, values]);
    const merged = b.op('Reshape', [b.op('Transpose', [weighted], { perm: [0, 2, 1, 3] }), b.ints([0, 0, -1])]);
    const decomposed = like(merged);
    const keep = b.op('Gather', [KEY_KEEP_INPUT, index]);
    const edited = b.op('Less', [b.op('ReduceMin', [keep], { keepdims: 0 }), b.float(0.5)]);
    b.op('Where', [edited, decomposed, gated], {}, layer.output);
    graph.node?.splice(at + 1, 0, ...b.nodes);
  });
  return onnx.ModelProto.encode(model).finish();
}
