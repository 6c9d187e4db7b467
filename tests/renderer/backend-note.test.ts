import { describe, expect, it } from 'vitest';
import { backendNoteKind } from '../../src/renderer/src/components/backend-note';

describe('the backend note (issue 19, item 9)', () => {
  const noAdapter = 'WebGPU not used: no WebGPU adapter is available; running on WASM.';

  it('is information in the badge when auto falls back to WebAssembly, the normal path without a GPU', () => {
    expect(backendNoteKind('auto', noAdapter)).toBe('information');
  });

  it('is a warning when the backend chosen was not the one used, or the native engine stopped', () => {
    expect(backendNoteKind('webgpu', noAdapter)).toBe('warning');
    expect(backendNoteKind('native', 'Native not used: the native engine runs only in the desktop app; WebGPU not used: no adapter; running on WASM.')).toBe('warning');
    expect(backendNoteKind('auto', 'Native engine not used: The native engine stopped unexpectedly (exit code 9)')).toBe('warning');
  });

  it('is nothing without a note', () => {
    expect(backendNoteKind('wasm', null)).toBe('none');
  });
});
