import DOMPurify from 'dompurify';
import MarkdownIt from 'markdown-it';

/** Markdown without raw HTML; links open nowhere (the app has no browser), so they stay as text-like links. */
const md = new MarkdownIt({ html: false, linkify: true, typographer: true });

/**
 * A note's Markdown as safe HTML: markdown-it renders it (raw HTML in the source is escaped), and
 * DOMPurify removes anything that could run code or load from elsewhere (scripts, event handlers,
 * `javascript:` URLs, remote images).
 */
export function renderNote(markdown: string): string {
  return DOMPurify.sanitize(md.render(markdown), {
    USE_PROFILES: { html: true },
    FORBID_TAGS: ['img', 'style', 'form', 'input', 'iframe'],
    ALLOWED_URI_REGEXP: /^(?:https?:|#)/i,
  });
}
