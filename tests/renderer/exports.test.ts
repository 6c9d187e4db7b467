import { describe, expect, it } from 'vitest';
import { csvToRecords, parseCsv, toCsv } from '../../src/renderer/src/components/csv';
import { buildReportHtml } from '../../src/renderer/src/report/report-html';

describe('table exports', () => {
  it('parse back what toCsv writes, quotes and newlines included', () => {
    const rows = [
      [0, 464, 'The'],
      [1, 11, 'say "hi", then\nleave'],
    ];
    expect(parseCsv(toCsv(['position', 'id', 'text'], rows))).toEqual([['position', 'id', 'text'], ...rows.map((r) => r.map(String))]);
  });

  it('become JSON records with numeric columns as numbers and text columns as text', () => {
    const csv = toCsv(['rank', 'token', 'probability'], [[1, '42', 0.5], [2, ' east', 1e-7]]);
    expect(csvToRecords(csv)).toEqual([
      { rank: 1, token: '42', probability: 0.5 },
      { rank: 2, token: ' east', probability: 1e-7 },
    ]);
    expect(csvToRecords('')).toEqual([]);
  });
});

describe('the HTML report', () => {
  const html = buildReportHtml({
    name: 'Sun <test>',
    prompt: 'The sun rises in the "east"',
    model: { id: 'seed-world', sha256: 'ab12', card: { layers: 4, parameters: null } },
    backend: 'wasm',
    appVersion: '0.1.0',
    generatedAt: '2026-11-28T00:00:00.000Z',
    sections: [
      { kind: 'note', html: '<h2>Why</h2>' },
      { kind: 'cell', title: 'Predict', cellKind: 'predict', status: 'done', params: [['Top k', '5']], texts: [], charts: [{ name: 'predict', caption: 'seed-world · "The sun"', svg: '<svg xmlns="http://www.w3.org/2000/svg"></svg>' }] },
      { kind: 'cell', title: 'Sample', cellKind: 'sample', status: 'idle', params: [], texts: [], charts: [] },
      { kind: 'cell', title: 'Compare', cellKind: 'compare', status: 'done', params: [['Column A', 'greedy; seed 42']], texts: [{ label: 'Column A', text: 'The sun <rises>' }], charts: [] },
      { kind: 'unknown', cellKind: 'probe-3d', json: '{"a":"<b>"}' },
    ],
    notebookJson: '{"name": "<x>"}',
  });

  it('is one page that loads and runs nothing', () => {
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).toContain(`content="default-src 'none'; style-src 'unsafe-inline'; img-src data:"`);
    expect(html).not.toMatch(/<script|<link|src="http/);
  });

  it('escapes what the user typed and keeps notes, parameters, charts, model card and the notebook', () => {
    expect(html).toContain('<title>Sun &lt;test&gt; — Next Token Lab report</title>');
    expect(html).toContain('The sun rises in the &quot;east&quot;');
    expect(html).toContain('<section class="note"><h2>Why</h2></section>');
    expect(html).toContain('<tr><th>Top k</th><td>5</td></tr>');
    expect(html).toContain('<p class="output"><span class="muted">Column A:</span> The sun &lt;rises&gt;</p>');
    expect(html).toContain('<figure data-chart="predict"><svg');
    expect(html).toContain('Not run (idle) when the report was made.');
    expect(html).toContain('{&quot;a&quot;:&quot;&lt;b&gt;&quot;}');
    expect(html).toContain('<tr><th>parameters</th><td>—</td></tr>');
    expect(html).toContain('{&quot;name&quot;: &quot;&lt;x&gt;&quot;}');
  });
});
