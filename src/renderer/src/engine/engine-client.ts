import type { GenerationState } from '../../../engine/generate';
import type { WorkerRequest, WorkerResponse, WorkerResults } from './protocol';

type RequestBody<K extends keyof WorkerResults> = Omit<Extract<WorkerRequest, { type: K }>, 'runId' | 'type'>;

interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
  onProgress?: (state: GenerationState) => void;
}

/** Typed RPC to the engine worker: one request, one answer, matched by run id. */
export class EngineClient {
  private worker: Worker;
  private nextRunId = 1;
  private pending = new Map<number, Pending>();

  constructor() {
    this.worker = this.spawn();
  }

  private spawn(): Worker {
    const worker = new Worker(new URL('./engine.worker.ts', import.meta.url), { type: 'module', name: 'engine' });
    worker.onmessage = (event: MessageEvent<WorkerResponse>) => this.receive(event.data);
    worker.onerror = (event) => {
      const error = new Error(`the engine worker failed: ${event.message || 'unknown error'}`);
      for (const p of this.pending.values()) p.reject(error);
      this.pending.clear();
    };
    return worker;
  }

  private receive(message: WorkerResponse): void {
    const pending = this.pending.get(message.runId);
    if (!pending) return;
    if (message.type === 'progress') {
      pending.onProgress?.(message.progress);
      return;
    }
    this.pending.delete(message.runId);
    if (message.type === 'error') pending.reject(new Error(message.message));
    else pending.resolve(message.result);
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
    this.worker.postMessage({ runId, type, ...body });
    return { runId, result };
  }

  /** Asks a running generation to stop after its current step. */
  cancel(runId: number): void {
    this.worker.postMessage({ runId: 0, type: 'cancel', target: runId } satisfies WorkerRequest);
  }

  /** Stops everything at once: the worker is replaced and every pending call is rejected. */
  restart(reason: string): void {
    this.worker.terminate();
    for (const p of this.pending.values()) p.reject(new Error(reason));
    this.pending.clear();
    this.worker = this.spawn();
  }
}
