// ECharts, its registered parts and what draws with them: a chunk of its own, loaded through
// `loadECharts` from the page's first task and run in a task of its own when it comes (issue 18: in
// the page's own chunk its code ran in the start's longest task). Nothing else imports ECharts' code;
// other modules import its types only.
import './echarts';

export { init } from 'echarts/core';
export { default as VChart } from 'vue-echarts';
export { warmUpCharts } from './warm-up';
