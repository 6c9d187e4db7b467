import { join } from 'node:path';
import { MessageChannel, Worker } from 'node:worker_threads';
import { afterAll, describe, expect, it } from 'vitest';
import type { LoadResult, WorkerResponse } from '../../src/engine/protocol';
import { bundledModels, projectRoot } from './helpers';

describe('the native engine as the desktop app starts it (its utility-process entry)', () => {
  const worker = new Worker(join(projectRoot, 'tests/node/fixtures/utility-process-shim.mjs'), {
    workerData: { entry: join(projectRoot, 'src/main/native-engine/process.ts') },
  });
  const { port1, port2 } = new MessageChannel();
  worker.postMessage({ init: { roots: [{ dir: bundledModels, source: 'bundled' }] }, port: port1 }, [port1]);
  const answers: WorkerResponse[] = [];
  port2.on('message', (m: WorkerResponse) => answers.push(m));
  const answer = async (runId: number): Promise<WorkerResponse> => {
    for (let i = 0; i < 600; i++) {
      const found = answers.find((a) => a.runId === runId && a.type !== 'progress');
      if (found) return found;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`no answer to run ${runId}`);
  };
  afterAll(async () => {
    // The engine answers a load before its warm-up passes: a request after them is answered once they
    // are over, so the thread is not ended while onnxruntime-node runs one (its addon aborts the process).
    port2.postMessage({ runId: 9999, type: 'tokenize', text: 'idle' });
    await answer(9999).catch(() => undefined);
    port2.close();
    await worker.terminate();
  });

  it('loads seed-world on native CPU and answers a forward pass; a request of the wrong shape is dropped unanswered', async () => {
    port2.postMessage({ runId: 'x', type: 'load' });
    port2.postMessage({
      runId: 1,
      type: 'load',
      model: { id: 'seed-world', config: '', tokenizer: '', tokenizerConfig: null, onnx: '', onnxWithPast: null, onnxFile: 'onnx/model.onnx', onnxWithPastFile: null, onnxData: [] },
      backend: 'auto',
      threads: 1,
    });
    const loaded = await answer(1);
    expect(loaded.type).toBe('result');
    expect((loaded as { result: LoadResult }).result).toMatchObject({ modelId: 'seed-world', backend: 'native', threads: 1 });
    port2.postMessage({ runId: 2, type: 'tokenize', text: 'The sun rises in the' });
    const tokens = await answer(2);
    expect(tokens).toMatchObject({ type: 'result', result: { pieces: [{ text: 'The' }, { text: ' sun' }, { text: ' rises' }, { text: ' in' }, { text: ' the' }] } });
    expect(answers.some((a) => (a.runId as unknown) === 'x')).toBe(false);
    // Every field is checked, not only runId and type: ids that are not token ids, a count out of range.
    port2.postMessage({ runId: 3, type: 'forward', ids: ['1', 2] });
    port2.postMessage({ runId: 4, type: 'generate', state: { ids: [1], steps: [], rngState: 1, stopReason: null }, sampling: { strategy: 'greedy' }, count: -5 });
    port2.postMessage({ runId: 5, type: 'forward', ids: [1, 2] });
    expect(await answer(5)).toMatchObject({ type: 'result', result: { ids: [1, 2] } });
    expect(answers.some((a) => a.runId === 3 || a.runId === 4)).toBe(false);
  }, 60_000);
});

describe('the import check as the desktop app runs it (a utility process of its own, not the main process)', () => {
  const check = async (folder: string, shownAs: string): Promise<{ verified?: { worked: string[]; kvCache: boolean }; verifyError?: string }> => {
    const worker = new Worker(join(projectRoot, 'tests/node/fixtures/utility-process-shim.mjs'), {
      workerData: { entry: join(projectRoot, 'src/main/native-engine/process.ts') },
    });
    try {
      const reply = new Promise<{ verified?: { worked: string[]; kvCache: boolean }; verifyError?: string }>((resolve) => worker.once('message', resolve));
      worker.postMessage({ verify: { folder, shownAs, variant: 'fp32' } });
      return await reply;
    } finally {
      await worker.terminate();
    }
  };

  it('runs a model folder once and answers with what worked; a folder that cannot run is named', async () => {
    const ok = await check(join(bundledModels, 'seed-world'), 'My Seed World');
    expect(ok.verified).toMatchObject({ worked: ['attention', 'embeddings', 'residual'], kvCache: true });
    const merged = await check(join(projectRoot, 'tests/fixtures/models/gpt2-optimum-split'), 'split');
    expect(merged.verified).toMatchObject({ kvCache: true });
    const missing = await check(join(projectRoot, 'tests/fixtures/no-such-folder'), 'gone');
    expect(missing.verifyError).toMatch(/^gone.config\.json is missing/);
  }, 60_000);
});

