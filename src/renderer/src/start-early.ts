import type { PageModelList } from '../../common/model-info';
import { EngineClient } from './engine/engine-client';
import { api } from './platform/api';

/**
 * What the page starts before it builds itself: the engine's worker (which at once imports ONNX
 * Runtime and compiles its WebAssembly) and the request for the list of models. The stores take
 * them over when they are created; a store created without them (tests) makes its own.
 */
let engine: EngineClient | null = null;
let modelList: Promise<PageModelList> | null = null;

export function startEarly(): void {
  engine ??= new EngineClient(api.nativeEngine === true);
  modelList ??= api.models.list();
  // Said where it is asked for (the store's first listing); not an unhandled rejection before then.
  modelList.catch(() => undefined);
}

/** The engine started early, once; null when none was or it was taken already. */
export function takeEarlyEngine(): EngineClient | null {
  const taken = engine;
  engine = null;
  return taken;
}

/** The list of models asked for early, once; null when none was or it was taken already. */
export function takeEarlyModelList(): Promise<PageModelList> | null {
  const taken = modelList;
  modelList = null;
  return taken;
}
