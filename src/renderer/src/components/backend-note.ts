import type { BackendChoice } from '../engine/protocol';

/**
 * How the note about the backend is shown (issue 19, item 9). With the backend on auto, WebAssembly
 * is the normal path where there is no GPU: its "WebGPU not used" note is information, carried by
 * the backend badge. A backend the user chose and did not get, or a native engine that stopped, is a
 * warning above the notebook, which can be closed.
 */
export function backendNoteKind(choice: BackendChoice, note: string | null): 'none' | 'information' | 'warning' {
  if (note === null || note === '') return 'none';
  return choice === 'auto' && note.startsWith('WebGPU not used:') ? 'information' : 'warning';
}
