import { MessageChannel } from 'node:worker_threads';
import { afterAll, describe, expect, it } from 'vitest';
import type { ForwardPayload, LoadResult, TokenizeResult, WorkerRequest, WorkerResponse } from '../../src/engine/protocol';
import { serveNativeEngine } from '../../src/main/native-engine/host';
import { bundledModels } from './helpers';

const PROMPT = 'The sun rises in the';

/** A client for the native engine over a real message channel, as the window speaks to it. */
function connect(): { call(request: Omit<WorkerRequest, 'runId'>): Promise<unknown>; close(): void } {
  const { port1, port2 } = new MessageChannel();
  serveNativeEngine(
    { onMessage: (listener) => port1.on('message', (m: WorkerRequest) => listener(m)), post: (m) => port1.postMessage(m) },
    [{ dir: bundledModels, source: 'bundled' }],
  );
  const pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  port2.on('message', (m: WorkerResponse) => {
    const p = pending.get(m.runId);
    if (!p || m.type === 'progress') return;
    pending.delete(m.runId);
    if (m.type === 'error') p.reject(new Error(m.message));
    else p.resolve(m.result);
  });
  let runId = 1;
  return {
    call: (request) =>
      new Promise((resolve, reject) => {
        const id = runId++;
        pending.set(id, { resolve, reject });
        port2.postMessage({ ...request, runId: id });
      }),
    close: () => {
      port1.close();
      port2.close();
    },
  };
}

const urls = (id: string) => ({ id, config: '', tokenizer: '', tokenizerConfig: null, onnx: '', onnxWithPast: null, onnxData: [] });

describe('the native engine (the desktop app\'s engine process, on onnxruntime-node)', () => {
  const client = connect();
  afterAll(() => client.close());

  it('loads a model by id, on native CPU, and gives the logits and attention of the wasm engine', async () => {
    const loaded = (await client.call({ type: 'load', model: urls('seed-world'), backend: 'auto', threads: 2 } as Omit<WorkerRequest, 'runId'>)) as LoadResult;
    expect(loaded).toMatchObject({ modelId: 'seed-world', backend: 'native', threads: 2, layers: 3, heads: 4, kvCache: true });
    const tokens = (await client.call({ type: 'tokenize', text: PROMPT } as Omit<WorkerRequest, 'runId'>)) as TokenizeResult;
    expect(tokens.pieces.map((p) => p.text).join('')).toBe(PROMPT);
    const forward = (await client.call({ type: 'forward', ids: tokens.pieces.map((p) => p.id) } as Omit<WorkerRequest, 'runId'>)) as ForwardPayload;
    const top = forward.topPieces[0];
    expect(top?.text).toBe(' east');
    // The same pass on onnxruntime-web's wasm, in this process.
    const { loadBundled } = await import('../engine/load-model');
    const wasm = await loadBundled();
    try {
      const reference = await wasm.forward(tokens.pieces.map((p) => p.id));
      const diff = Math.max(...Array.from(forward.lastLogits, (v, i) => Math.abs(v - (reference.lastLogits[i] ?? 0))));
      expect(diff).toBeLessThan(1e-4);
      for (let l = 0; l < 3; l++) {
        const a = forward.attention?.data[l] ?? new Float32Array();
        const b = reference.attention?.data[l] ?? new Float32Array();
        expect(Math.max(...Array.from(a, (v, i) => Math.abs(v - (b[i] ?? 0))))).toBeLessThan(1e-4);
      }
    } finally {
      await wasm.release();
    }
  });

  it('reads only models the registry lists by id: a path or an unknown id is refused', async () => {
    await expect(client.call({ type: 'load', model: urls('../../etc'), backend: 'auto', threads: 1 } as Omit<WorkerRequest, 'runId'>)).rejects.toThrow(
      '../../etc: no model of that id in the models folders',
    );
    await expect(client.call({ type: 'load', model: urls('no-such-model'), backend: 'auto', threads: 1 } as Omit<WorkerRequest, 'runId'>)).rejects.toThrow(
      'no-such-model: no model of that id',
    );
  });
});
