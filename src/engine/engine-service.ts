import { errorMessage } from '../common/error-message';
import { formatHook, sortHookNames } from '../common/hook-names';
import { compareStepBatch } from './compare-step';
import { fitPrompt } from './cell-results';
import { continueGeneration } from './generate';
import { loadResult } from './load-result';
import { logitLens } from './logit-lens';
import { nextTask } from './next-task';
import type {
  BackendChoice,
  ForwardPayload,
  InterveneResult,
  LensResult,
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
import { GGUF_BROWSER_NOTE } from '../common/gguf-notes';
import type { Capability, EngineModel } from './contract';
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
  /** Loads a model that is not ONNX (`urls.format`): the desktop app's native engine runs GGUF files; a host without it refuses them. */
  loadEngineModel?(urls: ModelUrls, threads: number): Promise<OtherEngineLoad>;
  now(): number;
}

/** A model that another engine than ONNX Runtime runs (a GGUF file on llama.cpp), as the host loaded it. */
export interface OtherEngineLoad {
  model: EngineModel;
  /** The file that runs and its weights' format, for the top bar. */
  file: string;
  precision: string;
  /** Where it runs, in words (shown as the backend's note). */
  note: string | null;
}

/** Sends one answer; `transfer` lists buffers that move instead of being copied. */
export type Reply = (message: WorkerResponse, transfer?: ArrayBufferLike[]) => void;

/**
 * The engine's side of the worker protocol (`protocol.ts`), the same wherever it runs: one model at
 * a time, every request answered once (generation also reports progress), cancellable between steps.
 */
export class EngineService {
  /** The model loaded, whichever engine runs it; `onnx` is the same object when ONNX Runtime does (the views inside the model need it). */
  private model: EngineModel | null = null;
  private onnx: OnnxModel | null = null;
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

  private requireModel(): EngineModel {
    if (!this.model) throw new Error('no model is loaded');
    return this.model;
  }

  /** The ONNX model, for what only it can show; another engine's model is refused with its reason for lacking `capability`. */
  private requireOnnx(capability: Capability, what?: string): OnnxModel {
    const m = this.requireModel();
    if (this.onnx) return this.onnx;
    // An engine may have the capability in part (a GGUF model's token rows, but not the whole tables).
    throw new Error(m.capabilities[capability] && what ? `${what} is computed for ONNX models only` : this.noteFor(m, capability));
  }

  private noteFor(m: EngineModel, capability: Capability): string {
    return m.capabilityNotes?.[capability] ?? `a ${m.source} model does not show ${capability}`;
  }

  private async releaseModel(): Promise<void> {
    const m = this.model;
    this.model = null;
    this.onnx = null;
    await m?.release();
  }

  /** A GGUF model on the host's other engine (llama.cpp in the native engine process); the page's worker has none and says so. */
  private async loadOther(urls: ModelUrls, threads: number, started: number): Promise<LoadResult> {
    if (!this.host.loadEngineModel) throw new Error(GGUF_BROWSER_NOTE);
    await this.releaseModel();
    const loaded = await this.host.loadEngineModel(urls, threads);
    const m = loaded.model;
    this.model = m;
    return loadResult(urls.id, m, {
      backend: 'native',
      threads: m.threads,
      loadMs: this.host.now() - started,
      backendNote: loaded.note,
      weightsNote: null,
      // llama.cpp hands out the logits only: no other point inside the model can be read.
      hooks: [formatHook({ hook: 'unembed.hook_out' })],
      file: loaded.file,
      precision: loaded.precision,
    });
  }

