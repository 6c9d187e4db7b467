import { computed, shallowRef, watch, type ComputedRef } from 'vue';
import type * as Markdown from './markdown';

/** What the Markdown chunk offers: notes rendered and sanitised, SVG sanitised. */
export type MarkdownModule = typeof Markdown;

let loading: Promise<MarkdownModule> | null = null;
/** The module once it has come: later notes render in the same task they are mounted in. */
let loaded: MarkdownModule | null = null;

/**
 * markdown-it, linkify-it and DOMPurify: a chunk of their own (about 130 kB, a third of the page's
 * own chunk), fetched and run the first time a note, a document or the report needs them, so the
 * start never runs their code (issue 18: the page's chunk was one of the start's tasks over 50 ms).
 */
export function loadMarkdown(): Promise<MarkdownModule> {
  loading ??= import('./markdown').then((module) => (loaded = module));
  return loading;
}

/**
 * `text()` rendered as a note is (`renderMarkdown`): empty until the Markdown chunk has come, and
 * while `text()` is null (nothing to show yet).
 */
export function useRenderedMarkdown(text: () => string | null): ComputedRef<string> {
  const render = shallowRef(loaded?.renderMarkdown ?? null);
  watch(
    () => text() !== null && !render.value,
    (isNeeded) => {
      if (isNeeded) void loadMarkdown().then((m) => (render.value = m.renderMarkdown));
    },
    { immediate: true },
  );
  return computed(() => {
    const source = text();
    return source === null || !render.value ? '' : render.value(source);
  });
}
