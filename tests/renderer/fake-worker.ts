import type { WorkerRequest, WorkerResponse } from '../../src/renderer/src/engine/protocol';

/** The page's Web Worker, standing in: it records what it is asked; the test answers. */
export class FakeWorker {
  static last: FakeWorker | null = null;
  readonly posted: WorkerRequest[] = [];
  onmessage: ((event: { data: WorkerResponse }) => void) | null = null;
  onerror: ((event: { message: string }) => void) | null = null;
  constructor() {
    FakeWorker.last = this;
  }
  postMessage(message: WorkerRequest): void {
    this.posted.push(message);
  }
  answer(message: WorkerResponse): void {
    this.onmessage?.({ data: message });
  }
  terminate(): void {}
}

/** Waits until `condition` holds, checking every 5 ms `tries` times, naming what it waited for when it does not. */
export async function until(condition: () => boolean, what = 'the condition', tries = 400): Promise<void> {
  for (let i = 0; i < tries && !condition(); i++) await new Promise((r) => setTimeout(r, 5));
  if (!condition()) throw new Error(`timed out waiting for ${what}`);
}
