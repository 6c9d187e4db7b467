import { DEFAULT_ORDER, type SamplerSettings } from './sampler-settings';

/**
 * The lab's sampler settings as the completions API's sampling parameters (vLLM's names), and the
 * settings no completions server takes, each with the reason: shown on a column as "not applied by
 * this server", never dropped silently.
 */
export interface RemoteSampling {
  sent: Record<string, number>;
  notApplied: { setting: string; reason: string }[];
}

/** The completions API's names for the lab's sampler settings (vLLM's sampling parameters). */
export const SENT = [
  ['temperature', 'temperature'],
  ['topK', 'top_k'],
  ['topP', 'top_p'],
  ['minP', 'min_p'],
  ['repetitionPenalty', 'repetition_penalty'],
  ['frequencyPenalty', 'frequency_penalty'],
  ['presencePenalty', 'presence_penalty'],
] as const satisfies readonly (readonly [keyof SamplerSettings, string])[];

/** Settings that switch on a stage no completions server has, by the name people know them by. */
const NOT_SENT: readonly { setting: string; isOn: (s: SamplerSettings) => boolean }[] = [
  { setting: 'typical-p', isOn: (s) => s.typicalP !== undefined },
  { setting: 'top-nσ', isOn: (s) => s.topNSigma !== undefined },
  { setting: 'DRY', isOn: (s) => s.dryMultiplier !== undefined },
  { setting: 'XTC', isOn: (s) => s.xtcProbability !== undefined },
  { setting: 'epsilon cutoff', isOn: (s) => s.epsilonCutoff !== undefined },
  { setting: 'eta cutoff', isOn: (s) => s.etaCutoff !== undefined },
  { setting: 'Mirostat', isOn: (s) => s.mirostatTau !== undefined },
  {
    setting: 'penalty window',
    isOn: (s) => (s.repetitionPenalty !== undefined || s.frequencyPenalty !== undefined || s.presencePenalty !== undefined) && s.penaltyLastN !== 64,
  },
  { setting: 'stage order', isOn: (s) => s.order.length !== DEFAULT_ORDER.length || s.order.some((stage, i) => stage !== DEFAULT_ORDER[i]) },
];

export const NOT_APPLIED_REASON = 'not applied by this server: the completions API has no such parameter';

export function remoteSampling(settings: SamplerSettings): RemoteSampling {
  const sent: Record<string, number> = {};
  if (settings.greedy) sent['temperature'] = 0;
  for (const [key, name] of SENT) {
    const value = settings[key];
    if (value !== undefined && !(settings.greedy && key === 'temperature')) sent[name] = value;
  }
  const notApplied = NOT_SENT.filter((n) => n.isOn(settings)).map((n) => ({ setting: n.setting, reason: NOT_APPLIED_REASON }));
  return { sent, notApplied };
}
