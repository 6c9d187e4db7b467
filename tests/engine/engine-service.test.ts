import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-web';
import { afterAll, describe, expect, it } from 'vitest';
import { EngineService, type EngineHost } from '../../src/engine/engine-service';
import type { ModelUrls, WorkerRequest, WorkerResponse } from '../../src/engine/protocol';
import { OnnxModel } from '../../src/engine/session';
import { SEED_WORLD } from './load-model';
import { GGUF_BROWSER_NOTE } from '../../src/common/gguf-notes';
import { ortWithoutEmptyPast } from './no-empty-past';
import { maxAbsDiff } from './reference-checks';

const json = (file: string): unknown => JSON.parse(readFileSync(join(SEED_WORLD, file), 'utf8'));

/** The page worker's host, with the files read from disk instead of fetched. */
const host: EngineHost = {
  readModel: async (urls) => ({
    id: urls.id,
    config: json('config.json'),
    tokenizer: json('tokenizer.json'),
    tokenizerConfig: json('tokenizer_config.json'),
    onnx: new Uint8Array(readFileSync(join(SEED_WORLD, 'onnx/model.onnx'))),
    onnxWithPast: new Uint8Array(readFileSync(join(SEED_WORLD, 'onnx/decoder_with_past.onnx'))),
  }),
  backends: async () => ({ attempts: [{ backend: 'wasm', ort: async () => ort, threads: 1 }], note: null }),
  now: () => performance.now(),
};

const urls: ModelUrls = { id: 'seed-world', config: '', tokenizer: '', tokenizerConfig: null, onnx: '', onnxWithPast: null, onnxFile: 'onnx/model.onnx', onnxWithPastFile: null, onnxData: [] };

const services: EngineService[] = [];
afterAll(async () => {
  for (const s of services) await s.release();
});

/** Sends requests as a host does (without waiting for answers) and collects the answers by run id. */
function client(): { service: EngineService; send(request: WorkerRequest): Promise<void>; answers: Map<number, WorkerResponse[]> } {
  const service = new EngineService(host);
  services.push(service);
  const answers = new Map<number, WorkerResponse[]>();
  return {
    service,
    answers,
    send: (request) => service.submit(request, (m) => answers.set(m.runId, [...(answers.get(m.runId) ?? []), m])),
  };
}

const final = (answers: Map<number, WorkerResponse[]>, runId: number): WorkerResponse | undefined => answers.get(runId)?.findLast((m) => m.type !== 'progress');

