import { formatHook, residualHook, type HookPoint } from '../common/hook-names';
import { type GraphNode, type GraphSummary, type ValueInfo } from './onnx-decode';
import { findAttention, projectionWidths, weightMatrix } from './graph-attention';
import { GraphIndex } from './graph-index';
import { findNorms, nearestNormBefore, type NormSite } from './graph-norms';
import { findPositions, type PositionKind } from './graph-positions';
import { planFusedAttention, type FusedPlan } from './fused-attention';

/**
 * Planning: which inputs a decoder graph takes, where its logits come from, and which of its tensors
 * the engine observes (attention, embeddings, the residual stream), read from its structure alone.
 * Decoding is in onnx-decode.ts, the byte edits in onnx-edit.ts.
 */

export type { PositionKind } from './graph-positions';

/** What a tensor that the engine adds as a graph output stands for. */
export type ProbeRole = 'attention' | 'attention-values' | 'token-embedding' | 'position-embedding' | 'embedding-sum' | 'residual' | 'residual-mid';

export interface Probe {
  role: ProbeRole;
  /** Name of the tensor in the graph. */
  tensor: string;
  /** Node that produces it, for messages and the model view. */
  node: string;
  /** 0-based layer for attention probes, in graph order; for residual probes the block the stream
   * enters (the number of layers for the stream entering the final norm). */
  layer: number;
  /** What it is in the lab's one vocabulary (src/common/hook-names.ts): `blocks.1.attn.hook_pattern`, `hook_embed`, ... */
  hook: string;
}

/** The hook point a probe of `role` at `layer` reads, in a graph of `blocks` blocks. */
export function probeHook(role: ProbeRole, layer: number, blocks: number): HookPoint {
  switch (role) {
    case 'token-embedding':
      return { hook: 'hook_embed' };
    case 'position-embedding':
      return { hook: 'hook_pos_embed' };
    case 'embedding-sum':
      return { hook: 'hook_resid_pre', layer: 0 };
    case 'attention':
      return { hook: 'attn.hook_pattern', layer };
    case 'attention-values':
      return { hook: 'attn.hook_v', layer };
    case 'residual':
      return residualHook(layer, blocks + 1);
    case 'residual-mid':
      return { hook: 'hook_resid_mid', layer };
  }
}

export type GraphInput = ValueInfo;

/** How the graph computes attention, as far as its structure shows. */
export interface AttentionLayout {
  /** A Softmax per layer that the engine observes, fused operators that hide the weights, or nothing recognisable. */
  source: 'softmax' | 'fused' | 'none';
  layers: number;
  /** Output widths of the query and key projections (heads × head size, kv-heads × head size), when readable. */
  queryWidth: number | null;
  keyWidth: number | null;
  /** Head counts read from fused operators' attributes (num_heads, kv_num_heads). */
  heads: number | null;
  kvHeads: number | null;
}

/** A node the backend cannot run, named for error messages. */
export interface OperatorRef {
  opType: string;
  domain: string;
  node: string;
}

/** The parts of an ONNX decoder graph the engine feeds and instruments. */
export interface GraphPlan {
  opset: number;
  inputs: GraphInput[];
  logitsOutput: string;
  probes: Probe[];
  /** Operator types of every node, to name unsupported ones in errors. */
  opTypes: string[];
  /** Fused attention operators (domain-qualified, e.g. "com.microsoft.MultiHeadAttention"): their probabilities are not observable. */
  fusedAttention: string[];
  attention: AttentionLayout;
  /** Fused attention operators' weights recomputed beside them (fused-attention.ts), or why not; null without fused operators. */
  fusedRecompute: FusedPlan | null;
  /** How positions enter: learned embeddings added to the tokens, rotary (applied to queries and keys), or none found. */
  positions: PositionKind;
  /** For rotary positions, the cos and sin tensors, when the graph has them as tensors. */
  rotary: { cos: string; sin: string } | null;
  /** Why the residual stream is not probed, when it is not. */
  residualNote: string | null;
  /** Nodes in operator domains no ONNX Runtime build knows (custom operators), found before any session is tried. */
  unknownOperators: OperatorRef[];
  /** What the logit lens needs: the final norm and the unembedding, or why it cannot be built. */
  lens: LensParams | { unavailable: string };
}

