import { compareStepBatch } from './compare-step';
import { fitPrompt } from './cell-results';
import { continueGeneration } from './generate';
import { logitLens } from './logit-lens';
import type {
  BackendChoice,
  ForwardPayload,
  InterveneResult,
  LoadResult,
  ModelUrls,
  NeighboursResult,
  PositionsResult,
  SurprisalResult,
  TokenizeResult,
  WorkerRequest,
  WorkerResponse,
} from './protocol';
import { topOrder } from './sampling/filters';
import { topK } from './sampling/distribution';
import { promptSurprisal } from './surprisal';
import { OnnxModel, type BackendName, type ForwardResult, type ModelFiles, type OrtModule } from './session';

/** Labels sent with each forward pass: enough for the Predict cell's largest k. */
const TOP_PIECES = 50;
/** Multiply-adds above which the logit lens is not computed on the engine's thread. */
const LENS_BUDGET = 3e8;

/** One backend to try, with the ONNX Runtime build that runs it. */
export interface BackendAttempt {
  backend: BackendName;
  ort: () => Promise<OrtModule>;
  /** Threads for this backend (what the page asked for, or what the host allows). */
  threads: number;
}

/**
 * What runs the engine: the page's Web Worker (fetch, onnxruntime-web, WebGPU or WebAssembly) or
 * the desktop app's native engine process (files from the models folders, onnxruntime-node).
 */
export interface EngineHost {
  readModel(urls: ModelUrls): Promise<ModelFiles>;
  /**
   * The backends to try for a choice, best first; a note for each one passed over (why WebGPU was
   * not used, say). Loading falls back along the list when one fails.
   */
  backends(choice: BackendChoice, threads: number): Promise<{ attempts: BackendAttempt[]; note: string | null }>;
  now(): number;
}

/** Sends one answer; `transfer` lists buffers that move instead of being copied. */
export type Reply = (message: WorkerResponse, transfer?: ArrayBufferLike[]) => void;

/**
 * The engine's side of the worker protocol (`protocol.ts`), the same wherever it runs: one model at
 * a time, every request answered once (generation also reports progress), cancellable between steps.
 */
export class EngineService {
  private model: OnnxModel | null = null;
  private readonly cancelled = new Set<number>();
  /** Requests queued or running: a cancel for anything else (a run that has ended) is dropped. */
  private readonly active = new Set<number>();
  /** The tail of the request queue: each request starts when the one before it has answered. */
  private queue: Promise<void> = Promise.resolve();

  constructor(private readonly host: EngineHost) {}

