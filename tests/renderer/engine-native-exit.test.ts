import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { EngineClient } from '../../src/renderer/src/engine/engine-client';
import type { WorkerRequest, WorkerResponse } from '../../src/renderer/src/engine/protocol';
import { FakeWorker, until as waitFor } from './fake-worker';

/** Waits up to 1 s, as this test always has. */
const until = (condition: () => boolean): Promise<void> => waitFor(condition, 'the condition', 200);

const page = new EventTarget();

/** The preload handing the page a native engine's port (a window message); the test keeps the other end. */
function handOverNativePort(): { requests: WorkerRequest[]; answer(message: WorkerResponse): void } {
  const { port1, port2 } = new MessageChannel();
  const requests: WorkerRequest[] = [];
  port2.onmessage = (event: MessageEvent<WorkerRequest>) => requests.push(event.data);
  page.dispatchEvent(Object.assign(new Event('message'), { data: { ntl: 'native-engine-port' }, ports: [port1], source: page }));
  return { requests, answer: (message) => port2.postMessage(message) };
}

const model = { id: 'seed-world', config: '', tokenizer: '', tokenizerConfig: null, onnx: '', onnxWithPast: null, onnxFile: 'onnx/model.onnx', onnxWithPastFile: null, onnxData: [] };
const loaded = { modelId: 'seed-world', backend: 'native', threads: 1 };

describe('the page’s engine client when the native engine’s process dies', () => {
  beforeEach(() => {
    vi.stubGlobal('Worker', FakeWorker);
    vi.stubGlobal('window', page);
  });
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it('rejects what the native engine was asked with the reason, runs later calls in the page, and takes a new port up again', async () => {
    const client = new EngineClient(true);
    const native = handOverNativePort();
    expect(await client.hasNative()).toBe(true);

    const load = client.call('load', { model, backend: 'auto', threads: 1 });
    await until(() => native.requests.length === 1);
    native.answer({ runId: load.runId, type: 'result', result: loaded } as WorkerResponse);
    expect(await load.result).toMatchObject({ backend: 'native' });

    const forward = client.call('forward', { ids: [1, 2, 3] });
    await until(() => native.requests.length === 2);
    expect(client.nativeStopped('The native engine stopped unexpectedly (exit code 134)')).toBe(true);
    await expect(forward.result).rejects.toThrow('The native engine stopped unexpectedly (exit code 134)');
    expect(await client.hasNative()).toBe(false);

    // The model is loaded again in the page's worker (auto, as no native engine is there now).
    const worker = FakeWorker.last;
    if (!worker) throw new Error('no worker');
    const reload = client.call('load', { model, backend: 'auto', threads: 1 });
    await until(() => worker.posted.length === 1);
    expect(worker.posted[0]).toMatchObject({ type: 'load', backend: 'auto' });
    worker.answer({ runId: reload.runId, type: 'result', result: { ...loaded, backend: 'wasm' } } as WorkerResponse);
    expect(await reload.result).toMatchObject({ backend: 'wasm' });
    client.call('tokenize', { text: 'The sun' });
    await until(() => worker.posted.length === 2);
    expect(native.requests).toHaveLength(2);

    // A restart: the new port is taken up and announced.
    const ready = vi.fn();
    client.onNativeReady = ready;
    handOverNativePort();
    expect(ready).toHaveBeenCalledTimes(1);
    expect(await client.hasNative()).toBe(true);
  });

  it('a load in flight on the native engine falls back to the worker, saying why', async () => {
    const client = new EngineClient(true);
    const native = handOverNativePort();
    const load = client.call('load', { model, backend: 'auto', threads: 1 });
    await until(() => native.requests.length === 1);
    expect(client.nativeStopped('The native engine stopped unexpectedly (exit code 9)')).toBe(false);
    const worker = FakeWorker.last;
    if (!worker) throw new Error('no worker');
    await until(() => worker.posted.length === 1);
    worker.answer({ runId: load.runId, type: 'result', result: { ...loaded, backend: 'wasm', backendNote: null } } as WorkerResponse);
    expect(await load.result).toMatchObject({ backend: 'wasm', backendNote: expect.stringContaining('Native engine not used: The native engine stopped unexpectedly (exit code 9)') });
  });
});