/** The final LayerNorm (or RMSNorm) and the unembedding matrix, read from the graph's weights. */
export interface LensParams {
  norm: 'layer' | 'rms';
  gamma: Float32Array;
  beta: Float32Array | null;
  epsilon: number;
  /** Row-major [hidden][vocab], read from the graph's weights on first use. */
  readonly unembedding: Float32Array;
  bias: Float32Array | null;
  hidden: number;
  vocab: number;
}

/** Initializer types whose values `initializerFloats` reads: float32, float16, bfloat16. */
const FLOAT_TYPES = new Set([1, 10, 16]);

/** Finds the final norm and the unembedding that turn the last residual stream into logits. */
function planLens(ix: GraphIndex, logits: string, finalNorm: NormSite | null): LensParams | { unavailable: string } {
  const graph = ix.graph;
  if (!finalNorm) return { unavailable: 'no final LayerNorm or RMSNorm was found before the logits' };
  let head = ix.producer.get(ix.through(logits, ['Reshape', 'Identity', 'Cast']));
  let biasName: string | null = null;
  if (head?.opType === 'Add') {
    const bias = head.inputs.find((t) => ix.isConstant(t));
    const other = head.inputs.find((t) => !ix.isConstant(t));
    biasName = bias ? ix.through(bias) : null;
    head = ix.producer.get(ix.through(other ?? '', ['Reshape', 'Identity', 'Cast']));
  }
  if (!head) return { unavailable: 'the logits have no producing node' };
  if (head.opType !== 'MatMul' && head.opType !== 'Gemm') return { unavailable: `the logits come from a ${head.opType} operator, not a MatMul or Gemm` };
  if (head.opType === 'Gemm' && head.inputs[2]) biasName = ix.through(head.inputs[2]);
  if (ix.through(head.inputs[0] ?? '', ['Reshape', 'Identity', 'Cast', 'Flatten']) !== finalNorm.output) {
    return { unavailable: 'the logits are not computed straight from the final norm' };
  }
  const w = weightMatrix(ix, head);
  if (!w || !FLOAT_TYPES.has(graph.initializerTypes.get(w.name) ?? 0)) return { unavailable: 'the unembedding matrix is not a float initializer of the graph' };
  const { in: hidden, out: vocab } = w;
  // Read on first use (GPT-2 small's is 154 MB, and its lens is over the budget the app computes it for).
  let unembedding: Float32Array | null = null;
  const readUnembedding = (): Float32Array => {
    if (unembedding) return unembedding;
    const weights = graph.initializerFloats(w.name);
    if (!weights) throw new Error(`the unembedding matrix "${w.name}" could not be read`);
    const table = w.transposed ? new Float32Array(hidden * vocab) : weights;
    if (w.transposed) for (let v = 0; v < vocab; v++) for (let h = 0; h < hidden; h++) table[h * vocab + v] = weights[v * hidden + h] ?? 0;
    unembedding = table;
    return table;
  };
  const gamma = finalNorm.gamma ? graph.initializerFloats(finalNorm.gamma) ?? floats(graph, finalNorm.gamma) : new Float32Array(hidden).fill(1);
  if (!gamma || gamma.length !== hidden) return { unavailable: 'the final norm\'s scale is not a float weight of the expected width' };
  const beta = finalNorm.beta ? graph.initializerFloats(finalNorm.beta) ?? floats(graph, finalNorm.beta) : null;
  if (finalNorm.beta && beta?.length !== hidden) return { unavailable: 'the final norm\'s shift is not a float weight of the expected width' };
  const bias = biasName ? graph.initializerFloats(biasName) ?? floats(graph, biasName) : null;
  return {
    norm: finalNorm.kind,
    gamma,
    beta,
    epsilon: finalNorm.epsilon,
    get unembedding() {
      return readUnembedding();
    },
    bias: bias?.length === vocab ? bias : null,
    hidden,
    vocab,
  };
}

function floats(graph: GraphSummary, name: string): Float32Array | null {
  const values = graph.constantValues(name);
  return values ? Float32Array.from(values) : null;
}

/** Operator domains ONNX Runtime knows; a node in any other needs a custom-operator library the app cannot load. */
const KNOWN_DOMAINS = new Set(['', 'ai.onnx', 'ai.onnx.ml', 'com.microsoft', 'com.microsoft.nchwc', 'com.ms.internal.nhwc', 'com.microsoft.experimental', 'ai.onnx.preview.training']);

