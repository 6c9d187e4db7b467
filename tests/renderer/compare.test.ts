import { describe, expect, it } from 'vitest';
import type { GenerationState } from '../../src/engine/generate';
import { barsOption, lineOption, SERIES, treeOption, CUT } from '../../src/renderer/src/charts/options';
import { branchTree, COMPARE_CSV_HEADER, compareCsvRows, compareJson, type CompareColumn } from '../../src/renderer/src/cells/compare-data';

const state = (ids: number[]): GenerationState => ({
  ids: [1, ...ids],
  steps: ids.map((id) => ({ id, token: ` w${id}`, display: `w${id}`, prob: 0.5, rank: 1, kept: 2, entropy: 1 })),
  rngState: 0,
  stopReason: null,
});
const column = (key: number, name: string, ids: number[], parent: CompareColumn['parent'] = null): CompareColumn => ({
  key,
  name,
  strategy: key === 1 ? { strategy: 'greedy' } : { strategy: 'top-k', temperature: 0.8, topK: 5 },
  seed: 42,
  parent,
  state: state(ids),
  details: [],
  elapsedMs: 100,
});

describe('the comparison tree', () => {
  it('shares the common prefix and branches where a fork took another token', () => {
    const tree = branchTree('The cat', [column(1, 'A', [5, 6, 7]), column(2, 'B', [9]), column(3, 'C', [5, 8], { key: 1, name: 'A', step: 2 })]);
    expect(tree.name).toBe('The cat');
    expect(tree.children.map((c) => c.name)).toEqual(['w5', 'w9 · B']);
    const w5 = tree.children[0];
    expect(w5?.children.map((c) => c.name)).toEqual(['w6', 'w8 · C']);
    expect(w5?.children[0]?.children.map((c) => c.name)).toEqual(['w7 · A']);
    expect(w5?.children[1]?.detail).toBe('step 2: w8 (end of C)');
  });

  it('names two columns that took the same path at their common end', () => {
    const tree = branchTree('p', [column(1, 'A', [5]), column(2, 'B', [5])]);
    expect(tree.children).toHaveLength(1);
    expect(tree.children[0]?.name).toBe('w5 · A, B');
  });

  it('becomes a left-to-right, fully open ECharts tree', () => {
    const option = treeOption({ title: 't', root: branchTree('p', [column(1, 'A', [5])]) }) as { series: { type: string; orient: string; initialTreeDepth: number; data: { name: string; children: { name: string }[] }[] }[] };
    expect(option.series[0]).toMatchObject({ type: 'tree', orient: 'LR', initialTreeDepth: -1 });
    expect(option.series[0]?.data[0]?.children[0]?.name).toBe('w5 · A');
  });
});

describe('comparison exports', () => {
  it('writes one CSV row per column and step with the settings and the fork', () => {
    const rows = compareCsvRows([column(1, 'A', [5, 6]), column(3, 'C', [5], { key: 1, name: 'A', step: 1 })]);
    expect(rows).toHaveLength(3);
    expect(rows[0]).toHaveLength(COMPARE_CSV_HEADER.length);
    expect(rows[0]).toEqual(['A', 'greedy', '', '', '', 42, '', '', 1, 5, ' w5', 0.5, 1, 2, 1]);
    expect(rows[2]).toEqual(['C', 'top-k', 0.8, 5, '', 42, 'A', 1, 1, 5, ' w5', 0.5, 1, 2, 1]);
  });

  it('writes the JSON document with text, fork and metrics', () => {
    const doc = JSON.parse(compareJson({ model: 'm', sha256: null, prompt: 'P', promptIds: [1], appVersion: '0' }, [column(1, 'A', [5, 6])])) as {
      format: string;
      columns: { text: string; forkedFrom: unknown; metrics: { tokens: number; perplexity: number; tokensPerSecond: number } }[];
    };
    expect(doc.format).toBe('next-token-lab-comparison');
    expect(doc.columns[0]?.text).toBe('P w5 w6');
    expect(doc.columns[0]?.forkedFrom).toBeNull();
    expect(doc.columns[0]?.metrics.tokens).toBe(2);
    expect(doc.columns[0]?.metrics.perplexity).toBeCloseTo(2, 10);
    expect(doc.columns[0]?.metrics.tokensPerSecond).toBeCloseTo(20, 10);
  });
});

describe('chart options for the comparison', () => {
  it('draws one coloured line per column with a legend, gaps for shorter columns', () => {
    const option = lineOption({ title: 't', labels: ['1', '2'], series: [{ name: 'A', values: [1, 2] }, { name: 'B', values: [3, null] }], xName: 'step', yName: 'bits' }) as {
      legend: { data: string[] };
      series: { name: string; data: (number | null)[]; lineStyle: { color: string } }[];
    };
    expect(option.legend.data).toEqual(['A', 'B']);
    expect(option.series.map((s) => s.lineStyle.color)).toEqual([SERIES[0], SERIES[1]]);
    expect(option.series[1]?.data).toEqual([3, null]);
  });

  it('keeps a single line legend-free', () => {
    const option = lineOption({ title: 't', labels: ['1'], series: [{ name: 'A', values: [1] }], xName: 'x', yName: 'y' });
    expect(option['legend']).toBeUndefined();
  });

  it('greys the bars of cut tokens and highlights the chosen one', () => {
    const option = barsOption({ title: 't', labels: ['a', 'b', 'c'], values: [0.5, 0.3, 0.2], cut: [false, false, true], highlight: 1, xName: 'p' }) as { series: { data: { itemStyle: { color: string } }[] }[] };
    const colours = option.series[0]?.data.map((d) => d.itemStyle.color) ?? [];
    expect(colours[2]).toBe(CUT);
    expect(colours[0]).not.toBe(CUT);
    expect(colours[1]).not.toBe(colours[0]);
  });
});
