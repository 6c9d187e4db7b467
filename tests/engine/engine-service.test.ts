import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-web';
import { afterAll, describe, expect, it } from 'vitest';
import { EngineService, type EngineHost } from '../../src/engine/engine-service';
import type { ModelUrls, WorkerRequest, WorkerResponse } from '../../src/engine/protocol';
import { OnnxModel } from '../../src/engine/session';
import { SEED_WORLD } from './load-model';
import { GGUF_BROWSER_NOTE } from '../../src/common/gguf-notes';

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