describe('EngineService: one request queue for every host', () => {
  it('answers a forward pass sent right after the load, without waiting, with the loaded model', async () => {
    const { send, answers } = client();
    const load = send({ runId: 1, type: 'load', model: urls, backend: 'wasm', threads: 1 });
    const forward = send({ runId: 2, type: 'forward', ids: [1, 2, 3] });
    await Promise.all([load, forward]);
    expect(final(answers, 1)).toMatchObject({
      type: 'result',
      result: {
        source: 'onnx',
        capabilities: { attention: true, embeddings: true, residual: true, logitLens: true, interventions: true, fullVocabulary: true, kvCache: true },
      },
    });
    // What the engine reads out of the model, named as TransformerLens names it, in the order it is computed.
    const block = (l: number): string[] => [`blocks.${l}.attn.hook_v`, `blocks.${l}.attn.hook_pattern`, `blocks.${l}.hook_resid_mid`, `blocks.${l}.hook_resid_post`];
    expect((final(answers, 1) as { result: { hooks: string[] } }).result.hooks).toEqual([
      'hook_embed',
      'hook_pos_embed',
      'blocks.0.hook_resid_pre',
      ...block(0),
      ...block(1),
      ...block(2),
      'unembed.hook_out',
    ]);
    expect(final(answers, 2)).toMatchObject({ type: 'result', result: { ids: [1, 2, 3] } });
  });

  it("refuses a GGUF model where the host has no engine for it (the page's worker), in words, and keeps its model", async () => {
    const { send, answers } = client();
    await send({ runId: 1, type: 'load', model: urls, backend: 'wasm', threads: 1 });
    await send({ runId: 2, type: 'load', model: { ...urls, id: 'some-gguf', format: 'gguf' }, backend: 'auto', threads: 1 });
    expect(final(answers, 2)).toEqual({ runId: 2, type: 'error', message: GGUF_BROWSER_NOTE });
    await send({ runId: 3, type: 'forward', ids: [1, 2] });
    expect(final(answers, 3)).toMatchObject({ type: 'result', result: { ids: [1, 2] } });
  });

  it('never runs two passes on one session at once', async () => {
    const { send } = client();
    await send({ runId: 1, type: 'load', model: urls, backend: 'wasm', threads: 1 });
    const original = OnnxModel.prototype.forward;
    let inFlight = 0;
    let most = 0;
    OnnxModel.prototype.forward = async function (this: OnnxModel, ...args: Parameters<OnnxModel['forward']>) {
      inFlight++;
      most = Math.max(most, inFlight);
      try {
        return await original.apply(this, args);
      } finally {
        inFlight--;
      }
    };
    try {
      await Promise.all([2, 3, 4, 5].map((runId) => send({ runId, type: 'forward', ids: [runId, 7, 9] })));
    } finally {
      OnnxModel.prototype.forward = original;
    }
    expect(most).toBe(1);
  });

  it("answers the load before its warm-up pass, and runs the next request after that pass", async () => {
    const events: string[] = [];
    const service = new EngineService(host);
    services.push(service);
    const original = OnnxModel.prototype.forward;
    OnnxModel.prototype.forward = async function (this: OnnxModel, ...args: Parameters<OnnxModel['forward']>) {
      events.push(`pass ${args[0].join(',')} begins`);
      try {
        return await original.apply(this, args);
      } finally {
        events.push(`pass ${args[0].join(',')} ends`);
      }
    };
    try {
      const load = service.submit({ runId: 1, type: 'load', model: urls, backend: 'wasm', threads: 1 }, (m) => events.push(`load ${m.type}`));
      const forward = service.submit({ runId: 2, type: 'forward', ids: [5, 6] }, (m) => events.push(`forward ${m.type}`));
      await Promise.all([load, forward]);
    } finally {
      OnnxModel.prototype.forward = original;
    }
    expect(events).toEqual(['load result', 'pass 0 begins', 'pass 0 ends', 'pass 5,6 begins', 'pass 5,6 ends', 'forward result']);
  });

  it('loads a model again a session per file when its one session cannot run an empty past: after the answer, before the next request, and says so', async () => {
    const refusing: EngineHost = { ...host, backends: async () => ({ attempts: [{ backend: 'wasm', ort: async () => ortWithoutEmptyPast, threads: 1 }], note: null }) };
    const service = new EngineService(refusing);
    services.push(service);
    const events: WorkerResponse[] = [];
    const load = service.submit({ runId: 1, type: 'load', model: urls, backend: 'wasm', threads: 1 }, (m) => events.push(m));
    const forward = service.submit({ runId: 2, type: 'forward', ids: [5, 6, 7] }, (m) => events.push(m));
    await Promise.all([load, forward]);
    expect(events.map((m) => `${m.runId} ${m.type}`)).toEqual(['1 result', '1 model-changed', '2 result']);
    // The answer said one session; the change says why there are two, and which file runs now.
    expect(events[0]).toMatchObject({ result: { weightsNote: null, file: 'seed-world/onnx/decoder_with_past.onnx' } });
    const reason = 'seed-world/onnx/decoder_with_past.onnx could not run in place of seed-world/onnx/model.onnx: zero-length tensor';
    expect(events[1]).toMatchObject({
      modelId: 'seed-world',
      message: null,
      result: { weightsNote: `the weights are held twice (one session per file): ${reason}`, file: 'seed-world/onnx/model.onnx', kvCache: true },
    });
    // The forward ran on model.onnx, with the numbers of the one session where it runs (equal bit for bit: shared-weights.test.ts).
    const { send, answers } = client();
    await send({ runId: 1, type: 'load', model: urls, backend: 'wasm', threads: 1 });
    await send({ runId: 2, type: 'forward', ids: [5, 6, 7] });
    const expected = (final(answers, 2) as { result: { lastLogits: Float32Array } }).result.lastLogits;
    expect(maxAbsDiff((events[2] as { result: { lastLogits: Float32Array } }).result.lastLogits, expected)).toBe(0);
  });

  it('says nothing more after the answer when the one session runs an empty past', async () => {
    const { send, answers } = client();
    await send({ runId: 1, type: 'load', model: urls, backend: 'wasm', threads: 1 });
    expect(answers.get(1)?.map((m) => m.type)).toEqual(['result']);
    expect(final(answers, 1)).toMatchObject({ result: { weightsNote: null, file: 'seed-world/onnx/decoder_with_past.onnx' } });
  });

  it('cancels a queued generation, and forgets a cancel that comes after its run has ended', async () => {
    const { service, send, answers } = client();
    await send({ runId: 1, type: 'load', model: urls, backend: 'wasm', threads: 1 });
    const state = { ids: [1, 2, 3], steps: [], rngState: 1, stopReason: null };
    const generate = send({ runId: 2, type: 'generate', state, sampling: { strategy: 'greedy' }, count: 20 });
    void send({ runId: 2, type: 'cancel', target: 2 } as WorkerRequest);
    await generate;
    expect(final(answers, 2)).toMatchObject({ type: 'result', result: { stopReason: 'cancelled' } });
    await send({ runId: 3, type: 'cancel', target: 2 } as WorkerRequest);
    await send({ runId: 4, type: 'cancel', target: 99 } as WorkerRequest);
    expect(service.pendingCancels).toBe(0);
  });
});

