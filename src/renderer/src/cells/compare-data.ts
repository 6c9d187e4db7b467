import type { StepDetail } from '../../../engine/compare-step';
import type { GenerationState } from '../../../engine/generate';
import { columnMetrics, type ColumnMetrics } from '../../../engine/sampling/metrics';
import type { SamplingStrategy } from '../../../common/sampling-strategy';
import type { TreeNode } from '../charts/options';

/** A column of the Compare cell: its settings and, once stepped, its generation. */
export interface CompareColumn {
  /** Stable id within the comparison (names may repeat or change). */
  key: number;
  name: string;
  strategy: SamplingStrategy;
  seed: number;
  /** The column it was forked from and the 1-based step where it took another token. */
  parent: { key: number; name: string; step: number } | null;
  state: GenerationState | null;
  /** One per generated step. */
  details: StepDetail[];
  /** Engine time spent on this column's steps. */
  elapsedMs: number;
}

export function strategyLabel(s: SamplingStrategy): string {
  switch (s.strategy) {
    case 'greedy':
      return 'greedy';
    case 'temperature':
      return `temperature T ${s.temperature}`;
    case 'top-k':
      return `top-k T ${s.temperature} k ${s.topK}`;
    case 'top-p':
      return `top-p T ${s.temperature} p ${s.topP}`;
  }
}

export function metricsOf(promptIds: readonly number[], column: CompareColumn): ColumnMetrics {
  return columnMetrics(promptIds, column.state?.steps ?? [], column.elapsedMs);
}

interface TrieNode {
  id: number;
  display: string;
  step: number;
  ends: string[];
  children: TrieNode[];
}

/**
 * The comparison as a tree of token sequences: the prompt at the root, one path per column, and a
 * branch wherever two columns (a fork and its parent, say) take different tokens. A node where a
 * column ends carries the column's name.
 */
export function branchTree(promptLabel: string, columns: readonly Pick<CompareColumn, 'name' | 'state'>[]): TreeNode {
  const root: TrieNode = { id: -1, display: promptLabel, step: 0, ends: [], children: [] };
  for (const column of columns) {
    let node = root;
    for (const [i, step] of (column.state?.steps ?? []).entries()) {
      let child = node.children.find((c) => c.id === step.id);
      if (!child) {
        child = { id: step.id, display: step.display, step: i + 1, ends: [], children: [] };
        node.children.push(child);
      }
      node = child;
    }
    node.ends.push(column.name);
  }
  const toTree = (node: TrieNode): TreeNode => ({
    name: node.ends.length > 0 ? `${node.display} · ${node.ends.join(', ')}` : node.display,
    detail: node.step === 0 ? `prompt: ${node.display}` : `step ${node.step}: ${node.display}${node.ends.length > 0 ? ` (end of ${node.ends.join(', ')})` : ''}`,
    children: node.children.map(toTree),
  });
  return toTree(root);
}

export const COMPARE_CSV_HEADER = ['column', 'strategy', 'temperature', 'top_k', 'top_p', 'seed', 'forked_from', 'fork_step', 'step', 'id', 'token', 'probability', 'rank', 'kept', 'entropy_bits'] as const;

/** One CSV row per column and step. */
export function compareCsvRows(columns: readonly CompareColumn[]): (string | number)[][] {
  return columns.flatMap((c) => {
    const s = c.strategy;
    const settings = [strategyLabel(s).split(' ')[0] ?? s.strategy, 'temperature' in s ? s.temperature : '', s.strategy === 'top-k' ? s.topK : '', s.strategy === 'top-p' ? s.topP : '', c.seed, c.parent?.name ?? '', c.parent?.step ?? ''];
    return (c.state?.steps ?? []).map((step, i) => [c.name, ...settings, i + 1, step.id, step.token, step.prob, step.rank, step.kept, step.entropy]);
  });
}

/** The whole comparison as one JSON document: settings, tokens, every step's alternatives, metrics. */
export function compareJson(meta: { model: string; sha256: string | null; prompt: string; promptIds: readonly number[]; appVersion: string }, columns: readonly CompareColumn[]): string {
  const promptText = meta.prompt;
  return JSON.stringify(
    {
      format: 'next-token-lab-comparison',
      version: 1,
      ...meta,
      columns: columns.map((c) => ({
        name: c.name,
        strategy: c.strategy,
        seed: c.seed,
        forkedFrom: c.parent ? { column: c.parent.name, step: c.parent.step } : null,
        text: promptText + (c.state?.steps ?? []).map((s) => s.token).join(''),
        stopReason: c.state?.stopReason ?? null,
        steps: (c.state?.steps ?? []).map((s, i) => ({ ...s, alternatives: c.details[i]?.alternatives ?? [] })),
        metrics: metricsOf(meta.promptIds, c),
      })),
    },
    null,
    2,
  );
}
