import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { parseNotebook } from '../../src/common/notebook-format';
import { freshPage } from './store-fixtures';

vi.mock('../../src/renderer/src/platform/api', async () => ({ api: (await import('./store-fixtures')).fakeApi }));
// No chart is drawn in this report (no cell has run): the SVG export, which needs a DOM, stands aside.
vi.mock('../../src/renderer/src/components/export', () => ({ downloadBlob: () => undefined, optionToSvg: () => '', withCaption: (o: unknown) => o }));

describe('the HTML report of a notebook with a second cell of a kind', () => {
  beforeEach(() => {
    freshPage();
    vi.stubGlobal('document', { baseURI: 'http://127.0.0.1:5417/', querySelector: () => null });
  });
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it('reports the second cell as kept, with its own parameters, not as a copy of the first one\'s status', async () => {
    const { useNotebookStore } = await import('../../src/renderer/src/stores/notebook');
    const { makeReport } = await import('../../src/renderer/src/report/collect-report');
    const notebook = useNotebookStore();
    const cells = [
      { id: 'tok', kind: 'tokenize', params: {} },
      { id: 'pred-a', kind: 'predict', params: { topK: 2 } },
      { id: 'pred-b', kind: 'predict', params: { topK: 9 } },
    ];
    await notebook.applyDoc(parseNotebook({ format: 'next-token-lab-notebook', version: 3, name: 'two', prompt: 'The sun', model: { id: 'gpt2-hub', sha256: null }, backend: null, appVersion: '0', savedAt: '2026-01-01T00:00:00.000Z', cells }));
    notebook.cells['pred-a'] = { status: 'done', error: null, ms: 1 };
    const html = await makeReport(notebook);
    expect(html.match(/<section class="cell unknown">/g)).toHaveLength(1);
    expect(html).toContain('A second predict cell: this version shows one of each kind.');
    expect(html).toContain('&quot;topK&quot;: 9');
  });
});
