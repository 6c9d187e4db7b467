import { loadECharts } from './charts/load-echarts';
import { startEngine } from './start-engine';

// The engine and the list of models start while the page's own code (zod and the schemas, then Vue
// and the cells, and ECharts) is still being fetched and built: the model loads as soon as the list is
// checked. Each runs in a task of its own, ECharts' as soon as it has come (the shell does not wait
// for it; its warm-up starts once the shell is mounted).
startEngine();
void import('./start-early').then(({ startEarly }) => startEarly());
void import('./mount');
void loadECharts();
