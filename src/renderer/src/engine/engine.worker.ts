/// <reference lib="webworker" />
import type * as Ort from 'onnxruntime-web';
import wasmUrl from 'onnxruntime-web/ort-wasm-simd-threaded.jsep.wasm?url';
import { logitLens } from '../../../engine/logit-lens';
import { EngineModel, type BackendName, type ForwardResult } from '../../../engine/session';
import { compareStepBatch } from '../../../engine/compare-step';
import { fitToContext, generationStep } from '../../../engine/generate';
import { topOrder } from '../../../engine/sampling/filters';
import type { ForwardPayload, InterveneResult, LoadResult, ModelUrls, NeighboursResult, PositionsResult, TokenizeResult, WorkerRequest, WorkerResponse } from './protocol';

/** The browser's backends: native (onnxruntime-node) exists only in Node hosts. */
type BrowserBackend = Exclude<BackendName, 'native'>;

declare const self: DedicatedWorkerGlobalScope;

/** Labels sent with each forward pass: enough for the Predict cell's largest k. */
const TOP_PIECES = 50;

let ortModule: typeof Ort | null = null;
let model: EngineModel | null = null;
const cancelled = new Set<number>();

async function loadOrt(): Promise<typeof Ort> {
  if (!ortModule) {
    // Loaded lazily so its wasm threads never re-run this module (see toolchain notes).
    ortModule = await import('onnxruntime-web');
    ortModule.env.wasm.wasmPaths = { wasm: new URL(wasmUrl, self.location.href).href };
    ortModule.env.wasm.proxy = false;
    ortModule.env.logLevel = 'error';
  }
  return ortModule;
}