describe('EngineService: prompt surprisal for the page', () => {
  it('each prompt token\'s probability and whole-vocabulary rank equal to the last-position softmax of each prefix', async () => {
    const { send, answers } = client();
    await send({ runId: 1, type: 'load', model: urls, backend: 'wasm', threads: 1 });
    const ids = [5, 17, 42, 9];
    await send({ runId: 2, type: 'surprisal', ids, k: 3 });
    const answer = final(answers, 2);
    if (answer?.type !== 'result') throw new Error(`no result: ${JSON.stringify(answer)}`);
    const { rows } = answer.result as { rows: { prob: number | null; rank: number | null; expected: { id: number; prob: number }[] | null }[] };
    expect(rows).toHaveLength(4);
    expect(rows[0]).toMatchObject({ prob: null, rank: null, expected: null });
    // Independently: a forward pass of each prefix, its last position's distribution.
    for (let i = 1; i < ids.length; i++) {
      await send({ runId: 10 + i, type: 'forward', ids: ids.slice(0, i) });
      const forward = final(answers, 10 + i);
      if (forward?.type !== 'result') throw new Error('no forward');
      const logits = (forward.result as { lastLogits: Float32Array }).lastLogits;
      const max = Math.max(...logits);
      const exp = Array.from(logits, (v) => Math.exp(v - max));
      const sum = exp.reduce((a, b) => a + b, 0);
      const target = ids[i] ?? 0;
      expect(Math.abs((rows[i]?.prob ?? NaN) - (exp[target] ?? 0) / sum)).toBeLessThan(1e-5);
      expect(rows[i]?.rank).toBe(1 + Array.from(logits).filter((v) => v > (logits[target] ?? 0)).length);
      expect(rows[i]?.expected?.map((e) => e.id)).toEqual(Array.from(logits.keys()).sort((a, b) => (logits[b] ?? 0) - (logits[a] ?? 0)).slice(0, 3));
    }
  });
});

describe('EngineService: the logit lens, computed when asked', () => {
  it('a forward pass says the lens can be shown without computing it; a lens request gives every depth, the last one the prediction itself', async () => {
    const { send, answers } = client();
    await send({ runId: 1, type: 'load', model: urls, backend: 'wasm', threads: 1 });
    const ids = [5, 17, 42, 9];
    await send({ runId: 2, type: 'forward', ids });
    await send({ runId: 3, type: 'lens', ids });
    const forward = final(answers, 2);
    const lens = final(answers, 3);
    if (forward?.type !== 'result' || lens?.type !== 'result') throw new Error(`no result: ${JSON.stringify([forward, lens])}`);
    const { lastLogits, lensNote } = forward.result as { lastLogits: Float32Array; lensNote: string | null };
    expect(lensNote).toBeNull();
    expect(forward.result).not.toHaveProperty('lens');
    const rows = (lens.result as { lens: { id: number; prob: number; piece: { id: number } }[][] }).lens;
    // The embeddings and the stream after each of the 3 blocks, at every position.
    expect(rows.map((r) => r.length)).toEqual([4, 4, 4, 4]);
    // After the last block the lens is the model's own head: its top token and probability at the last position.
    const last = rows.at(-1)?.at(-1);
    const best = Array.from(lastLogits.keys()).reduce((a, b) => ((lastLogits[b] ?? 0) > (lastLogits[a] ?? 0) ? b : a), 0);
    const max = Math.max(...lastLogits);
    const sum = Array.from(lastLogits, (v) => Math.exp(v - max)).reduce((a, b) => a + b, 0);
    expect(last?.id).toBe(best);
    expect(last?.piece.id).toBe(best);
    expect(Math.abs((last?.prob ?? NaN) - 1 / sum)).toBeLessThan(1e-4);
  });
});
