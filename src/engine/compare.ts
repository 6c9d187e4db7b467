import { z } from 'zod';
import { beamSearch } from './beam-search';
import { generate, type GenerationState } from './generate';
import type { EngineModel } from './contract';
import { columnMetrics, type ColumnMetrics } from './sampling/metrics';
import { BeamSettings, SamplerSettings } from '../common/sampler-settings';
import { SamplingStrategy } from '../common/sampling-strategy';

/**
 * One column of a comparison: a name, a seed, and one way to decode: full sampler `settings`, a
 * `strategy` preset of the Sample cell, or a `beam` search. Without any of them: greedy.
 */
export const ColumnSpec = z
  .strictObject({
    name: z.string().min(1, 'a column needs a name').max(40, 'a column name has at most 40 characters'),
    seed: z.number().int('seed must be a whole number').min(0, 'seed must be at least 0').max(0xffffffff, 'seed must be at most 4294967295').default(42),
    settings: SamplerSettings.optional(),
    strategy: SamplingStrategy.optional(),
    beam: BeamSettings.optional(),
  })
  .refine((c) => [c.settings, c.strategy, c.beam].filter((x) => x !== undefined).length <= 1, 'a column takes one of settings, strategy or beam');
export type ColumnSpec = z.output<typeof ColumnSpec>;

/** `ntl compare --spec FILE.json`: several columns on one prompt and model. */
export const CompareSpec = z.strictObject({
  prompt: z.string().min(1, 'the prompt is empty'),
  model: z.string().min(1).optional(),
  maxTokens: z.number().int('maxTokens must be a whole number').min(1, 'maxTokens must be at least 1').max(4096, 'maxTokens must be at most 4096').default(12),
  stop: z.string().min(1, 'the stop string is empty').optional(),
  columns: z.array(ColumnSpec).min(1, 'a comparison needs at least 1 column').max(6, 'a comparison has at most 6 columns'),
});
export type CompareSpec = z.output<typeof CompareSpec>;

export interface ColumnResult {
  state: GenerationState;
  metrics: ColumnMetrics;
  elapsedMs: number;
}

const now = (): number => (typeof performance !== 'undefined' ? performance.now() : Date.now());

/** Decodes one column after `promptIds` and measures it. Columns run one after the other. */
export async function runColumn(model: EngineModel, promptIds: readonly number[], column: Omit<ColumnSpec, 'name'>, options: { maxTokens: number; stop?: string }): Promise<ColumnResult> {
  const started = now();
  const state = column.beam
    ? await beamSearch(model, promptIds, column.beam, { maxTokens: options.maxTokens, stop: options.stop })
    : await generate(model, promptIds, { strategy: column.settings ?? column.strategy ?? { strategy: 'greedy' }, seed: column.seed, maxTokens: options.maxTokens, stop: options.stop });
  const elapsedMs = now() - started;
  return { state, elapsedMs, metrics: columnMetrics(promptIds, state.steps, elapsedMs) };
}
