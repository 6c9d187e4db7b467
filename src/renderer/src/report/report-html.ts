/** One section of the report, in notebook order. */
export type ReportSection =
  | { kind: 'note'; /** Already sanitised HTML (markdown-it + DOMPurify). */ html: string }
  | {
      kind: 'cell';
      title: string;
      cellKind: string;
      status: string;
      /** The cell's parameters, each named as its control is, with the value in the UI's words. */
      params: readonly (readonly [label: string, value: string])[];
      /** Text results (a comparison's generated text per column). */
      texts: { label: string; text: string }[];
      charts: { name: string; caption: string; /** Sanitised SVG. */ svg: string }[];
    }
  | { kind: 'unknown'; cellKind: string; json: string; /** Why it is kept as read and not shown (default: a kind from a newer version). */ reason?: string };

export interface ReportInput {
  name: string;
  prompt: string;
  model: { id: string; sha256: string | null; card: Record<string, string | number | null> | null };
  backend: string | null;
  appVersion: string;
  generatedAt: string;
  sections: ReportSection[];
  /** The notebook file, embedded so the report carries the experiment itself. */
  notebookJson: string;
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);
}

function section(s: ReportSection): string {
  if (s.kind === 'note') return `<section class="note">${s.html}</section>`;
  if (s.kind === 'unknown') {
    return `<section class="cell unknown"><h2>Unknown cell: ${escapeHtml(s.cellKind)}</h2><p>${escapeHtml(s.reason ?? 'Kept from a newer version of the app.')}</p><pre>${escapeHtml(s.json)}</pre></section>`;
  }
  const table = s.params.length === 0 ? '<p class="muted">No parameters.</p>' : `<table class="params"><tbody>${s.params.map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`).join('')}</tbody></table>`;
  const texts = s.texts.map((t) => `<p class="output"><span class="muted">${escapeHtml(t.label)}:</span> ${escapeHtml(t.text)}</p>`).join('');
  const charts =
    s.charts.length === 0
      ? s.texts.length > 0
        ? ''
        : `<p class="muted">${s.status === 'done' ? 'No chart.' : `Not run (${escapeHtml(s.status)}) when the report was made.`}</p>`
      : s.charts.map((c) => `<figure data-chart="${escapeHtml(c.name)}">${c.svg}<figcaption>${escapeHtml(c.caption)}</figcaption></figure>`).join('');
  return `<section class="cell" data-kind="${escapeHtml(s.cellKind)}"><h2>${escapeHtml(s.title)}</h2>${table}${texts}${charts}</section>`;
}

const STYLE = `body{font:15px/1.5 system-ui,sans-serif;color:#1d2430;max-width:1000px;margin:0 auto;padding:24px}
h1{margin:0 0 4px}.muted{color:#5b6576}section{border-top:1px solid #d9dee7;padding:12px 0}
table{border-collapse:collapse;margin:6px 0}th,td{text-align:left;padding:2px 10px 2px 0;vertical-align:top}th{color:#5b6576;font-weight:500}
figure{margin:10px 0}figure svg{max-width:100%;height:auto}figcaption{color:#5b6576;font-size:13px}
pre{background:#f5f6f8;padding:8px;overflow:auto;font-size:12px}.output{white-space:pre-wrap}.prompt{white-space:pre-wrap;background:#f5f6f8;padding:8px;border-radius:6px}
details{margin-top:16px}section.note th,section.note td{border:1px solid #d9dee7;padding:3px 8px}`;

/**
 * The whole notebook as one self-contained HTML page: notes, parameters, charts as inline SVG,
 * the model card, versions and the notebook file itself. It loads nothing and runs no script
 * (its Content-Security-Policy forbids both), so it opens offline in any browser.
 */
export function buildReportHtml(input: ReportInput): string {
  const card = input.model.card;
  const cardRows = card ? Object.entries(card).map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(v === null ? '—' : String(v))}</td></tr>`).join('') : '';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="generator" content="Next Token Lab ${escapeHtml(input.appVersion)}">
<title>${escapeHtml(input.name)} — Next Token Lab report</title>
<style>${STYLE}</style>
</head>
<body>
<header>
<h1>${escapeHtml(input.name)}</h1>
<p class="muted">Model <strong>${escapeHtml(input.model.id)}</strong> · backend ${escapeHtml(input.backend ?? 'not run')} · Next Token Lab ${escapeHtml(input.appVersion)} · ${escapeHtml(input.generatedAt)}</p>
<p>Prompt:</p>
<p class="prompt">${escapeHtml(input.prompt)}</p>
</header>
${input.sections.map(section).join('\n')}
<section class="model-card">
<h2>Model card</h2>
<table><tbody><tr><th>id</th><td>${escapeHtml(input.model.id)}</td></tr><tr><th>ONNX SHA-256</th><td>${escapeHtml(input.model.sha256 ?? 'unknown')}</td></tr>${cardRows}</tbody></table>
</section>
<details>
<summary>The notebook file (.ntl.json)</summary>
<pre id="notebook-json">${escapeHtml(input.notebookJson)}</pre>
</details>
</body>
</html>
`;
}
