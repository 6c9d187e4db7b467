import { startEarly } from './start-early';

// The engine and the list of models start while the page's own code (Vue, the cells, ECharts) is
// still being fetched and built: the model loads as soon as the notebook asks for it.
startEarly();
void import('./mount');
