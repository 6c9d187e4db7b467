import { SamplerSettings } from '../../src/common/sampler-settings';

/** Every stage of the sampler chain on at once, with values that leave tokens to choose from on the bundled models. */
export const EVERY_SAMPLER = SamplerSettings.parse({
  repetitionPenalty: 1.2,
  frequencyPenalty: 0.2,
  presencePenalty: 0.1,
  dryMultiplier: 0.8,
  temperature: 1.1,
  topK: 40,
  topP: 0.95,
  minP: 0.02,
  typicalP: 0.98,
  topNSigma: 2,
  xtcProbability: 0.5,
  xtcThreshold: 0.1,
  epsilonCutoff: 0.001,
  etaCutoff: 0.001,
  mirostatTau: 4,
});
