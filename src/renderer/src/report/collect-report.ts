import { formatNotebook, isComputedCell, isNoteCell } from '../../../common/notebook-format';
import { downloadBlob, optionToSvg, withCaption } from '../components/export';
import { slug } from '../components/csv';
import { fillLiveFields } from '../notes/live-fields';
import { renderMarkdown, sanitizeSvg } from '../notes/markdown';
import type { useNotebookStore } from '../stores/notebook';
import { keptReason } from '../stores/notebook-doc';
import { registeredCharts } from './chart-registry';
import { buildReportHtml, type ReportSection } from './report-html';

type NotebookStore = ReturnType<typeof useNotebookStore>;

/** The report of the notebook as it is on screen: each cell's charts drawn again as SVG. */
export function makeReport(notebook: NotebookStore): string {
  const doc = notebook.toDoc();
  const charts = registeredCharts();
  const sections = doc.cells.map((cell): ReportSection => {
    if (isNoteCell(cell)) return { kind: 'note', html: renderMarkdown(fillLiveFields(cell.text, notebook.noteFields)) };
    const runtime = notebook.cells[cell.id];
    const reason = keptReason(cell, notebook.primary);
    // A cell of an unknown kind, or a second cell of a kind, is kept as read, not shown: reported as read.
    if (reason !== null || !isComputedCell(cell) || !runtime) return { kind: 'unknown', cellKind: cell.kind, json: JSON.stringify(cell, null, 2), ...(isComputedCell(cell) && reason ? { reason } : {}) };
    const root = document.querySelector(`[data-testid="cell-${cell.kind}"]`);
    const inCell = charts.filter((c) => {
      const element = c.element();
      return root !== null && element !== null && root.contains(element);
    });
    return {
      kind: 'cell',
      title: root?.querySelector('h2')?.textContent ?? cell.kind,
      cellKind: cell.kind,
      status: runtime.status,
      params: cell.params,
      charts: inCell.map((c) => ({ name: c.name, caption: c.caption(), svg: sanitizeSvg(optionToSvg(withCaption(c.option(), c.caption()), c.width(), c.height())) })),
    };
  });
  const m = notebook.model;
  const card = m
    ? { name: m.name, description: m.description, type: m.modelType, layers: m.layers, heads: m.heads, 'key/value heads': m.kvHeads, hidden: m.hidden, vocabulary: m.vocab, context: m.context, parameters: m.parameters, precision: m.precision, source: m.source }
    : null;
  return buildReportHtml({
    name: doc.name,
    prompt: doc.prompt,
    model: { id: doc.model.id, sha256: doc.model.sha256, card },
    backend: doc.backend,
    appVersion: doc.appVersion,
    generatedAt: new Date().toISOString(),
    sections,
    notebookJson: formatNotebook(doc),
  });
}

export function downloadReport(notebook: NotebookStore): void {
  const html = makeReport(notebook);
  downloadBlob(`${slug(notebook.notebookName || 'notebook')}-report.html`, new Blob([html], { type: 'text/html' }));
}
