import type * as EChartsModule from './echarts';

/**
 * ECharts and its chart kinds, loaded when the first chart is drawn or exported rather than with
 * the page: the page's own build (one task on the window's thread) does not parse them, and they
 * are fetched while the model loads.
 */
let loading: Promise<typeof EChartsModule> | null = null;

export function loadECharts(): Promise<typeof EChartsModule> {
  loading ??= import('./echarts');
  return loading;
}
