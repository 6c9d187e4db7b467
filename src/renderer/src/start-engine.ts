import { EngineClient } from './engine/engine-client';
import { MODELS_PATH, request } from './platform/http';

/**
 * The page's first task (issue 18): the engine's worker started and the model list asked for, before
 * zod and the schemas are even loaded. `start-early.ts` takes both over in a task of its own, where
 * the list is checked (the browser build's answer against its schema) before anything uses it.
 */
let engine: EngineClient | null = null;
let modelList: Promise<unknown> | null = null;

export function startEngine(): void {
  engine ??= new EngineClient(window.ntl?.nativeEngine === true);
  modelList ??= window.ntl ? window.ntl.models.list() : request(MODELS_PATH);
  // Said where it is checked (start-early.ts), and by the store's first listing.
  modelList.catch(() => undefined);
}

/** The worker and the list's unchecked answer, once; null when they were not started here. */
export function takeStarted(): { engine: EngineClient; modelList: Promise<unknown> } | null {
  if (!engine || !modelList) return null;
  const taken = { engine, modelList };
  engine = null;
  modelList = null;
  return taken;
}
