import { formatNotebook, isComputedCell, isNoteCell } from '../../../common/notebook-format';
import { downloadBlob, optionToSvg, withCaption } from '../components/export';
import { slug } from '../components/csv';
import { fillLiveFields } from '../notes/live-fields';
import { loadMarkdown } from '../notes/use-markdown';
import type { useNotebookStore } from '../stores/notebook';
import { keptReason } from '../stores/notebook-doc';
import type { CellKind } from '../../../common/cells';
import { tokenLabels } from '../cells/labels';
import { useCompareStore } from '../stores/compare';
import { registeredCharts } from './chart-registry';
import { reportCell, type ReportCellKey } from './report-cell';
import { buildReportHtml, type ReportSection } from './report-html';
import { CELL_TITLES, compareRows, contextRows, paramRows, type KindParams, type ParamRow } from './report-params';

type NotebookStore = ReturnType<typeof useNotebookStore>;

/** The parameters the UI edits for the first cell of `kind`, with their kind. */
function kindParams(notebook: NotebookStore, kind: CellKind): KindParams {
  const p = notebook.params;
  switch (kind) {
    case 'tokenize':
      return { kind, params: p.tokenize };
    case 'embed':
      return { kind, params: p.embed };
    case 'attend':
      return { kind, params: p.attend };
    case 'predict':
      return { kind, params: p.predict };
    case 'sample':
      return { kind, params: p.sample };
  }
}

/** A cell's section: its parameters in the UI's words, its text results and its charts, found through the registry. */
async function cellSection(key: ReportCellKey, rows: ParamRow[]): Promise<ReportSection> {
  const info = reportCell(key);
  const { sanitizeSvg } = await loadMarkdown();
  return {
    kind: 'cell',
    title: CELL_TITLES[key],
    cellKind: key,
    status: info?.status() ?? 'not shown',
    params: rows,
    texts: info?.texts?.() ?? [],
    charts: await Promise.all(registeredCharts(key).map(async (c) => ({ name: c.name, caption: c.caption(), svg: sanitizeSvg(await optionToSvg(withCaption(c.option(), c.caption()), c.width(), c.height())) }))),
  };
}

/** The report of the notebook as it is on screen: every cell it shows, Compare and Context too, each chart drawn again as SVG. */
export async function makeReport(notebook: NotebookStore): Promise<string> {
  const doc = notebook.toDoc();
  const compare = useCompareStore();
  const tokens = notebook.tokens ? tokenLabels(notebook.tokens.pieces) : [];
  const { renderMarkdown } = await loadMarkdown();
  const sections = await Promise.all(doc.cells.map(async (cell): Promise<ReportSection> => {
    if (isNoteCell(cell)) return { kind: 'note', html: renderMarkdown(fillLiveFields(cell.text, notebook.noteFields)) };
    const runtime = notebook.cells[cell.id];
    const reason = keptReason(cell, notebook.primary);
    // A cell of an unknown kind, or a second cell of a kind, is kept as read, not shown: reported as read.
    if (reason !== null || !isComputedCell(cell) || !runtime) return { kind: 'unknown', cellKind: cell.kind, json: JSON.stringify(cell, null, 2), ...(isComputedCell(cell) && reason ? { reason } : {}) };
    return cellSection(cell.kind, paramRows(kindParams(notebook, cell.kind), tokens));
  }));
  sections.push(await cellSection('compare', compareRows({ maxTokens: compare.maxTokens, columns: compare.columns })));
  sections.push(await cellSection('context', contextRows(notebook.contextDoc)));
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

export async function downloadReport(notebook: NotebookStore): Promise<void> {
  const html = await makeReport(notebook);
  downloadBlob(`${slug(notebook.notebookName || 'notebook')}-report.html`, new Blob([html], { type: 'text/html' }));
}
