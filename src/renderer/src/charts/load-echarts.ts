import type * as Runtime from './echarts-runtime';

/** What the ECharts chunk offers: `init`, the Vue component and the charts' warm-up. */
export type EChartsRuntime = typeof Runtime;

let runtime: Promise<EChartsRuntime> | null = null;

/**
 * ECharts, fetched and run once, in a task of its own: the page asks for it in its first task
 * (main.ts), and a chart, an export or the charts' warm-up that comes earlier waits for it.
 */
export function loadECharts(): Promise<EChartsRuntime> {
  runtime ??= import('./echarts-runtime');
  return runtime;
}