/** Query heads and key/value heads: fused operators' attributes first, then the projection widths, then config.json's counts. */
export function headCounts(plan: GraphPlan, config: { heads: number; kvHeads: number }): { heads: number; kvHeads: number } {
  const { attention } = plan;
  const heads = attention.heads ?? config.heads;
  if (attention.kvHeads !== null) return { heads, kvHeads: attention.kvHeads };
  const { queryWidth: q, keyWidth: k } = attention;
  if (q && k && (heads * k) % q === 0 && heads * k >= q) return { heads, kvHeads: (heads * k) / q };
  return { heads, kvHeads: config.kvHeads };
}

/** The MatMul that multiplies attention probabilities by the values (probs · V), through casts and identities. */
export function valueMatMul(ix: GraphIndex, probs: string): GraphNode | null {
  let tensor = probs;
  for (let hop = 0; hop < 4; hop++) {
    const uses = ix.consumers.get(tensor) ?? [];
    const matmul = uses.find((n) => n.opType === 'MatMul' && n.inputs[0] === tensor);
    if (matmul) return matmul;
    const pass = uses.find((n) => n.opType === 'Cast' || n.opType === 'Identity' || n.opType === 'Dropout');
    if (!pass?.outputs[0]) return null;
    tensor = pass.outputs[0];
  }
  return null;
}

/** The ONNX operator sets the engine reads: what torch.onnx and Optimum export today, and opset 23 (ONNX's own Attention operator). */
export const OPSET_RANGE = { min: 13, max: 23 } as const;