  /**
   * Loads a model. The page's engine leaves the with-past graph's empty-past check to the warm-up
   * that follows the answer (`checkLater`); `sharedRefusal` loads it again a session per file, saying why.
   */
  async load(urls: ModelUrls, choice: BackendChoice, threads: number, sharedRefusal?: string): Promise<LoadResult> {
    const started = this.host.now();
    if (urls.format === 'gguf') return this.loadOther(urls, threads, started);
    const [files, plan] = await Promise.all([this.host.readModel(urls), this.host.backends(choice, threads)]);
    await this.releaseModel();
    let backendNote = plan.note;
    let lastError: unknown = new Error('no backend to run the model on');
    for (const attempt of plan.attempts) {
      try {
        const shared = sharedRefusal === undefined ? { checkLater: true } : { shareWeights: false, sharedRefusal };
        this.onnx = await OnnxModel.load(await attempt.ort(), files, { backend: attempt.backend, threads: attempt.threads, ...shared });
        this.model = this.onnx;
        break;
      } catch (cause) {
        lastError = cause;
        const next = plan.attempts[plan.attempts.indexOf(attempt) + 1];
        if (!next) break;
        backendNote = `${attempt.backend === 'webgpu' ? 'WebGPU' : attempt.backend} failed (${errorMessage(cause)}); running on ${next.backend === 'wasm' ? 'WASM' : next.backend}.`;
      }
    }
    const m = this.onnx;
    if (!m) throw lastError;
    return loadResult(urls.id, m, {
      backend: m.backend,
      threads: m.backend === 'webgpu' ? 0 : m.threads,
      loadMs: this.host.now() - started,
      backendNote,
      weightsNote: m.sessionNote,
      file: m.file,
      precision: m.precision,
      hooks: sortHookNames([...new Set(m.plan.probes.map((p) => p.hook)), formatHook({ hook: 'unembed.hook_out' })]),
    });
  }

  tokenize(text: string): TokenizeResult {
    const m = this.requireModel();
    // Labels for the kept tokens only: a pasted book keeps 128 of its 100,000 tokens.
    const fitted = fitPrompt(m.tokenizer.encode(text), m.config.context);
    return { pieces: fitted.ids.map((id) => m.tokenizer.piece(id)), dropped: fitted.dropped, context: m.config.context };
  }

  /** Why the logit lens cannot be shown for a pass (null: it can). */
  private lensNote(m: OnnxModel, r: ForwardResult): string | null {
    const params = m.plan.lens;
    if ('unavailable' in params) return `The logit lens is not available for this model: ${params.unavailable}.`;
    if (!r.residual) return 'The logit lens is not available: the residual stream could not be read.';
    const cost = params.hidden * params.vocab * r.ids.length * r.residual.length;
    if (cost > LENS_BUDGET) return `The logit lens would take ${(cost / 1e9).toFixed(1)} billion multiply-adds here; it is computed for smaller models and prompts only.`;
    return null;
  }

  /**
   * The logit lens of a prompt, asked for on its own: it costs several times the forward pass of a
   * small model (issue 18), and only a Predict cell that shows it needs it. The pass is run again for
   * its residual stream (cheap where the lens is computed at all: small models and prompts).
   */
  async lens(ids: number[]): Promise<LensResult> {
    const m = this.requireOnnx('logitLens', 'the logit lens');
    const r = await m.forward(ids, true);
    const note = this.lensNote(m, r);
    const params = m.plan.lens;
    if (note !== null || 'unavailable' in params || !r.residual) throw new Error(note ?? 'the logit lens is not available');
    const cells = logitLens(params, r.residual, r.ids.length);
    return { lens: cells.map((row) => row.map((c) => ({ ...c, piece: m.tokenizer.piece(c.id) }))) };
  }

  /**
   * The next-token distribution of another engine's model, in the forward pass's shape: the views
   * it cannot show are null with their reasons; token embedding rows where the engine reads them.
   */
  private async forwardOther(m: EngineModel, ids: number[]): Promise<{ payload: ForwardPayload; transfer: ArrayBufferLike[] }> {
    const started = this.host.now();
    const lastLogits = await m.nextLogits(ids);
    const rows = m.tokenEmbeddings ? await m.tokenEmbeddings(ids) : null;
    const payload: ForwardPayload = {
      ids,
      vocab: m.config.vocabSize,
      lastLogits,
      attention: null,
      attentionNote: this.noteFor(m, 'attention'),
      embeddings: { dim: rows?.dim ?? m.config.hidden, token: rows?.rows ?? null, position: null, sum: null },
      residual: null,
      residualMid: null,
      forwardMs: this.host.now() - started,
      lensNote: this.noteFor(m, 'logitLens'),
      topPieces: topOrder(Float64Array.from(lastLogits), TOP_PIECES).map((id) => m.tokenizer.piece(id)),
    };
    return { payload, transfer: buffers([lastLogits, rows?.rows]) };
  }

