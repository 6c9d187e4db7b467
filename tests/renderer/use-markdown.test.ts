import { describe, expect, it, vi } from 'vitest';
import { nextTick, ref } from 'vue';

// The Markdown chunk stands in with a renderer that shows what it was given and counts its loads:
// what is checked is when the page fetches that chunk and that a note's text reaches it.
const loads = vi.hoisted(() => ({ count: 0 }));
vi.mock('../../src/renderer/src/notes/markdown', () => {
  loads.count++;
  return { renderMarkdown: (text: string) => `<p>${text}</p>`, sanitizeSvg: (svg: string) => svg };
});

const { useRenderedMarkdown } = await import('../../src/renderer/src/notes/use-markdown');

/** Lets the chunk's import and the watchers settle. */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await nextTick();
  await new Promise((resolve) => setTimeout(resolve, 0));
}

describe('notes rendered through the Markdown chunk (issue 18: not part of the start)', () => {
  it('fetches the chunk only once there is text to show, then renders it, and follows the text', async () => {
    const text = ref<string | null>(null);
    const html = useRenderedMarkdown(() => text.value);
    await settle();
    expect(html.value).toBe('');
    expect(loads.count).toBe(0);

    text.value = '**east**';
    expect(html.value).toBe('');
    await settle();
    expect(loads.count).toBe(1);
    expect(html.value).toBe('<p>**east**</p>');

    text.value = 'west';
    expect(html.value).toBe('<p>west</p>');
    text.value = null;
    expect(html.value).toBe('');
  });

  it('renders at once where the chunk has come before (a note mounted later)', () => {
    const html = useRenderedMarkdown(() => 'a note');
    expect(html.value).toBe('<p>a note</p>');
    expect(loads.count).toBe(1);
  });
});
