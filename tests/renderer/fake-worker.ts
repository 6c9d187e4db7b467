import type { WorkerRequest, WorkerResponse } from '../../src/renderer/src/engine/protocol';

/** The page's Web Worker, standing in: it records what it is asked; the test answers. */
export class FakeWorker {
  static last: FakeWorker | null = null;
  readonly posted: WorkerRequest[] = [];
  private readonly answered = new Set<number>();
  onmessage: ((event: { data: WorkerResponse }) => void) | null = null;
  onerror: ((event: { message: string }) => void) | null = null;
  constructor() {
    FakeWorker.last = this;
  }
  postMessage(message: WorkerRequest): void {
    this.posted.push(message);
  }
  answer(message: WorkerResponse): void {
    this.answered.add(message.runId);
    this.onmessage?.({ data: message });
  }
  /** The oldest request of `type` not answered yet. */
  pending<T extends WorkerRequest['type']>(type: T): (WorkerRequest & { type: T }) | undefined {
    return this.posted.find((m): m is WorkerRequest & { type: T } => m.type === type && !this.answered.has(m.runId));
  }
  /** Waits for a request of `type` and answers it with `result` (or fails it with `error`); returns the request. */
  async reply<T extends WorkerRequest['type']>(type: T, result: unknown, error?: string): Promise<WorkerRequest & { type: T }> {
    await until(() => this.pending(type) !== undefined, `a ${type} request`);
    const request = this.pending(type);
    if (!request) throw new Error(`no ${type} request`);
    this.answer(error === undefined ? { runId: request.runId, type: 'result', result } : { runId: request.runId, type: 'error', message: error });
    return request;
  }
  terminate(): void {}
}

/** Waits until `condition` holds, checking every 5 ms `tries` times, naming what it waited for when it does not. */
export async function until(condition: () => boolean, what = 'the condition', tries = 400): Promise<void> {
  for (let i = 0; i < tries && !condition(); i++) await new Promise((r) => setTimeout(r, 5));
  if (!condition()) throw new Error(`timed out waiting for ${what}`);
}
