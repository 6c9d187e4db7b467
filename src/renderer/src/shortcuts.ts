import { onBeforeUnmount, onMounted } from 'vue';
import { CELL_KINDS, type CellKind } from '../../common/cells';
import { useNotebookStore } from './stores/notebook';

function isCellKind(kind: string | undefined): kind is CellKind {
  return (CELL_KINDS as readonly string[]).includes(kind ?? '');
}

/** Moves the focus to the cell after `from` (a cell, or the prompt box), as Shift+Enter does. */
function focusNextCell(from: Element | null): void {
  const cells = [...document.querySelectorAll<HTMLElement>('main [data-kind]')];
  const next = from === null ? cells[0] : cells.find((c) => from.compareDocumentPosition(c) & Node.DOCUMENT_POSITION_FOLLOWING && !from.contains(c));
  if (!next) return;
  next.focus({ preventScroll: true });
  next.scrollIntoView({ block: 'nearest' });
}

/**
 * Keyboard shortcuts: Ctrl/Cmd+S saves, Ctrl/Cmd+Shift+S saves as; Ctrl/Cmd+Enter runs the cell
 * that has the focus (in the prompt: every cell); Shift+Enter runs it and moves to the next cell
 * (in the prompt: every cell, then the first cell has the focus).
 */
export function useShortcuts(actions: { save(): void; saveAs(): void }): void {
  const store = useNotebookStore();

  function onKeyDown(event: KeyboardEvent): void {
    const mod = event.ctrlKey || event.metaKey;
    if (mod && !event.altKey && event.key.toLowerCase() === 's') {
      event.preventDefault();
      if (event.shiftKey) actions.saveAs();
      else actions.save();
      return;
    }
    if (event.key !== 'Enter' || event.altKey) return;
    const isRun = mod && !event.shiftKey;
    const isRunAndMove = event.shiftKey && !mod;
    if (!isRun && !isRunAndMove) return;
    const target = event.target instanceof Element ? event.target : null;
    if (target === null) return;
    if (target.closest('.prompt-box')) {
      event.preventDefault();
      // The prompt feeds every cell: both run them all (issue 19: running only Tokenize left the rest out of date).
      void store.runAll();
      if (isRunAndMove) focusNextCell(target.closest('.prompt-box'));
      return;
    }
    const cell = target.closest<HTMLElement>('[data-kind]');
    if (!cell) return;
    const kind = cell.dataset['kind'];
    if (isCellKind(kind)) {
      event.preventDefault();
      void store.runCell(kind);
    }
    // A note finishes its editing itself; Shift+Enter then moves on.
    if (isRunAndMove) focusNextCell(cell);
  }

  onMounted(() => window.addEventListener('keydown', onKeyDown));
  onBeforeUnmount(() => window.removeEventListener('keydown', onKeyDown));
}