async function fetchBytes(url: string): Promise<Uint8Array> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: ${response.status} ${await response.text().catch(() => response.statusText)}`);
  return new Uint8Array(await response.arrayBuffer());
}

async function fetchJson(url: string, file: string): Promise<unknown> {
  const bytes = await fetchBytes(url);
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch (cause) {
    throw new Error(`${file}: malformed JSON (${cause instanceof Error ? cause.message : String(cause)})`);
  }
}

async function webgpuAvailable(): Promise<string | null> {
  const gpu = (navigator as Navigator & { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
  if (!gpu) return 'this browser offers no WebGPU';
  try {
    return (await gpu.requestAdapter()) ? null : 'no WebGPU adapter is available';
  } catch (cause) {
    return `WebGPU adapter request failed (${cause instanceof Error ? cause.message : String(cause)})`;
  }
}

async function load(urls: ModelUrls, choice: 'auto' | BrowserBackend, threads: number): Promise<LoadResult> {
  const started = performance.now();
  const ort = await loadOrt();
  const [config, tokenizer, tokenizerConfig, onnx, onnxWithPast, ...data] = await Promise.all([
    fetchJson(urls.config, `${urls.id}/config.json`),
    fetchJson(urls.tokenizer, `${urls.id}/tokenizer.json`),
    urls.tokenizerConfig ? fetchJson(urls.tokenizerConfig, `${urls.id}/tokenizer_config.json`) : Promise.resolve({}),
    fetchBytes(urls.onnx),
    urls.onnxWithPast ? fetchBytes(urls.onnxWithPast) : Promise.resolve(null),
    ...urls.onnxData.map((d) => fetchBytes(d.url)),
  ]);
  if (model) {
    await model.release();
    model = null;
  }
  const externalData = urls.onnxData.map((d, i) => ({ path: d.path, data: data[i] as Uint8Array }));
  const files = { id: urls.id, config, tokenizer, tokenizerConfig, onnx: onnx as Uint8Array, onnxWithPast: onnxWithPast as Uint8Array | null, externalData };
  let backendNote: string | null = null;
  let backend: BrowserBackend = 'wasm';
  if (choice !== 'wasm') {
    const missing = await webgpuAvailable();
    if (missing === null) backend = 'webgpu';
    else backendNote = `WebGPU not used: ${missing}; running on WASM.`;
  }
  try {
    model = await EngineModel.load(ort, files, { backend, threads });
  } catch (cause) {
    if (backend !== 'webgpu') throw cause;
    backendNote = `WebGPU failed (${cause instanceof Error ? cause.message : String(cause)}); running on WASM.`;
    backend = 'wasm';
    model = await EngineModel.load(ort, files, { backend, threads });
  }
  // One short pass compiles the kernels, so the user's first run is as fast as the next ones.
  await model.forward([0], false);
  const c = model.config;
  return {
    modelId: urls.id,
    backend,
    threads: backend === 'wasm' ? threads : 0,
    loadMs: performance.now() - started,
    backendNote,
    kvCache: model.hasCache,
    kvCacheNote: model.cacheNote,
    layers: c.layers,
    heads: c.heads,
    hidden: c.hidden,
    context: c.context,
    vocab: c.vocabSize,
  };
}

function requireModel(): EngineModel {
  if (!model) throw new Error('no model is loaded');
  return model;
}

function tokenize(text: string): TokenizeResult {
  const m = requireModel();
  // Labels for the kept tokens only: a pasted book keeps 128 of its 100,000 tokens.
  const fitted = fitToContext(m.tokenizer.encode(text), m.config.context);
  return { pieces: fitted.ids.map((id) => m.tokenizer.piece(id)), dropped: fitted.dropped, context: m.config.context };
}

/** Multiply-adds above which the logit lens is not computed on this thread. */
const LENS_BUDGET = 3e8;

function lensFor(m: EngineModel, r: ForwardResult): Pick<ForwardPayload, 'lens' | 'lensNote'> {
  const params = m.plan.lens;
  if ('unavailable' in params) return { lens: null, lensNote: `The logit lens is not available for this model: ${params.unavailable}.` };
  if (!r.residual) return { lens: null, lensNote: 'The logit lens is not available: the residual stream could not be read.' };
  const cost = params.hidden * params.vocab * r.ids.length * r.residual.length;
  if (cost > LENS_BUDGET) return { lens: null, lensNote: `The logit lens would take ${(cost / 1e9).toFixed(1)} billion multiply-adds here; it is computed for smaller models and prompts only.` };
  const cells = logitLens(params, r.residual, r.ids.length);
  return { lens: cells.map((row) => row.map((c) => ({ ...c, piece: m.tokenizer.piece(c.id) }))), lensNote: null };
}

async function forward(ids: number[]): Promise<{ payload: ForwardPayload; transfer: Transferable[] }> {
  const m = requireModel();
  const r = await m.forward(ids, true);
  const payload: ForwardPayload = {
    ids: r.ids,
    vocab: r.vocab,
    dim: r.embeddings.dim,
    lastLogits: r.lastLogits,
    attention: r.attention,
    attentionNote: r.attentionNote,
    tokenEmbedding: r.embeddings.token,
    positionEmbedding: r.embeddings.position,
    embeddingSum: r.embeddings.sum,
    forwardMs: r.forwardMs,
    residual: r.residual,
    residualMid: r.residualMid,
    ...lensFor(m, r),
    // A selection, not a sort of the whole vocabulary: this runs on every forward pass.
    topPieces: topOrder(Float64Array.from(r.lastLogits), TOP_PIECES).map((id) => m.tokenizer.piece(id)),
  };
  const transfer: Transferable[] = [r.lastLogits.buffer];
  for (const a of [r.embeddings.token, r.embeddings.position, r.embeddings.sum, ...(r.attention?.data ?? []), ...(r.residual ?? []), ...(r.residualMid ?? [])]) {
    if (a) transfer.push(a.buffer);
  }
  return { payload, transfer };
}

/** Neighbours are searched here, in the worker, so only k rows of results cross to the page. */
function neighbours(request: { id?: number; text?: string; k: number }): NeighboursResult {
  const m = requireModel();
  let id = request.id;
  if (request.text !== undefined) {
    const pieces = m.tokenizer.pieces(request.text);
    if (pieces.length !== 1) {
      const parts = pieces.map((p) => p.display).join(' | ');
      throw new Error(pieces.length === 0 ? 'type a token to look up' : `"${request.text}" is ${pieces.length} tokens (${parts}); choose one token`);
    }
    id = pieces[0]?.id;
  }
  if (id === undefined) throw new Error('no token chosen');
  const k = Math.max(1, Math.min(100, Math.floor(request.k)));
  const near = m.neighbours(id, k);
  const token = m.embeddingTables().token;
  return {
    id,
    piece: m.tokenizer.piece(id),
    vocab: 'unavailable' in token ? 0 : token.rows,
    neighbours: near.map((n) => ({ ...n, piece: m.tokenizer.piece(n.id) })),
  };
}

function positions(count: number): { result: PositionsResult; transfer: Transferable[] } {
  const result = requireModel().positions(Math.max(1, Math.min(1024, Math.floor(count))));
  return { result, transfer: result.kind === 'learned' ? [result.vectors.buffer, result.similarity.buffer] : [] };
}

function reply(message: WorkerResponse, transfer: Transferable[] = []): void {
  self.postMessage(message, transfer);
}

self.onmessage = async (event: MessageEvent<WorkerRequest>): Promise<void> => {
  const request = event.data;
  const { runId } = request;
  try {
    switch (request.type) {
      case 'cancel':
        cancelled.add(request.target);
        return;
      case 'load':
        reply({ runId, type: 'result', result: await load(request.model, request.backend, request.threads) });
        return;
      case 'tokenize':
        reply({ runId, type: 'result', result: tokenize(request.text) });
        return;
      case 'forward': {
        const { payload, transfer } = await forward(request.ids);
        reply({ runId, type: 'result', result: payload }, transfer);
        return;
      }
      case 'intervene': {
        const m = requireModel();
        const r = await m.forwardEdited(request.ids, request.edit, true);
        const result: InterveneResult = {
          lastLogits: r.lastLogits,
          attention: r.attention,
          forwardMs: r.forwardMs,
          topPieces: topOrder(Float64Array.from(r.lastLogits), TOP_PIECES).map((id) => m.tokenizer.piece(id)),
        };
        reply({ runId, type: 'result', result }, [r.lastLogits.buffer, ...(r.attention?.data ?? []).map((a) => a.buffer)]);
        return;
      }
      case 'embedding-neighbours':
        reply({ runId, type: 'result', result: neighbours(request) });
        return;
      case 'positions': {
        const { result, transfer } = positions(request.count);
        reply({ runId, type: 'result', result }, transfer);
        return;
      }
      case 'compare-steps':
        // Every column one token: columns of equal length share one batched forward pass.
        reply({ runId, type: 'result', result: await compareStepBatch(requireModel(), request.items) });
        return;
      case 'generate': {
        const m = requireModel();
        let state = request.state;
        for (let i = 0; i < request.count && state.stopReason === null; i++) {
          if (cancelled.has(runId)) {
            state = { ...state, stopReason: 'cancelled' };
            break;
          }
          state = await generationStep(m, state, request.sampling, { stop: request.stop });
          reply({ runId, type: 'progress', progress: state });
          // Let a cancel message in between steps.
          await new Promise((resolve) => setTimeout(resolve, 0));
        }
        reply({ runId, type: 'result', result: state });
        return;
      }
    }
  } catch (cause) {
    reply({ runId, type: 'error', message: cause instanceof Error ? cause.message : String(cause) });
  } finally {
    cancelled.delete(runId);
  }
};
