import { z } from 'zod';
import { SamplerKnobs, SamplerSettings } from './sampler-settings';
import { presetInput, SamplingStrategy } from './sampling-strategy';

export const CELL_KINDS = ['tokenize', 'embed', 'attend', 'predict', 'sample'] as const;
export type CellKind = (typeof CELL_KINDS)[number];

export const TokenizeParams = z.object({});
export const EmbedParams = z.object({
  /** First dimension shown in the heatmap, for wide models. */
  dimStart: z.number().int().min(0).default(0),
  dimCount: z.number().int().min(1).max(512).default(64),
});
export const AttendParams = z.object({
  layer: z.number().int().min(0).default(0),
  head: z.number().int().min(0).default(0),
  /** Query position whose weighted sum is shown; -1 means the last token. */
  query: z.number().int().min(-1).default(-1),
});
export const PredictParams = z.object({
  topK: z.number().int().min(1, 'k must be at least 1').max(50, 'k must be at most 50').default(10),
  temperature: z.number().gt(0, 'temperature must be greater than 0').max(5).default(1),
});
export const SampleParams = z
  .object({
    /** The preset: greedy, temperature, top-k or top-p. */
    sampling: SamplingStrategy.default({ strategy: 'greedy' }),
    /** More stages of the sampler chain on top of the preset (docs/sampling.md); empty: the preset alone. */
    knobs: SamplerKnobs.default({}),
    /** Generation stops once the generated text contains it; empty: no stop string. */
    stop: z.string().max(200, 'the stop string must be at most 200 characters').default(''),
    seed: z.number().int().min(0).max(0xffffffff).default(42),
    maxTokens: z.number().int().min(1).max(256).default(12),
  })
  .superRefine((p, ctx) => {
    const merged = SamplerSettings.safeParse({ ...presetInput(p.sampling), ...p.knobs });
    for (const issue of merged.success ? [] : merged.error.issues) ctx.addIssue({ code: 'custom', path: ['knobs', ...issue.path.map(String)], message: issue.message });
  });

export const CELL_PARAMS = {
  tokenize: TokenizeParams,
  embed: EmbedParams,
  attend: AttendParams,
  predict: PredictParams,
  sample: SampleParams,
} as const;

export type CellParams = { [K in CellKind]: z.infer<(typeof CELL_PARAMS)[K]> };

/**
 * What each cell reads. `forward` is the one forward pass that Embed, Attend and Predict share.
 * Editing the prompt or the model makes every cell stale; a cell's own parameters make only it
 * (and its dependants) stale.
 */
export const CELL_DEPENDS_ON: Record<CellKind, readonly CellKind[]> = {
  tokenize: [],
  embed: ['tokenize'],
  attend: ['tokenize'],
  predict: ['tokenize'],
  sample: ['predict'],
};

/** Cells that depend on `kind`, directly or not. */
export function dependants(kind: CellKind): CellKind[] {
  const out = new Set<CellKind>();
  const visit = (k: CellKind): void => {
    for (const other of CELL_KINDS) {
      if (CELL_DEPENDS_ON[other].includes(k) && !out.has(other)) {
        out.add(other);
        visit(other);
      }
    }
  };
  visit(kind);
  return [...out];
}

/** Cells that must run before `kind`, in run order. */
export function ancestors(kind: CellKind): CellKind[] {
  const out: CellKind[] = [];
  const visit = (k: CellKind): void => {
    for (const parent of CELL_DEPENDS_ON[k]) {
      visit(parent);
      if (!out.includes(parent)) out.push(parent);
    }
  };
  visit(kind);
  return out;
}

export type CellStatus = 'idle' | 'stale' | 'running' | 'done' | 'error';