/** Finds the inputs, the logits and the tensors worth observing in a decoder graph. */
export function planGraph(graph: GraphSummary, file = 'model.onnx'): GraphPlan {
  const { inputs } = graph;
  if (graph.opset < OPSET_RANGE.min || graph.opset > OPSET_RANGE.max) {
    throw new Error(
      `${file}: ONNX opset ${graph.opset} is outside the range ${OPSET_RANGE.min}–${OPSET_RANGE.max} this app reads; export the model again with an opset_version from ${OPSET_RANGE.min} to ${OPSET_RANGE.max}`,
    );
  }
  if (!inputs.some((i) => i.name === 'input_ids')) {
    throw new Error(`${file}: the graph has no "input_ids" input (inputs: ${inputs.map((i) => i.name).join(', ') || 'none'})`);
  }
  const outputs = graph.outputs.map((o) => o.name);
  const logitsOutput = outputs.includes('logits') ? 'logits' : undefined;
  if (!logitsOutput) {
    throw new Error(`${file}: the graph has no "logits" output (outputs: ${outputs.join(', ') || 'none'})`);
  }
  const ix = new GraphIndex(graph);
  const probes: Omit<Probe, 'hook'>[] = [];
  const probe = (role: ProbeRole, tensor: string | undefined, node: { name: string } | null | undefined, layer: number): void => {
    if (tensor) probes.push({ role, tensor, node: node?.name || tensor, layer });
  };

  const positions = findPositions(ix);
  probe('token-embedding', positions.tokenOutput ?? undefined, positions.token, -1);
  probe('position-embedding', positions.positionOutput ?? undefined, positions.position, -1);
  probe('embedding-sum', positions.sum?.outputs[0], positions.sum, -1);

  const sites = findAttention(ix);
  const observed = sites.filter((s) => s.kind === 'softmax');
  const fusedSites = sites.filter((s) => s.kind === 'fused');
  observed.forEach((s, layer) => probe('attention', s.probs ?? undefined, s.node, layer));
  // The value vectors each layer's weights multiply (probs · V): the weighted sum made concrete.
  const values = observed.map((s) => (s.probs ? valueMatMul(ix, s.probs) : null));
  if (values.every((v) => v !== null)) values.forEach((v, layer) => probe('attention-values', v?.inputs[1], v, layer));
  // Fused operators: their weights recomputed from their own inputs, in the same pass (fused-attention.ts).
  const fusedRecompute = observed.length === 0 && fusedSites.length > 0 ? planFusedAttention(fusedSites.map((s) => s.node)) : null;
  if (fusedRecompute?.ok) {
    fusedRecompute.layers.forEach((l, layer) => probe('attention', l.probs, fusedSites[layer]?.node, layer));
    fusedRecompute.layers.forEach((l, layer) => probe('attention-values', l.values, fusedSites[layer]?.node, layer));
  }
  const firstScores = observed[0]?.scores;
  const widths = firstScores ? projectionWidths(ix, firstScores) : null;
  const fusedNode = fusedSites[0]?.node;
  const attr = (name: string): number | null => {
    const v = fusedNode?.attributes[name];
    return v !== undefined && v > 0 ? v : null;
  };
  const attention: AttentionLayout = {
    source: observed.length > 0 ? 'softmax' : fusedSites.length > 0 ? 'fused' : 'none',
    layers: observed.length > 0 ? observed.length : fusedSites.length,
    queryWidth: widths?.query ?? null,
    keyWidth: widths?.key ?? null,
    heads: attr('num_heads') ?? attr('q_num_heads'),
    kvHeads: attr('kv_num_heads') ?? (fusedNode && attr('num_heads') ? attr('num_heads') : null),
  };

  // The residual stream enters each pre-norm block through the norm that feeds its attention, and the
  // head through the norm that feeds the logits.
  const norms = findNorms(ix);
  const blockSites = observed.length > 0 ? observed : fusedSites;
  const blockNorms = blockSites.map((s) => nearestNormBefore(ix, norms, s.node.inputs));
  const logitsNode = ix.producer.get(logitsOutput);
  const finalNorm = logitsNode ? nearestNormBefore(ix, norms, logitsNode.inputs) : null;
  let residualNote: string | null = null;
  const boundaries = [...blockNorms, finalNorm];
  if (blockSites.length === 0) residualNote = 'no attention layers were recognised, so the blocks and their boundaries are unknown';
  else if (norms.length === 0) residualNote = 'no LayerNorm or RMSNorm (fused or spelled out) was recognised';
  else if (boundaries.some((n) => n === null)) residualNote = 'some blocks have no norm before their attention (not a pre-norm decoder)';
  else if (new Set(boundaries).size !== boundaries.length) residualNote = 'the norms before the blocks could not be told apart';
  else if (boundaries.some((n) => !n?.input)) {
    residualNote = `the norms are fused with the residual addition (${boundaries.find((n) => !n?.input)?.op}), so the stream between blocks is never a tensor`;
  } else {
    boundaries.forEach((n, i) => probe('residual', n?.input ?? undefined, { name: n?.node ?? '' }, i));
    // Inside each block, the stream after the attention's addition enters the block's second norm
    // (before the MLP): the one norm between this block's first norm and the next boundary.
    const mids = blockNorms.map((start, l) => {
      const end = boundaries[l + 1];
      const inside = norms.filter((n) => start && end && n.order > start.order && n.order < end.order);
      return inside.length === 1 && inside[0]?.input ? inside[0] : null;
    });
    if (mids.every((n) => n !== null)) mids.forEach((n, l) => probe('residual-mid', n?.input ?? undefined, { name: n?.node ?? '' }, l));
  }

  const operators = new Map<string, OperatorRef>();
  for (const n of graph.nodes) {
    const domain = n.domain === 'ai.onnx' ? '' : n.domain;
    const key = `${domain}:${n.opType}`;
    if (!operators.has(key)) operators.set(key, { opType: n.opType, domain, node: n.name });
  }
  const qualified = (o: OperatorRef): string => `${o.domain ? `${o.domain}.` : ''}${o.opType}`;
  const opTypes = [...operators.values()].map(qualified).sort();
  const unknownOperators = [...operators.values()].filter((o) => !KNOWN_DOMAINS.has(o.domain) && !graph.functions.has(`${o.domain}:${o.opType}`));
  const fusedAttention = [...new Set(fusedSites.map((s) => qualified({ opType: s.node.opType, domain: s.node.domain, node: '' })))];
  const lens = residualNote === null ? planLens(ix, logitsOutput, finalNorm) : { unavailable: `the residual stream between blocks could not be located: ${residualNote}` };
  return {
    opset: graph.opset,
    inputs,
    logitsOutput,
    probes: probes.map((p) => ({ ...p, hook: formatHook(probeHook(p.role, p.layer, blockSites.length)) })),
    opTypes,
    fusedAttention,
    attention,
    fusedRecompute,
    positions: positions.kind,
    rotary: positions.rotary,
    residualNote,
    unknownOperators,
    lens,
  };
}
