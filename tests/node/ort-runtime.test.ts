import { describe, expect, it, vi } from 'vitest';

vi.mock('onnxruntime-node', () => {
  throw new Error('libonnxruntime.so.1: cannot open shared object file');
});

describe('loadOrt where onnxruntime-node does not load', () => {
  it('says the native backend is not available and why, and wasm still loads', async () => {
    const { loadOrt } = await import('../../src/node/ort-runtime');
    await expect(loadOrt('native')).rejects.toThrow(/^the native backend is not available: onnxruntime-node could not be loaded on \S+ \(.+\); use --backend wasm$/);
    await expect(loadOrt('webgpu')).rejects.toThrow('the webgpu backend is not available in Node');
    const ort = await loadOrt('wasm');
    expect(typeof ort.InferenceSession.create).toBe('function');
  });
});