  /**
   * Takes a request from a host (the page's worker, the native engine process): answered in the
   * order they came, one at a time, so a forward pass waits for the load before it and two passes
   * never run on one session at once. A cancel acts at once, on a request queued or running.
   */
  submit(request: WorkerRequest, reply: Reply): Promise<void> {
    if (request.type === 'cancel') {
      if (this.active.has(request.target)) this.cancelled.add(request.target);
      return Promise.resolve();
    }
    this.active.add(request.runId);
    const run = this.queue.then(() => this.handle(request, reply)).finally(() => this.active.delete(request.runId));
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Cancels remembered for requests still queued or running (none outlive their run). */
  get pendingCancels(): number {
    return this.cancelled.size;
  }

  private requireModel(): OnnxModel {
    if (!this.model) throw new Error('no model is loaded');
    return this.model;
  }

  async load(urls: ModelUrls, choice: BackendChoice, threads: number): Promise<LoadResult> {
    const started = this.host.now();
    const [files, plan] = await Promise.all([this.host.readModel(urls), this.host.backends(choice, threads)]);
    if (this.model) {
      await this.model.release();
      this.model = null;
    }
    let backendNote = plan.note;
    let lastError: unknown = new Error('no backend to run the model on');
    for (const attempt of plan.attempts) {
      try {
        this.model = await OnnxModel.load(await attempt.ort(), files, { backend: attempt.backend, threads: attempt.threads });
        break;
      } catch (cause) {
        lastError = cause;
        const next = plan.attempts[plan.attempts.indexOf(attempt) + 1];
        if (!next) break;
        backendNote = `${attempt.backend === 'webgpu' ? 'WebGPU' : attempt.backend} failed (${cause instanceof Error ? cause.message : String(cause)}); running on ${next.backend === 'wasm' ? 'WASM' : next.backend}.`;
      }
    }
    const m = this.model as OnnxModel | null;
    if (!m) throw lastError;
    // One short pass compiles the kernels, so the user's first run is as fast as the next ones.
    await m.forward([0], false);
    const c = m.config;
    return {
      modelId: urls.id,
      source: m.source,
      capabilities: m.capabilities,
      backend: m.backend,
      threads: m.backend === 'webgpu' ? 0 : m.threads,
      loadMs: this.host.now() - started,
      backendNote,
      kvCache: m.hasCache,
      kvCacheNote: m.cacheNote,
      file: m.file,
      precision: m.precision,
      layers: c.layers,
      heads: c.heads,
      hidden: c.hidden,
      context: c.context,
      vocab: c.vocabSize,
    };
  }

  tokenize(text: string): TokenizeResult {
    const m = this.requireModel();
    // Labels for the kept tokens only: a pasted book keeps 128 of its 100,000 tokens.
    const fitted = fitPrompt(m.tokenizer.encode(text), m.config.context);
    return { pieces: fitted.ids.map((id) => m.tokenizer.piece(id)), dropped: fitted.dropped, context: m.config.context };
  }

  private lensFor(m: OnnxModel, r: ForwardResult): Pick<ForwardPayload, 'lens' | 'lensNote'> {
    const params = m.plan.lens;
    if ('unavailable' in params) return { lens: null, lensNote: `The logit lens is not available for this model: ${params.unavailable}.` };
    if (!r.residual) return { lens: null, lensNote: 'The logit lens is not available: the residual stream could not be read.' };
    const cost = params.hidden * params.vocab * r.ids.length * r.residual.length;
    if (cost > LENS_BUDGET) return { lens: null, lensNote: `The logit lens would take ${(cost / 1e9).toFixed(1)} billion multiply-adds here; it is computed for smaller models and prompts only.` };
    const cells = logitLens(params, r.residual, r.ids.length);
    return { lens: cells.map((row) => row.map((c) => ({ ...c, piece: m.tokenizer.piece(c.id) }))), lensNote: null };
  }

  async forward(ids: number[]): Promise<{ payload: ForwardPayload; transfer: ArrayBufferLike[] }> {
    const m = this.requireModel();
    const r = await m.forward(ids, true);
    const payload: ForwardPayload = {
      ...r,
      ...this.lensFor(m, r),
      // A selection, not a sort of the whole vocabulary: this runs on every forward pass.
      topPieces: topOrder(Float64Array.from(r.lastLogits), TOP_PIECES).map((id) => m.tokenizer.piece(id)),
    };
    return { payload, transfer: buffers([r.lastLogits, r.embeddings.token, r.embeddings.position, r.embeddings.sum, ...(r.attention?.data ?? []), ...(r.attention?.values?.data ?? []), ...(r.residual ?? []), ...(r.residualMid ?? [])]) };
  }

  /** Neighbours are searched here, next to the table, so only k rows of results cross to the page. */
  neighbours(request: { id?: number; text?: string; k: number }): NeighboursResult {
    const m = this.requireModel();
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

  positions(count: number): { result: PositionsResult; transfer: ArrayBufferLike[] } {
    const result = this.requireModel().positions(Math.max(1, Math.min(1024, Math.floor(count))));
    return { result, transfer: result.kind === 'learned' ? [result.vectors.buffer, result.similarity.buffer] : [] };
  }

  /** The prompt's surprisal from one pass that keeps every position's logits (what `ntl surprisal` prints). */
  async surprisal(ids: number[], k: number): Promise<SurprisalResult> {
    const m = this.requireModel();
    const { logits, vocab, forwardMs } = await m.positionLogits(ids);
    const rows = promptSurprisal(ids, logits, vocab).map((t) => ({
      ...t,
      text: m.tokenizer.piece(t.id).text,
      expected: t.position === 0 ? null : topK(logits.subarray((t.position - 1) * vocab, t.position * vocab), k).map((e) => ({ id: e.id, token: m.tokenizer.piece(e.id).text, prob: e.prob })),
    }));
    return { rows, forwardMs };
  }

  /** Answers one request through `reply`; errors become an `error` answer naming the cause. Hosts go through `submit`. */
  private async handle(request: WorkerRequest, reply: Reply): Promise<void> {
    const { runId } = request;
    try {
      switch (request.type) {
        case 'cancel':
          return;
        case 'load':
          reply({ runId, type: 'result', result: await this.load(request.model, request.backend, request.threads) });
          return;
        case 'tokenize':
          reply({ runId, type: 'result', result: this.tokenize(request.text) });
          return;
        case 'forward': {
          const { payload, transfer } = await this.forward(request.ids);
          reply({ runId, type: 'result', result: payload }, transfer);
          return;
        }
        case 'intervene': {
          const m = this.requireModel();
          const r = await m.forwardEdited(request.ids, request.edit, true);
          const result: InterveneResult = {
            lastLogits: r.lastLogits,
            attention: r.attention,
            forwardMs: r.forwardMs,
            topPieces: topOrder(Float64Array.from(r.lastLogits), TOP_PIECES).map((id) => m.tokenizer.piece(id)),
          };
          reply({ runId, type: 'result', result }, buffers([r.lastLogits, ...(r.attention?.data ?? []), ...(r.attention?.values?.data ?? [])]));
          return;
        }
        case 'embedding-neighbours':
          reply({ runId, type: 'result', result: this.neighbours(request) });
          return;
        case 'positions': {
          const { result, transfer } = this.positions(request.count);
          reply({ runId, type: 'result', result }, transfer);
          return;
        }
        case 'surprisal':
          reply({ runId, type: 'result', result: await this.surprisal(request.ids, request.k) });
          return;
        case 'compare-steps':
          // Every column one token: columns of equal length share one batched forward pass.
          reply({ runId, type: 'result', result: await compareStepBatch(this.requireModel(), request.items) });
          return;
        case 'generate': {
          const state = await continueGeneration(this.requireModel(), request.state, request.sampling, request.count, {
            stop: request.stop,
            isCancelled: () => this.cancelled.has(runId),
            onStep: async (progress) => {
              reply({ runId, type: 'progress', progress });
              // Let a cancel message in between steps.
              await new Promise((resolve) => setTimeout(resolve, 0));
            },
          });
          reply({ runId, type: 'result', result: state });
          return;
        }
      }
    } catch (cause) {
      reply({ runId, type: 'error', message: cause instanceof Error ? cause.message : String(cause) });
    } finally {
      this.cancelled.delete(runId);
    }
  }

  async release(): Promise<void> {
    await this.model?.release();
    this.model = null;
  }
}

/** The distinct buffers of some arrays (two fields can share one: send it once). */
function buffers(arrays: readonly (Float32Array | null | undefined)[]): ArrayBufferLike[] {
  return [...new Set(arrays.flatMap((a) => (a ? [a.buffer] : [])))];
}
