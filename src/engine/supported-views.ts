import { recomputedNote } from './fused-attention';
import type { GraphPlan } from './onnx-graph';

/** The views of a model the notebook's cells show. */
export type ViewName = 'tokens' | 'embeddings' | 'attention' | 'logits' | 'logitLens' | 'residual';

/** Whether a view can be shown for a model; when not, a plain sentence that says why (for the model list and the cells). */
export type ViewSupport = { ok: true; note?: string } | { ok: false; reason: string };

export const VIEW_NAMES: readonly ViewName[] = ['tokens', 'embeddings', 'attention', 'logits', 'logitLens', 'residual'];

function attentionSupport(plan: GraphPlan): ViewSupport {
  const { attention } = plan;
  const hasProbes = plan.probes.some((p) => p.role === 'attention');
  if (!hasProbes) {
    if (plan.fusedAttention.length > 0) {
      const refused = plan.fusedRecompute && !plan.fusedRecompute.ok ? ` and are not recomputed (${plan.fusedRecompute.reason})` : '';
      return {
        ok: false,
        reason: `attention is fused into ${plan.fusedAttention.join(' and ')}; its weights are never materialised${refused}, so they cannot be shown`,
      };
    }
    return { ok: false, reason: 'no Softmax over attention scores (query · key) was found in this graph, so there are no attention weights to show' };
  }
  const notes: string[] = [];
  const recomputed = plan.fusedRecompute?.ok ? plan.fusedRecompute : null;
  if (recomputed) notes.push(recomputedNote(recomputed));
  const { queryWidth: q, keyWidth: k, heads, kvHeads } = attention;
  // The group: from the projection widths (Softmax graphs), or a fused operator's num_heads / kv_num_heads.
  const group = q && k && q > k && q % k === 0 ? q / k : recomputed && heads && kvHeads && heads > kvHeads ? heads / kvHeads : null;
  if (group) notes.push(`grouped-query attention: each key/value head is shared by ${group} query heads; the weights are shown per query head`);
  if (plan.fusedAttention.length > 0 && !recomputed) notes.push(`some layers use fused ${plan.fusedAttention.join(', ')} and are not shown`);
  return notes.length > 0 ? { ok: true, note: notes.join('; ') } : { ok: true };
}

function embeddingSupport(plan: GraphPlan): ViewSupport {
  if (!plan.probes.some((p) => p.role === 'token-embedding')) {
    return { ok: false, reason: 'no token embedding lookup (a Gather on a [vocabulary, hidden] weight indexed by input_ids) was found in this graph' };
  }
  if (plan.positions === 'rotary') {
    return { ok: true, note: 'positions are rotary: they rotate the queries and keys inside attention, so there is no positional embedding added to the tokens' };
  }
  if (plan.positions === 'none') return { ok: true, note: 'no positional embedding was found in this graph; only the token embeddings are shown' };
  return { ok: true };
}

/** For each view, whether this model's graph supports it, and why not when it does not. Pure: reads only the plan. */
export function supportedViews(plan: GraphPlan): Record<ViewName, ViewSupport> {
  const residual: ViewSupport = plan.probes.some((p) => p.role === 'residual')
    ? { ok: true }
    : { ok: false, reason: `the residual stream between blocks could not be located: ${plan.residualNote ?? 'no norm before the blocks was recognised'}` };
  return {
    tokens: { ok: true },
    embeddings: embeddingSupport(plan),
    attention: attentionSupport(plan),
    logits: { ok: true },
    logitLens: 'unavailable' in plan.lens ? { ok: false, reason: `the logit lens cannot be built: ${plan.lens.unavailable}` } : { ok: true },
    residual,
  };
}
