import { startEngine } from './start-engine';

// The engine and the list of models start while the page's own code (zod and the schemas, then Vue,
// the cells, ECharts) is still being fetched and built: the model loads as soon as the list is
// checked. Each of the three runs in a task of its own.
startEngine();
void import('./start-early').then(({ startEarly }) => startEarly());
void import('./mount');
