import { z } from 'zod';

/**
 * The stages of the sampler chain, in the default order. `penalties` applies the repetition
 * penalty, then the frequency and presence penalties (one pass, as llama.cpp does); the rest are
 * one filter or transform each. Mirostat comes last because it updates its state from the token
 * that is finally drawn. Documented in docs/sampling.md.
 */
export const STAGES = ['penalties', 'dry', 'temperature', 'top-k', 'top-p', 'min-p', 'typical', 'top-n-sigma', 'xtc', 'epsilon', 'eta', 'mirostat'] as const;
export type StageName = (typeof STAGES)[number];
export const DEFAULT_ORDER: readonly StageName[] = STAGES;

/** llama.cpp's default DRY sequence breakers: a repeated sequence does not continue across them. */
export const DEFAULT_DRY_BREAKERS: readonly string[] = ['\n', ':', '"', '*'];

const lastN = (name: string) =>
  z.number().int(`${name} must be a whole number`).min(-1, `${name} must be -1 (whole history) or at least 0`);

/** The knobs beyond the four presets' (temperature, k, p, greedy), each optional, without defaults. */
const KNOBS = {
  repetitionPenalty: z.number().gt(0, 'repetition penalty must be greater than 0').max(10, 'repetition penalty must be at most 10').optional(),
  frequencyPenalty: z.number().min(-2, 'frequency penalty must be at least -2').max(2, 'frequency penalty must be at most 2').optional(),
  presencePenalty: z.number().min(-2, 'presence penalty must be at least -2').max(2, 'presence penalty must be at most 2').optional(),
  /** How many of the most recent tokens the penalties look at; -1: the whole history, 0: none. */
  penaltyLastN: lastN('penalty last n').optional(),
  dryMultiplier: z.number().min(0, 'DRY multiplier must be at least 0').max(10, 'DRY multiplier must be at most 10').optional(),
  dryBase: z.number().min(1, 'DRY base must be at least 1').max(4, 'DRY base must be at most 4').optional(),
  dryAllowedLength: z.number().int('DRY allowed length must be a whole number').min(1, 'DRY allowed length must be at least 1').max(50, 'DRY allowed length must be at most 50').optional(),
  dryLastN: lastN('DRY last n').optional(),
  drySequenceBreakers: z.array(z.string().min(1, 'a DRY sequence breaker must not be empty')).max(32, 'at most 32 DRY sequence breakers').optional(),
  minP: z.number().min(0, 'min-p must be at least 0').max(1, 'min-p must be at most 1').optional(),
  typicalP: z.number().gt(0, 'typical-p must be greater than 0').max(1, 'typical-p must be at most 1').optional(),
  topNSigma: z.number().min(0, 'top-nσ must be at least 0').max(10, 'top-nσ must be at most 10').optional(),
  xtcThreshold: z.number().min(0, 'XTC threshold must be at least 0').max(1, 'XTC threshold must be at most 1').optional(),
  xtcProbability: z.number().min(0, 'XTC probability must be at least 0').max(1, 'XTC probability must be at most 1').optional(),
  epsilonCutoff: z.number().min(0, 'epsilon cutoff must be at least 0').max(1, 'epsilon cutoff must be at most 1').optional(),
  etaCutoff: z.number().min(0, 'eta cutoff must be at least 0').max(1, 'eta cutoff must be at most 1').optional(),
  mirostatTau: z.number().gt(0, 'Mirostat tau must be greater than 0').max(20, 'Mirostat tau must be at most 20').optional(),
  mirostatEta: z.number().gt(0, 'Mirostat eta must be greater than 0').max(1, 'Mirostat eta must be at most 1').optional(),
  order: z
    .array(z.enum(STAGES, { error: () => `order: unknown stage; the stages are ${STAGES.join(', ')}` }))
    .refine((order) => new Set(order).size === order.length, 'order: each stage may appear only once')
    .optional(),
};

/**
 * The knobs a Sample cell adds to its preset (`SampleParams.knobs`): every setting but
 * temperature, top-k, top-p and greedy, which the preset owns. Absent means off or default.
 */
export const SamplerKnobs = z.strictObject(KNOBS);
export type SamplerKnobs = z.output<typeof SamplerKnobs>;

/**
 * Every knob of the sampler chain. Every parameter is optional and neutral when absent: a stage
 * whose parameter is not set does nothing. Parse with `SamplerSettings.parse` to fill the defaults.
 */
export const SamplerSettings = z
  .strictObject({
    ...KNOBS,
    penaltyLastN: KNOBS.penaltyLastN.default(64),
    dryBase: KNOBS.dryBase.default(1.75),
    dryAllowedLength: KNOBS.dryAllowedLength.default(2),
    dryLastN: KNOBS.dryLastN.default(-1),
    drySequenceBreakers: KNOBS.drySequenceBreakers.default([...DEFAULT_DRY_BREAKERS]),
    temperature: z.number().gt(0, 'temperature must be greater than 0').max(5, 'temperature must be at most 5').optional(),
    topK: z.number().int('k must be a whole number').min(1, 'k must be at least 1').optional(),
    topP: z.number().gt(0, 'p must be greater than 0').max(1, 'p must be at most 1').optional(),
    xtcThreshold: KNOBS.xtcThreshold.default(0.1),
    mirostatEta: KNOBS.mirostatEta.default(0.1),
    /** Take the most likely token of the filtered distribution instead of drawing one. */
    greedy: z.boolean().default(false),
    order: KNOBS.order.default([...DEFAULT_ORDER]),
  })
  .superRefine((s, ctx) => {
    const used: [StageName, boolean][] = [
      ['penalties', s.repetitionPenalty !== undefined || s.frequencyPenalty !== undefined || s.presencePenalty !== undefined],
      ['dry', s.dryMultiplier !== undefined],
      ['temperature', s.temperature !== undefined],
      ['top-k', s.topK !== undefined],
      ['top-p', s.topP !== undefined],
      ['min-p', s.minP !== undefined],
      ['typical', s.typicalP !== undefined],
      ['top-n-sigma', s.topNSigma !== undefined],
      ['xtc', s.xtcProbability !== undefined],
      ['epsilon', s.epsilonCutoff !== undefined],
      ['eta', s.etaCutoff !== undefined],
      ['mirostat', s.mirostatTau !== undefined],
    ];
    for (const [stage, isSet] of used) {
      if (isSet && !s.order.includes(stage)) ctx.addIssue({ code: 'custom', path: ['order'], message: `order: ${stage} is set but not in the order` });
    }
  });
export type SamplerSettings = z.output<typeof SamplerSettings>;
export type SamplerSettingsInput = z.input<typeof SamplerSettings>;

/** Beam search: a deterministic reference, not a sampler. */
export const BeamSettings = z.strictObject({
  width: z.number().int('beam width must be a whole number').min(1, 'beam width must be at least 1').max(8, 'beam width must be at most 8'),
  /** Finished beams are ranked by sum of log-probabilities / length^lengthPenalty. */
  lengthPenalty: z.number().min(-5, 'length penalty must be at least -5').max(5, 'length penalty must be at most 5').default(1),
});
export type BeamSettings = z.output<typeof BeamSettings>;

/** The first schema issue as one line: what the CLI and the controls show. */
export function firstIssue(error: z.ZodError): { path: string; message: string } {
  const issue = error.issues[0];
  return { path: String(issue?.path[0] ?? ''), message: issue?.message ?? 'invalid settings' };
}
