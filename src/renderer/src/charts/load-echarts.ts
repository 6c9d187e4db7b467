import type * as Runtime from './echarts-runtime';

/** What the ECharts chunk offers: `init`, the Vue component and the charts' warm-up. */
export type EChartsRuntime = typeof Runtime;

let runtime: Promise<EChartsRuntime> | null = null;

/**
 * ECharts, fetched and run once, in a task of its own: the page starts it after its first mount (the
 * charts' warm-up), and a chart or an export that comes earlier waits for it.
 */
export function loadECharts(): Promise<EChartsRuntime> {
  runtime ??= import('./echarts-runtime');
  return runtime;
}
