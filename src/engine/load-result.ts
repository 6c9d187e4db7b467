import type { EngineModel } from './contract';
import type { LoadResult } from './protocol';

/** What only the engine that loaded a model knows of it: how it runs, from which file, and what it shows. */
type EngineOwn = Pick<LoadResult, 'backend' | 'threads' | 'loadMs' | 'backendNote' | 'weightsNote' | 'file' | 'precision' | 'hooks'>;

/** A load's answer: the model's shape and what it can show, from the model loaded, with its engine's own fields. */
export function loadResult(modelId: string, m: EngineModel, own: EngineOwn): LoadResult {
  const c = m.config;
  return {
    modelId,
    source: m.source,
    capabilities: m.capabilities,
    kvCache: m.hasCache,
    kvCacheNote: m.cacheNote,
    layers: c.layers,
    heads: c.heads,
    hidden: c.hidden,
    context: c.context,
    vocab: c.vocabSize,
    ...own,
  };
}
