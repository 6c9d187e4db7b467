import type { GenerationState } from '../../../engine/generate';
import type { BackendChoice, LoadResult, ModelChanged, WorkerRequest, WorkerResponse, WorkerResults } from './protocol';

type RequestBody<K extends keyof WorkerResults> = Omit<Extract<WorkerRequest, { type: K }>, 'runId' | 'type'>;

interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
  onProgress?: (state: GenerationState) => void;
}

/** How long the page waits for the desktop app's native engine before it runs on its own worker. */
const NATIVE_WAIT_MS = 10_000;
/** How long a worker due for renewal is given to finish the calls in flight before the load goes to it as it is. */
const RENEW_WAIT_MS = 10_000;

/** Where a model runs: the page's worker (WebGPU or WASM) or the desktop app's native engine. */
export type EngineRoute = 'worker' | 'native';

/**
 * Which engine a load goes to. `auto` uses the native engine where the desktop app offers one: on
 * this kind of CPU it is several times faster than WASM at the same thread count (`npm run bench`).
 */
export function routeFor(choice: BackendChoice, hasNative: boolean, format: 'onnx' | 'gguf' = 'onnx'): EngineRoute {
  // A GGUF model runs on llama.cpp in the native engine whatever backend is chosen; without one the worker refuses it in words.
  if (format === 'gguf') return hasNative ? 'native' : 'worker';
  return hasNative && (choice === 'native' || choice === 'auto') ? 'native' : 'worker';
}

/** The native engine's port when `event` is the desktop app's preload handing one over, else null. */
function nativeEnginePortOf(event: MessageEvent): MessagePort | null {
  const data: unknown = event.data;
  const port = event.ports[0];
  if (event.source !== window || !port || data === null || typeof data !== 'object' || !('ntl' in data) || data.ntl !== 'native-engine-port') return null;
  return port;
}

/**
 * Typed RPC to the engine: one request, one answer, matched by run id. The engine is the page's
 * Web Worker or, in the desktop app, the native engine process (the same protocol over a message
 * port); each model load decides which, and later calls go where the model is. When the native
 * engine's process stops, what it was asked is rejected with the reason and the page's worker
 * takes over; a port that comes later (a restart) is taken up again.
 */
export class EngineClient {
  private worker: Worker;
  /** The native engine's port: null in a browser, before it arrives and after its process stopped. */
  private nativePort: MessagePort | null = null;
  /** Settles when the first port arrived, or when the page stops waiting for it. */
  private readonly nativeReady: Promise<void>;
  private route: EngineRoute = 'worker';
  private nextRunId = 1;
  private pending = new Map<number, Pending>();
  /** Runs sent to the native engine and not answered yet. */
  private nativeRuns = new Set<number>();
  /** Called when a native engine's port arrives after the page stopped waiting (a restart). */
  onNativeReady: (() => void) | null = null;
  /** The newest load asked for, and what the engine said of its model after answering it (kept until a listener takes it). */
  private lastLoadRunId = 0;
  private lateChange: ModelChanged | null = null;
  private changeListener: ((change: ModelChanged) => void) | null = null;
  /** Waiting for no call to be in flight (`renewWorker`). */
  private idleWaiters: (() => void)[] = [];

  constructor(hasNativeEngine = false) {
    this.worker = this.spawn();
    this.nativeReady = hasNativeEngine ? this.listenForNative() : Promise.resolve();
  }

  private listenForNative(): Promise<void> {
    return new Promise((resolve) => {
      let isWaiting = true;
      const stopWaiting = (): void => {
        isWaiting = false;
        resolve();
      };
      const timer = setTimeout(stopWaiting, NATIVE_WAIT_MS);
      window.addEventListener('message', (event: MessageEvent) => {
        const port = nativeEnginePortOf(event);
        if (!port) return;
        this.useNativePort(port);
        if (isWaiting) {
          clearTimeout(timer);
          stopWaiting();
        } else {
          this.onNativeReady?.();
        }
      });
    });
  }

  private useNativePort(port: MessagePort): void {
    this.nativePort?.close();
    this.nativePort = port;
    port.onmessage = (event: MessageEvent<WorkerResponse>) => {
      if (event.data.type !== 'progress') this.nativeRuns.delete(event.data.runId);
      this.receive(event.data);
    };
    port.start();
  }

  /** Whether a native engine is there to run models on (waits for it in the desktop app). */
  async hasNative(): Promise<boolean> {
    await this.nativeReady;
    return this.nativePort !== null;
  }

  /**
   * The native engine's process stopped (`reason` says how): every call it had is rejected with the
   * reason (a load that may fall back goes to the worker), and later calls go to the worker.
   * Returns whether the model was running there, so the caller loads it again in the page.
   */
  nativeStopped(reason: string): boolean {
    const wasNative = this.route === 'native';
    this.nativePort?.close();
    this.nativePort = null;
    this.route = 'worker';
    const error = new Error(reason);
    const runs = [...this.nativeRuns];
    this.nativeRuns.clear();
    for (const runId of runs) {
      const pending = this.pending.get(runId);
      this.pending.delete(runId);
      pending?.reject(error);
    }
    this.settled();
    return wasNative;
  }

  private postNative(port: MessagePort, message: WorkerRequest): void {
    if (message.type !== 'cancel') this.nativeRuns.add(message.runId);
    port.postMessage(message);
  }