  async forward(ids: number[]): Promise<{ payload: ForwardPayload; transfer: ArrayBufferLike[] }> {
    const any = this.requireModel();
    if (!this.onnx) return this.forwardOther(any, ids);
    const m = this.onnx;
    const r = await m.forward(ids, true);
    const payload: ForwardPayload = {
      ...r,
      lensNote: this.lensNote(m, r),
      // A selection, not a sort of the whole vocabulary: this runs on every forward pass.
      topPieces: topOrder(Float64Array.from(r.lastLogits), TOP_PIECES).map((id) => m.tokenizer.piece(id)),
    };
    return { payload, transfer: buffers([r.lastLogits, r.embeddings.token, r.embeddings.position, r.embeddings.sum, ...(r.attention?.data ?? []), ...(r.attention?.values?.data ?? []), ...(r.residual ?? []), ...(r.residualMid ?? [])]) };
  }

  /** Neighbours are searched here, next to the table, so only k rows of results cross to the page. */
  neighbours(request: { id?: number; text?: string; k: number }): NeighboursResult {
    const m = this.requireOnnx('embeddings', 'the nearest-neighbour search (over the whole embedding table)');
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
    const result = this.requireOnnx('embeddings', 'the positional embedding view').positions(Math.max(1, Math.min(1024, Math.floor(count))));
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
          await this.warmUp(request, reply);
          return;
        case 'tokenize':
          reply({ runId, type: 'result', result: this.tokenize(request.text) });
          return;
        case 'forward': {
          const { payload, transfer } = await this.forward(request.ids);
          reply({ runId, type: 'result', result: payload }, transfer);
          return;
        }
        case 'lens':
          reply({ runId, type: 'result', result: await this.lens(request.ids) });
          return;
        case 'intervene': {
          const m = this.requireOnnx('interventions');
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
              await nextTask();
            },
          });
          reply({ runId, type: 'result', result: state });
          return;
        }
      }
    } catch (cause) {
      reply({ runId, type: 'error', message: errorMessage(cause) });
    } finally {
      this.cancelled.delete(runId);
    }
  }

  /**
   * One short pass that compiles the kernels, so the user's first run is as fast as the next ones.
   * It runs after the load has answered (the page enables Run all meanwhile, issue 18), still inside
   * the load's turn: the requests after it wait for it. A pass that fails here fails again, and is
   * said, in the run that follows.
   *
   * The load's deferred check comes first (it compiles the same kernels): where the one session cannot
   * run whole prompts, the model is loaded again a session per file before any request runs, and the
   * page is told (`model-changed`).
   */
  private async warmUp(request: Extract<WorkerRequest, { type: 'load' }>, reply: Reply): Promise<void> {
    const refused = await this.onnx?.checkDeferred();
    if (refused) {
      const { runId, model } = request;
      try {
        const result = await this.load(model, request.backend, request.threads, refused);
        reply({ runId, type: 'model-changed', modelId: model.id, result, message: null });
      } catch (cause) {
        // The load released the model it replaced: the requests after this one say none is loaded.
        reply({ runId, type: 'model-changed', modelId: model.id, result: null, message: errorMessage(cause) });
        return;
      }
    }
    await this.onnx?.forward([0], false).catch(() => undefined);
  }

  async release(): Promise<void> {
    await this.releaseModel();
  }
}

/** The distinct buffers of some arrays (two fields can share one: send it once). */
function buffers(arrays: readonly (Float32Array | null | undefined)[]): ArrayBufferLike[] {
  return [...new Set(arrays.flatMap((a) => (a ? [a.buffer] : [])))];
}
