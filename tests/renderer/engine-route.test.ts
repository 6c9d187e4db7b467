import { describe, expect, it } from 'vitest';
import { routeFor } from '../../src/renderer/src/engine/engine-client';

describe('which engine a model load goes to', () => {
  it('auto and native go to the desktop app’s native engine when there is one; WebGPU and WASM stay in the page', () => {
    expect(routeFor('auto', true)).toBe('native');
    expect(routeFor('native', true)).toBe('native');
    expect(routeFor('wasm', true)).toBe('worker');
    expect(routeFor('webgpu', true)).toBe('worker');
  });

  it('a GGUF model goes to the native engine whatever the backend chosen; without one, to the worker, which refuses it in words', () => {
    for (const choice of ['auto', 'native', 'wasm', 'webgpu'] as const) {
      expect(routeFor(choice, true, 'gguf')).toBe('native');
      expect(routeFor(choice, false, 'gguf')).toBe('worker');
    }
  });

  it('without a native engine (a browser), everything runs in the page’s worker', () => {
    for (const choice of ['auto', 'native', 'wasm', 'webgpu'] as const) expect(routeFor(choice, false)).toBe('worker');
  });
});
