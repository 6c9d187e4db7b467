import type { GenerationState } from '../../../engine/generate';
import type { EngineClient } from '../engine/engine-client';
import type { GenerateRequest } from '../engine/protocol';

/** The window's next frame; a short timer where there are no frames (tests in Node). */
const nextFrame = (run: () => void): number => (typeof requestAnimationFrame === 'function' ? requestAnimationFrame(run) : Number(setTimeout(run, 16)));
const cancelFrame = (id: number): void => (typeof cancelAnimationFrame === 'function' ? cancelAnimationFrame(id) : clearTimeout(id));

/** A generation asked of the engine; its steps are shown from `show()` on. */
export interface GenerationCall {
  runId: number;
  result: Promise<GenerationState>;
  /** From now on each step is shown (the latest one once a frame), the last one that came first. */
  show(): void;
  /** No more steps are shown (the call has ended, or it is dropped). */
  stop(): void;
}

/**
 * Asks the engine for a generation. It may be asked before its cell runs (Run all asks as soon as
 * the tokens are known): steps that come before `show()` are kept, not shown. Steps come faster
 * than the window paints, so the latest one is shown once a frame, and the window's time goes to
 * drawing what is seen, not to every step in between.
 */
export function callGeneration(engine: EngineClient, request: GenerateRequest, showStep: (state: GenerationState) => void): GenerationCall {
  let latest: GenerationState | null = null;
  let frame: number | null = null;
  let isShown = false;
  const paint = (): void => {
    frame = null;
    if (!latest) return;
    showStep(latest);
    latest = null;
  };
  const call = engine.call('generate', request, (state) => {
    latest = state;
    if (isShown) frame ??= nextFrame(paint);
  });
  // A generation asked ahead and then dropped fails (cancelled) with nobody waiting for it.
  call.result.catch(() => undefined);
  return {
    runId: call.runId,
    result: call.result,
    show: () => {
      isShown = true;
      if (latest) frame ??= nextFrame(paint);
    },
    stop: () => {
      isShown = false;
      latest = null;
      if (frame !== null) cancelFrame(frame);
      frame = null;
    },
  };
}
