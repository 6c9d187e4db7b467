import DOMPurify from 'dompurify';
import MarkdownIt from 'markdown-it';

// Raw HTML in notes is shown as text; links are checked by markdown-it (no javascript: URLs).
const markdown = new MarkdownIt({ html: false, linkify: true, typographer: false });

/** A note's Markdown as HTML that is safe to insert: rendered by markdown-it, then sanitised by DOMPurify. */
export function renderMarkdown(text: string): string {
  return DOMPurify.sanitize(markdown.render(text), { USE_PROFILES: { html: true }, FORBID_TAGS: ['style', 'form', 'input'], FORBID_ATTR: ['style'] });
}

/** An SVG chart (ECharts' SVG output) cleaned of anything that could run or load: for the HTML report. */
export function sanitizeSvg(svg: string): string {
  return DOMPurify.sanitize(svg, { USE_PROFILES: { svg: true, svgFilters: true } });
}
