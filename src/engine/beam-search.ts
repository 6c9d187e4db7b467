import type { GenerationState, GenerationStep, StopReason } from './generate';
import type { EngineModel } from './contract';
import { softmaxAndEntropy } from './sampling/distribution';
import { topOrder } from './sampling/filters';
import type { BeamSettings } from '../common/sampler-settings';

interface Beam {
  ids: number[];
  steps: GenerationStep[];
  /** Sum of the natural log-probabilities of the generated tokens. */
  logProb: number;
}

interface Finished extends Beam {
  stopReason: StopReason;
}

export interface BeamOptions {
  maxTokens: number;
  stop?: string;
  isCancelled?: () => boolean;
}

export interface BeamResult extends GenerationState {
  /** The winner's sum of log-probabilities divided by length^lengthPenalty. */
  score: number;
  /** Every finished beam, best first. */
  beams: { ids: number[]; text: string; logProb: number; score: number; stopReason: StopReason }[];
}

/**
 * Beam search, a deterministic reference: keeps the `width` most likely continuations by summed
 * log-probability (ties: earlier beam, then lower id), sets aside a beam that ends (end of text,
 * stop string, full context), and returns the finished beam with the best
 * `logProb / length^lengthPenalty`. Width 1 is greedy decoding. Runs the whole sequence each step.
 */
export async function beamSearch(model: EngineModel, promptIds: readonly number[], settings: BeamSettings, options: BeamOptions): Promise<BeamResult> {
  const eos = model.tokenizer.info.eosId;
  const score = (b: Beam): number => (b.steps.length === 0 ? 0 : b.logProb / b.steps.length ** settings.lengthPenalty);
  const generated = (b: Beam): string => b.steps.map((s) => s.token).join('');
  let alive: Beam[] = [{ ids: [...promptIds], steps: [], logProb: 0 }];
  const finished: Finished[] = [];
  let cancelled = false;
  for (let t = 0; t < options.maxTokens && alive.length > 0; t++) {
    if (options.isCancelled?.()) {
      cancelled = true;
      break;
    }
    const candidates: { beam: number; step: GenerationStep; logProb: number }[] = [];
    for (const [index, beam] of alive.entries()) {
      if (beam.ids.length >= model.config.context) {
        finished.push({ ...beam, stopReason: 'context-full' });
        continue;
      }
      const lastLogits = (await model.forwardBatch([beam.ids])).lastLogits[0] ?? new Float32Array();
      const { probs, entropy } = softmaxAndEntropy(lastLogits, 1, true);
      // The `width` most likely ids (ties: lower id first) by a selection, not a sort of the vocabulary.
      topOrder(probs, settings.width).forEach((id, r) => {
        const piece = model.tokenizer.piece(id);
        const prob = probs[id] ?? 0;
        candidates.push({
          beam: index,
          logProb: beam.logProb + Math.log(prob),
          step: { id, token: piece.text, display: piece.display, prob, rank: r + 1, kept: Math.min(settings.width, probs.length), entropy },
        });
      });
    }
    candidates.sort((a, b) => b.logProb - a.logProb || a.beam - b.beam || a.step.id - b.step.id);
    const next: Beam[] = [];
    for (const c of candidates.slice(0, settings.width)) {
      const parent = alive[c.beam];
      if (!parent) continue;
      const beam: Beam = { ids: [...parent.ids, c.step.id], steps: [...parent.steps, c.step], logProb: c.logProb };
      if (eos !== null && c.step.id === eos) finished.push({ ...beam, stopReason: 'end-of-text' });
      else if (options.stop && generated(beam).includes(options.stop)) finished.push({ ...beam, stopReason: 'stop-string' });
      else next.push(beam);
    }
    alive = next;
  }
  for (const beam of alive) finished.push({ ...beam, stopReason: cancelled ? 'cancelled' : 'max-tokens' });
  const ranked = finished
    .map((b, order) => ({ b, order, score: score(b) }))
    .sort((x, y) => y.score - x.score || x.order - y.order);
  const best = ranked[0]?.b ?? { ids: [...promptIds], steps: [], logProb: 0, stopReason: 'max-tokens' as const };
  return {
    ids: best.ids,
    steps: best.steps,
    rngState: 0,
    stopReason: best.stopReason,
    score: ranked[0]?.score ?? 0,
    beams: ranked.map(({ b, score: s }) => ({ ids: b.ids, text: generated(b), logProb: b.logProb, score: s, stopReason: b.stopReason })),
  };
}