  private spawn(): Worker {
    const worker = new Worker(new URL('./engine.worker.ts', import.meta.url), { type: 'module', name: 'engine' });
    worker.onmessage = (event: MessageEvent<WorkerResponse>) => this.receive(event.data);
    worker.onerror = (event) => {
      const error = new Error(`the engine worker failed: ${event.message || 'unknown error'}`);
      for (const p of this.pending.values()) p.reject(error);
      this.pending.clear();
      this.settled();
    };
    return worker;
  }

  /**
   * Where the newest load's model turns out other than its answer said (`model-changed`): given to
   * `listener`, including a change that came before the listener was set.
   */
  onModelChanged(listener: (change: ModelChanged) => void): void {
    this.changeListener = listener;
    const late = this.lateChange;
    this.lateChange = null;
    if (late) listener(late);
  }

  private receive(message: WorkerResponse): void {
    if (message.type === 'model-changed') {
      if (message.runId !== this.lastLoadRunId) return;
      if (this.changeListener) this.changeListener(message);
      else this.lateChange = message;
      return;
    }
    const pending = this.pending.get(message.runId);
    if (!pending) return;
    if (message.type === 'progress') {
      pending.onProgress?.(message.progress);
      return;
    }
    this.pending.delete(message.runId);
    if (message.type === 'error') pending.reject(new Error(message.message));
    else pending.resolve(message.result);
    this.settled();
  }

  private async post(message: WorkerRequest): Promise<void> {
    if (this.route === 'native') await this.nativeReady;
    const port = this.route === 'native' ? this.nativePort : null;
    if (port) this.postNative(port, message);
    else this.worker.postMessage(message);
  }

  /**
   * A load goes to the engine `routeFor` picks; when the native engine cannot load the model, an
   * `auto` load runs on the worker instead and says why.
   */
  private async load(runId: number, body: RequestBody<'load'>): Promise<void> {
    await this.nativeReady;
    const port = this.nativePort;
    const route = routeFor(body.backend, port !== null, body.model.format);
    const pending = this.pending.get(runId);
    if (route === 'native' && port && pending) {
      this.pending.set(runId, {
        resolve: (value) => {
          this.route = 'native';
          pending.resolve(value);
        },
        reject: (error) => {
          // A GGUF model has nowhere else to run: the native engine's own reason is the one to show.
          if (body.backend === 'native' || body.model.format === 'gguf') {
            pending.reject(error);
            return;
          }
          // Back to the page's own engine, with the reason in the load's note.
          this.route = 'worker';
          this.pending.set(runId, {
            resolve: (value) => {
              const result = value as LoadResult;
              pending.resolve({ ...result, backendNote: `Native engine not used: ${error.message}.${result.backendNote ? ` ${result.backendNote}` : ''}` });
            },
            reject: pending.reject,
          });
          this.worker.postMessage({ runId, type: 'load', ...body, backend: 'auto' } satisfies WorkerRequest);
        },
      });
      this.postNative(port, { runId, type: 'load', ...body } satisfies WorkerRequest);
      return;
    }
    this.route = 'worker';
    this.worker.postMessage({ runId, type: 'load', ...body } satisfies WorkerRequest);
  }

  call<K extends keyof WorkerResults>(
    type: K,
    body: RequestBody<K>,
    onProgress?: (state: GenerationState) => void,
  ): { runId: number; result: Promise<WorkerResults[K]> } {
    const runId = this.nextRunId++;
    const result = new Promise<WorkerResults[K]>((resolve, reject) => {
      this.pending.set(runId, { resolve: resolve as (value: unknown) => void, reject, onProgress });
    });
    if (type === 'load') {
      this.lastLoadRunId = runId;
      this.lateChange = null;
      void this.load(runId, body as unknown as RequestBody<'load'>);
    } else void this.post({ runId, type, ...body } as unknown as WorkerRequest);
    return { runId, result };
  }

  /** Asks a running generation to stop after its current step. */
  cancel(runId: number): void {
    void this.post({ runId: 0, type: 'cancel', target: runId });
  }

  /**
   * A new worker for the next model, in place of the page's worker once the calls in flight in it
   * have ended: a worker's memory keeps the high-water mark of the models loaded before (its
   * WebAssembly memory never shrinks) for as long as it lives (issue 18). Returns whether it did
   * (not on the native engine, nor while a call still runs after RENEW_WAIT_MS).
   */
  async renewWorker(): Promise<boolean> {
    if (this.route !== 'worker') return false;
    // Calls still running (a cell's neighbours of the model before) would hold the load back in the
    // old worker as well: they finish first, for up to RENEW_WAIT_MS.
    if (this.pending.size > 0) await Promise.race([new Promise<void>((resolve) => this.idleWaiters.push(resolve)), new Promise((resolve) => setTimeout(resolve, RENEW_WAIT_MS))]);
    if (this.route !== 'worker' || this.pending.size > 0) return false;
    this.worker.terminate();
    this.worker = this.spawn();
    return true;
  }

  /** Tells those waiting for the worker to be idle (`renewWorker`) once no call waits for an answer. */
  private settled(): void {
    if (this.pending.size === 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
  }

  /**
   * Stops everything at once: every pending call is rejected; the worker is replaced (the native
   * engine is asked to cancel and its late answers are ignored).
   */
  restart(reason: string): void {
    for (const [runId, p] of this.pending) {
      if (this.route === 'native') this.cancel(runId);
      p.reject(new Error(reason));
    }
    this.pending.clear();
    this.settled();
    this.nativeRuns.clear();
    this.worker.terminate();
    this.worker = this.spawn();
    this.route = 'worker';
  }
}
