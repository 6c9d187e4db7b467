import { z } from 'zod';
import { Intervention } from './intervention';

/**
 * The worker protocol's requests as a schema: what a host outside the page (the desktop app's native
 * engine process) checks every message against before the engine sees it. The sampler settings are
 * checked as objects here and resolved by the engine; ids, counts and files are checked in full.
 */
const runId = z.number().int().min(0);
const Ids = z.array(z.number().int().min(0)).max(1 << 20);
const Sampling = z.looseObject({});
const GenerationState = z.looseObject({
  ids: Ids,
  steps: z.array(z.looseObject({ id: z.number().int().min(0) })).max(1 << 16),
  rngState: z.number(),
  mu: z.number().nullable().optional(),
  stopReason: z.string().nullable(),
});
const ModelUrls = z.object({
  format: z.enum(['onnx', 'gguf']).optional(),
  id: z.string().min(1).max(200),
  config: z.string(),
  tokenizer: z.string(),
  tokenizerConfig: z.string().nullable(),
  onnx: z.string(),
  onnxWithPast: z.string().nullable(),
  onnxFile: z.string(),
  onnxWithPastFile: z.string().nullable(),
  onnxData: z.array(z.object({ path: z.string(), url: z.string() })).max(64),
});

export const WorkerRequestSchema = z.discriminatedUnion('type', [
  z.object({ runId, type: z.literal('load'), model: ModelUrls, backend: z.enum(['auto', 'wasm', 'webgpu', 'native']), threads: z.number().int().min(1).max(256) }),
  z.object({ runId, type: z.literal('tokenize'), text: z.string().max(1_000_000) }),
  z.object({ runId, type: z.literal('forward'), ids: Ids }),
  z.object({ runId, type: z.literal('lens'), ids: Ids }),
  z.object({ runId, type: z.literal('intervene'), ids: Ids, edit: Intervention }),
  z.object({ runId, type: z.literal('generate'), state: GenerationState, sampling: Sampling, count: z.number().int().min(0).max(1 << 16), stop: z.string().optional() }),
  z.object({ runId, type: z.literal('compare-steps'), items: z.array(z.object({ state: GenerationState, sampling: Sampling, stop: z.string().optional() })).max(64) }),
  z.object({ runId, type: z.literal('embedding-neighbours'), id: z.number().int().min(0).optional(), text: z.string().max(10_000).optional(), k: z.number().int().min(1).max(1000) }),
  z.object({ runId, type: z.literal('positions'), count: z.number().int().min(0).max(1 << 20) }),
  z.object({ runId, type: z.literal('surprisal'), ids: Ids, k: z.number().int().min(1).max(100) }),
  z.object({ runId, type: z.literal('cancel'), target: runId }),
]);
