import type { ZodError } from 'zod';
import { BeamSettings, SamplerSettings, firstIssue } from '../common/sampler-settings';
import { UsageError, numberOption, stringOption, type ParsedCommand } from './option-values';

/** The sampler flags of `ntl generate` and the settings each one sets. */
export const SAMPLER_FLAGS = {
  'repetition-penalty': 'repetitionPenalty',
  'frequency-penalty': 'frequencyPenalty',
  'presence-penalty': 'presencePenalty',
  'penalty-last-n': 'penaltyLastN',
  'dry-multiplier': 'dryMultiplier',
  'dry-base': 'dryBase',
  'dry-allowed-length': 'dryAllowedLength',
  'dry-last-n': 'dryLastN',
  temperature: 'temperature',
  'top-k': 'topK',
  'top-p': 'topP',
  'min-p': 'minP',
  'typical-p': 'typicalP',
  'top-n-sigma': 'topNSigma',
  'xtc-threshold': 'xtcThreshold',
  'xtc-probability': 'xtcProbability',
  'epsilon-cutoff': 'epsilonCutoff',
  'eta-cutoff': 'etaCutoff',
  'mirostat-tau': 'mirostatTau',
  'mirostat-eta': 'mirostatEta',
} as const satisfies Record<string, keyof SamplerSettings>;

export const STRATEGY_NAMES = ['greedy', 'temperature', 'top-k', 'top-p', 'beam'] as const;

/** Options as `parseArgs` wants them, for the command table. */
export const SAMPLER_OPTIONS = Object.fromEntries([...Object.keys(SAMPLER_FLAGS), 'order', 'beam-width', 'length-penalty', 'stop'].map((flag) => [flag, { type: 'string' as const }]));

export type Decoder = { kind: 'sampler'; name: string; settings: SamplerSettings } | { kind: 'beam'; name: 'beam'; beam: BeamSettings };

const flagOf = (key: string): string => {
  if (key === 'width') return 'beam-width';
  if (key === 'lengthPenalty') return 'length-penalty';
  return Object.entries(SAMPLER_FLAGS).find(([, k]) => k === key)?.[0] ?? key;
};

/** The schema's message as a usage error that names the flag. */
function refuse(error: ZodError): UsageError {
  const { path, message } = firstIssue(error);
  return new UsageError(`--${flagOf(path)}: ${path === 'order' ? message.replace(/^order: /, '') : message}`);
}

/**
 * Builds the decoder from the flags. `--strategy` picks a preset whose values the flags override
 * (top-k: T 1, k 10; top-p: T 1, p 0.9; temperature: T 1); without it, the flags alone say what to
 * do, and no sampler flag at all means greedy, as before. `beam` (or `--beam-width` alone) is beam search.
 */
export function decoderFromFlags(values: ParsedCommand['values']): Decoder {
  const name = stringOption(values, 'strategy');
  if (name !== undefined && !(STRATEGY_NAMES as readonly string[]).includes(name)) {
    throw new UsageError(`--strategy: unknown strategy "${name}"; expected ${STRATEGY_NAMES.slice(0, -1).join(', ')} or beam`);
  }
  const given: Record<string, unknown> = {};
  for (const [flag, key] of Object.entries(SAMPLER_FLAGS)) {
    const value = numberOption(values, flag);
    if (value !== undefined) given[key] = value;
  }
  const order = stringOption(values, 'order');
  if (order !== undefined) given['order'] = order.split(',').map((s) => s.trim()).filter((s) => s !== '');
  const isBeam = name === 'beam' || (name === undefined && values['beam-width'] !== undefined);
  if (isBeam) {
    const stray = Object.keys(given)[0];
    if (stray !== undefined) throw new UsageError(`--${flagOf(stray)}: beam search does not sample; leave it out or choose another --strategy`);
    const beam = BeamSettings.safeParse({ width: numberOption(values, 'beam-width') ?? 4, lengthPenalty: numberOption(values, 'length-penalty') });
    if (!beam.success) throw refuse(beam.error);
    return { kind: 'beam', name: 'beam', beam: beam.data };
  }
  for (const flag of ['beam-width', 'length-penalty']) {
    if (values[flag] !== undefined) throw new UsageError(`--${flag}: only for beam search (--strategy beam)`);
  }
  const preset: Record<string, unknown> =
    name === 'greedy' || (name === undefined && Object.keys(given).length === 0)
      ? { greedy: true }
      : name === 'temperature'
        ? { temperature: 1 }
        : name === 'top-k'
          ? { temperature: 1, topK: 10 }
          : name === 'top-p'
            ? { temperature: 1, topP: 0.9 }
            : {};
  const parsed = SamplerSettings.safeParse({ ...preset, ...given });
  if (!parsed.success) throw refuse(parsed.error);
  return { kind: 'sampler', name: name ?? (parsed.data.greedy ? 'greedy' : 'custom'), settings: parsed.data };
}
