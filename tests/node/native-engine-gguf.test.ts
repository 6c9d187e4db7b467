import { copyFile, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { MessageChannel, Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CompareStepResult, ForwardPayload, LoadResult, WorkerResponse } from '../../src/engine/protocol';
import { softmax } from '../../src/engine/sampling/distribution';
import { registerGguf } from '../../src/node/gguf-registration';
import { bundledModels, projectRoot, tempDir } from './helpers';

/**
 * A GGUF model in the desktop app's native engine process, through its utility-process entry as the
 * app starts it: registered by path in the user's models folder, loaded by id, then Tokenize,
 * Predict (the forward pass), a 3-column Compare, and the views llama.cpp cannot give refused in words.
 */
const F32 = join(projectRoot, 'tests/fixtures/models/gpt2-gguf-twin/gpt2-gguf-twin-f32.gguf');
const EMPTY_URLS = { config: '', tokenizer: '', tokenizerConfig: null, onnx: '', onnxWithPast: null, onnxFile: '', onnxWithPastFile: null, onnxData: [] };

interface Reference {
  prompts: { prompt: string; ids: number[]; top: { id: number; prob: number }[]; greedy: number[] }[];
}

describe('a GGUF model in the native engine process', () => {
  let worker: Worker;
  const { port1, port2 } = new MessageChannel();
  const answers: WorkerResponse[] = [];
  let id = '';
  let userModels = '';

  beforeAll(async () => {
    userModels = await tempDir('native-gguf');
    id = await registerGguf(userModels, F32, { takenIds: new Set() });
    worker = new Worker(join(projectRoot, 'tests/node/fixtures/utility-process-shim.mjs'), {
      workerData: { entry: join(projectRoot, 'src/main/native-engine/process.ts') },
    });
    worker.postMessage(
      { init: { roots: [{ dir: bundledModels, source: 'bundled' }, { dir: userModels, source: 'user' }] }, port: port1 },
      [port1],
    );
    port2.on('message', (m: WorkerResponse) => answers.push(m));
  });
  afterAll(async () => {
    // The engine answers a load before its warm-up passes: a request after them is answered once they
    // are over, so the thread is not ended while onnxruntime-node runs one (its addon aborts the process).
    await ask({ runId: 9999, type: 'tokenize', text: 'idle' }).catch(() => undefined);
    port2.close();
    await worker.terminate();
  });

  const ask = async (request: Record<string, unknown>): Promise<WorkerResponse> => {
    port2.postMessage(request);
    for (let i = 0; i < 1200; i++) {
      const found = answers.find((a) => a.runId === request['runId'] && a.type !== 'progress');
      if (found) return found;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`no answer to run ${String(request['runId'])}`);
  };
  const result = <T>(answer: WorkerResponse): T => {
    if (answer.type !== 'result') throw new Error(`expected a result, got ${JSON.stringify(answer)}`);
    return answer.result as T;
  };

  it('loads it by id on llama.cpp, tokenizes, predicts as the ONNX twin does, and refuses what llama.cpp does not expose', async () => {
    const loaded = result<LoadResult>(await ask({ runId: 1, type: 'load', model: { id, format: 'gguf', ...EMPTY_URLS }, backend: 'auto', threads: 1 }));
    expect(loaded).toMatchObject({
      modelId: id,
      source: 'gguf',
      backend: 'native',
      threads: 1,
      file: 'gpt2-gguf-twin-f32.gguf',
      precision: 'F32',
      kvCache: true,
      layers: 2,
      heads: 2,
      hidden: 32,
      context: 64,
      vocab: 320,
      capabilities: { attention: false, embeddings: true, residual: false, logitLens: false, interventions: false, fullVocabulary: true, kvCache: true },
    });

    const reference = JSON.parse(await readFile(join(projectRoot, 'tests/fixtures/gpt2-gguf-twin-reference.json'), 'utf8')) as Reference;
    const first = reference.prompts[0]!;
    const tokens = result<{ pieces: { id: number }[] }>(await ask({ runId: 2, type: 'tokenize', text: first.prompt }));
    expect(tokens.pieces.map((p) => p.id)).toEqual(first.ids);

    const forward = result<ForwardPayload>(await ask({ runId: 3, type: 'forward', ids: first.ids }));
    const probs = softmax(forward.lastLogits, 1);
    expect(forward.lastLogits).toHaveLength(320);
    for (const top of first.top.slice(0, 5)) expect(Math.abs((probs[top.id] ?? 0) - top.prob), `token ${top.id}`).toBeLessThan(2e-4);
    expect(forward.topPieces[0]?.id).toBe(first.top[0]?.id);
    expect(forward.attention).toBeNull();
    expect(forward.attentionNote).toBe("llama.cpp's public API does not expose attention weights");
    expect(forward.lensNote).toBe("llama.cpp's public API does not expose per-layer hidden states, which the logit lens reads");
    expect(forward.residual).toBeNull();
    // Token embedding rows from the file's F32 token_embd table, one per position.
    expect(forward.embeddings.dim).toBe(32);
    expect(forward.embeddings.token).toHaveLength(first.ids.length * 32);
    expect(forward.embeddings.position).toBeNull();

    const intervene = await ask({ runId: 4, type: 'intervene', ids: first.ids, edit: { ablateHeads: [{ layer: 0, head: 0 }] } });
    expect(intervene).toEqual({ runId: 4, type: 'error', message: "llama.cpp's public API does not let a forward pass switch off heads or tokens" });
    expect(await ask({ runId: 5, type: 'embedding-neighbours', id: 3, k: 5 })).toEqual({
      runId: 5,
      type: 'error',
      message: 'the nearest-neighbour search (over the whole embedding table) is computed for ONNX models only',
    });
  }, 120_000);

  it('runs a 3-column Compare on one context: greedy as the ONNX twin, seeded columns repeatable', async () => {
    const reference = JSON.parse(await readFile(join(projectRoot, 'tests/fixtures/gpt2-gguf-twin-reference.json'), 'utf8')) as Reference;
    const first = reference.prompts[0]!;
    const start = (seed: number): Record<string, unknown> => ({ ids: first.ids, steps: [], rngState: seed, stopReason: null });
    let items = [
      { state: start(1), sampling: { strategy: 'greedy' } },
      { state: start(7), sampling: { strategy: 'temperature', temperature: 1.2 } },
      { state: start(7), sampling: { strategy: 'top-k', temperature: 1, topK: 5 } },
    ];
    const again: CompareStepResult[][][] = [];
    for (let round = 0; round < 2; round++) {
      let columns = items;
      const steps: CompareStepResult[][] = [];
      for (let step = 0; step < 4; step++) {
        const out = result<CompareStepResult[]>(await ask({ runId: 10 + round * 10 + step, type: 'compare-steps', items: columns }));
        expect(out).toHaveLength(3);
        steps.push(out);
        columns = out.map((o, i) => ({ ...columns[i]!, state: o.state as unknown as Record<string, unknown> }));
      }
      again.push(steps);
      items = items.map((c) => ({ ...c }));
    }
    // The token each step chose is the last step of the column's state.
    const ids = (steps: CompareStepResult[][], column: number): number[] => steps.map((s) => (s[column]?.state.steps.at(-1) as { id: number } | undefined)?.id ?? -1);
    // Greedy: the ONNX twin's (and PyTorch's) greedy continuation.
    expect(ids(again[0]!, 0)).toEqual(first.greedy.slice(0, 4));
    // The same seed and settings give the same tokens the second time, on the same cache.
    expect(ids(again[1]!, 1)).toEqual(ids(again[0]!, 1));
    expect(ids(again[1]!, 2)).toEqual(ids(again[0]!, 2));
    for (const column of [1, 2]) for (const token of ids(again[0]!, column)) expect(token).toBeGreaterThanOrEqual(0);
  }, 120_000);

  it('names the cause when a registered GGUF file is gone, and keeps serving', async () => {
    const copy = join(await tempDir('native-gguf-gone'), 'gone.gguf');
    await copyFile(F32, copy);
    const gone = await registerGguf(userModels, copy, { takenIds: new Set([id]) });
    await rm(copy);
    const answer = await ask({ runId: 40, type: 'load', model: { id: gone, format: 'gguf', ...EMPTY_URLS }, backend: 'auto', threads: 1 });
    expect(answer).toEqual({ runId: 40, type: 'error', message: `${gone}: the GGUF file ${copy} is missing (moved or deleted since it was added)` });
    const onnx = result<LoadResult>(await ask({ runId: 41, type: 'load', model: { id: 'seed-world', ...EMPTY_URLS, onnxFile: 'onnx/model.onnx' }, backend: 'auto', threads: 1 }));
    expect(onnx).toMatchObject({ modelId: 'seed-world', source: 'onnx' });
  }, 120_000);
});
