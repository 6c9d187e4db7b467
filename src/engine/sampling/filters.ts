import { softmax } from './distribution';
import { kept, stageProbabilities } from './stage-softmax';
import { REACH, topPCut } from './top-p-cut';

/**
 * The stages of the sampler chain as pure functions on logits. A removed token has the logit
 * -Infinity; each function returns a new array and never removes every token: when nothing would
 * be left, the most likely remaining token stays. Semantics: docs/sampling.md.
 */
export type Logits = Float64Array;

const isAlive = (logit: number | undefined): boolean => logit !== undefined && logit > -Infinity;

/** Ids of the remaining tokens, most likely first; ties keep the lower id first. */
export function liveOrder(logits: Logits): number[] {
  const ids: number[] = [];
  for (let i = 0; i < logits.length; i++) if (isAlive(logits[i])) ids.push(i);
  return ids.sort((a, b) => (logits[b] ?? 0) - (logits[a] ?? 0) || a - b);
}

/** `liveOrder(logits)[0]` in one pass, without sorting the vocabulary: the greedy pick; -1 when no token is left. */
export function mostLikely(logits: Logits): number {
  let best = -1;
  for (let i = 0; i < logits.length; i++) {
    const l = logits[i];
    if (isAlive(l) && (best === -1 || (l ?? 0) > (logits[best] ?? 0))) best = i;
  }
  return best;
}

/** Softmax over the remaining tokens (removed ones get 0). */
export const probabilities = (logits: Logits): Float64Array => softmax(logits, 1);

/** Number of tokens left. */
export function liveCount(logits: Logits): number {
  let n = 0;
  for (let i = 0; i < logits.length; i++) if ((logits[i] ?? -Infinity) > -Infinity) n++;
  return n;
}

/** Keeps the tokens `keep` says yes to, or the most likely one when it says yes to none. */
function keepWhere(logits: Logits, keep: (id: number) => boolean): Logits {
  const out = new Float64Array(logits.length).fill(-Infinity);
  let any = false;
  for (let i = 0; i < logits.length; i++) {
    if (isAlive(logits[i]) && keep(i)) {
      out[i] = logits[i] ?? -Infinity;
      any = true;
    }
  }
  if (!any) {
    const best = mostLikely(logits);
    if (best !== -1) out[best] = logits[best] ?? -Infinity;
  }
  return kept(out, logits);
}

/** Keeps the first `count` (at least one) of `order`, ids of remaining tokens. */
function keepFirst(logits: Logits, order: readonly number[], count: number): Logits {
  const out = new Float64Array(logits.length).fill(-Infinity);
  const end = Math.min(order.length, Math.max(1, count));
  for (let k = 0; k < end; k++) {
    const id = order[k] ?? 0;
    out[id] = logits[id] ?? -Infinity;
  }
  return kept(out, logits);
}

/**
 * Keeps the `count` (at least one) most likely remaining tokens, ties at the cut taking the lower
 * ids first: those above the count-th largest logit, then those equal to it, in id order.
 */
function keepTop(logits: Logits, count: number): Logits {
  const live = liveValues(logits);
  if (count >= live.length) return keepWhere(logits, () => true);
  const m = Math.max(1, count);
  const bar = select(live, live.length - m);
  const out = new Float64Array(logits.length).fill(-Infinity);
  let above = 0;
  for (let i = 0; i < logits.length; i++) {
    const l = logits[i] ?? -Infinity;
    if (l > bar) {
      out[i] = l;
      above++;
    }
  }
  for (let i = 0; i < logits.length && above < m; i++) {
    const l = logits[i] ?? -Infinity;
    // The token's own logit, not the bar: 0 and -0 tie, and a kept logit keeps its sign.
    if (l === bar) {
      out[i] = l;
      above++;
    }
  }
  return kept(out, logits);
}

/** The remaining tokens' logits, in id order, in an array of their own. */
function liveValues(logits: Logits): Float64Array {
  const live = new Float64Array(logits.length);
  let n = 0;
  for (let i = 0; i < logits.length; i++) {
    const l = logits[i] ?? -Infinity;
    if (l > -Infinity) live[n++] = l;
  }
  return live.subarray(0, n);
}

/** The window of the history the penalties look at: -1 the whole history, 0 nothing. */
export function lastTokens(history: readonly number[], lastN: number): readonly number[] {
  if (lastN < 0) return history;
  return lastN === 0 ? [] : history.slice(Math.max(0, history.length - lastN));
}

/**
 * CTRL-style repetition penalty, then OpenAI-style frequency and presence penalties, over the
 * tokens of `window`: a positive logit is divided by `repetition`, a negative one multiplied; then
 * `count × frequency + (count > 0) × presence` is subtracted.
 */
export function applyPenalties(logits: Logits, window: readonly number[], repetition = 1, frequency = 0, presence = 0): Logits {
  const out = Float64Array.from(logits);
  const counts = new Map<number, number>();
  for (const id of window) if (id >= 0 && id < out.length) counts.set(id, (counts.get(id) ?? 0) + 1);
  for (const [id, count] of counts) {
    let l = out[id] ?? -Infinity;
    if (!isAlive(l)) continue;
    l = l > 0 ? l / repetition : l * repetition;
    l -= count * frequency + presence;
    out[id] = l;
  }
  return out;
}

export interface DryOptions {
  multiplier: number;
  base: number;
  allowedLength: number;
}

/** Longest match DRY extends backwards: keeps `base ** length` finite. */
const DRY_MAX_MATCH = 50;

/**
 * DRY ("don't repeat yourself"): for each earlier occurrence of the last token, the length of the
 * match between the text before it and the end of the history; the token that followed it would
 * extend the repetition. A token whose longest such match reaches `allowedLength` loses
 * `multiplier × base^(length − allowedLength)` from its logit. Matches stop at sequence breakers.
 */
export function applyDry(logits: Logits, history: readonly number[], options: DryOptions, isBreaker: (id: number) => boolean = () => false): Logits {
  const out = Float64Array.from(logits);
  const n = history.length;
  const last = history[n - 1];
  if (options.multiplier === 0 || last === undefined || isBreaker(last)) return out;
  const longest = new Map<number, number>();
  for (let i = 0; i < n - 1; i++) {
    if (history[i] !== last) continue;
    const next = history[i + 1] ?? -1;
    if (isBreaker(next)) continue;
    let length = 1;
    while (length < DRY_MAX_MATCH) {
      const j = i - length;
      if (j < 0) break;
      const previous = history[n - 1 - length] ?? -1;
      if (history[j] !== previous || isBreaker(previous)) break;
      length++;
    }
    longest.set(next, Math.max(length, longest.get(next) ?? 0));
  }
  for (const [id, length] of longest) {
    if (length < options.allowedLength || !isAlive(out[id])) continue;
    out[id] = (out[id] ?? 0) - options.multiplier * options.base ** (length - options.allowedLength);
  }
  return out;
}

export function applyTemperature(logits: Logits, temperature: number): Logits {
  const out = new Float64Array(logits.length);
  for (let i = 0; i < logits.length; i++) {
    const l = logits[i] ?? -Infinity;
    out[i] = l > -Infinity ? l / temperature : l;
  }
  return out;
}

/** The n-th smallest value (0-based) of `a`, which it reorders: Hoare's quickselect, O(length). */
function select(a: Float64Array, n: number): number {
  let lo = 0;
  let hi = a.length - 1;
  while (hi > lo) {
    const pivot = a[(lo + hi) >>> 1] ?? 0;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while ((a[i] ?? 0) < pivot) i++;
      while ((a[j] ?? 0) > pivot) j--;
      if (i <= j) {
        const t = a[i] ?? 0;
        a[i] = a[j] ?? 0;
        a[j] = t;
        i++;
        j--;
      }
    }
    if (n <= j) hi = j;
    else if (n >= i) lo = i;
    else break;
  }
  return a[n] ?? 0;
}

/**
 * The m most likely remaining ids, most likely first (ties: lower id first): `liveOrder` cut to m,
 * without sorting the whole vocabulary (a selection finds the m-th logit, then only m ids are sorted).
 */
export function topOrder(logits: Logits, m: number): number[] {
  const live = liveValues(logits);
  if (m >= live.length) return liveOrder(logits);
  const bar = select(live, live.length - Math.max(1, m));
  const ids: number[] = [];
  for (let i = 0; i < logits.length; i++) if ((logits[i] ?? -Infinity) > bar) ids.push(i);
  for (let i = 0; i < logits.length && ids.length < m; i++) if (logits[i] === bar) ids.push(i);
  return ids.sort((a, b) => (logits[b] ?? 0) - (logits[a] ?? 0) || a - b);
}

/** The k most likely tokens (ties: lower id first). */
export function topKFilter(logits: Logits, k: number): Logits {
  return keepTop(logits, k);
}

/**
 * The smallest set of most likely tokens whose probability reaches p, the crossing token included.
 * The probabilities are summed from the largest down: a token's probability never falls as its logit
 * rises, so their descending order is that of the logits, and the sums are those over the tokens in
 * logit order, without sorting ids (`topPCut`).
 */
export function topPFilter(logits: Logits, p: number): Logits {
  const probs = stageProbabilities(logits);
  const { cut, count } = topPCut(logits, probs, p);
  return keepAtLeast(logits, probs, cut, count) ?? keepTop(logits, count);
}

/**
 * `keepTop(logits, count)` without a selection, when the tokens whose probability reaches `cut`
 * are `count` of them and every one has a larger logit than every remaining token left out (no tie
 * at the cut to settle): they are then the `count` most likely. Null when that does not hold.
 */
function keepAtLeast(logits: Logits, probs: Float64Array, cut: number, count: number): Logits | null {
  const out = new Float64Array(logits.length).fill(-Infinity);
  let reach = 0;
  let lowestIn = Infinity;
  let highestOut = -Infinity;
  for (let i = 0; i < logits.length; i++) {
    const l = logits[i] ?? -Infinity;
    if (!(l > -Infinity)) continue;
    if ((probs[i] ?? 0) >= cut) {
      out[i] = l;
      reach++;
      if (l < lowestIn) lowestIn = l;
    } else if (l > highestOut) highestOut = l;
  }
  if (reach !== count || !(lowestIn > highestOut)) return null;
  return kept(out, logits);
}

/** Tokens with probability at least `minP` times the top token's. */
export function minPFilter(logits: Logits, minP: number): Logits {
  const probs = stageProbabilities(logits);
  let top = 0;
  for (let i = 0; i < probs.length; i++) top = Math.max(top, probs[i] ?? 0);
  return keepWhere(logits, (id) => (probs[id] ?? 0) >= minP * top);
}

/**
 * Locally typical sampling (Meister et al., 2022): order tokens by how far their surprise −ln p is
 * from the entropy, and keep the smallest such prefix whose probability reaches `p`.
 */
export function typicalFilter(logits: Logits, p: number): Logits {
  if (p >= 1) return Float64Array.from(logits);
  const probs = stageProbabilities(logits);
  const live = liveOrder(logits);
  let entropy = 0;
  for (const id of live) {
    const q = probs[id] ?? 0;
    if (q > 0) entropy -= q * Math.log(q);
  }
  const distance = (id: number): number => {
    const q = probs[id] ?? 0;
    return q > 0 ? Math.abs(-Math.log(q) - entropy) : Infinity;
  };
  const order = [...live].sort((a, b) => distance(a) - distance(b) || a - b);
  let cumulative = 0;
  let count = 0;
  for (const id of order) {
    cumulative += probs[id] ?? 0;
    count++;
    if (cumulative >= p - REACH) break;
  }
  return keepFirst(logits, order, count);
}

/** Top-nσ (Tang et al., 2024): logits at least max − n·σ, σ the standard deviation of the remaining logits. */
export function topNSigmaFilter(logits: Logits, n: number): Logits {
  // Summed from the largest down, the order the mean and σ have always been taken in.
  const values = liveValues(logits).sort().reverse();
  if (values.length === 0) return Float64Array.from(logits);
  let total = 0;
  for (let i = 0; i < values.length; i++) total += values[i] ?? 0;
  const mean = total / values.length;
  let squares = 0;
  for (let i = 0; i < values.length; i++) squares += ((values[i] ?? 0) - mean) ** 2;
  const sigma = Math.sqrt(squares / values.length);
  const max = values[0] ?? 0;
  return keepWhere(logits, (id) => (logits[id] ?? -Infinity) >= max - n * sigma);
}

/**
 * XTC's removal (the coin flip is the chain's): when at least two tokens have probability at
 * least `threshold`, remove all of them except the least likely one.
 */
export function xtcFilter(logits: Logits, threshold: number): Logits {
  const probs = stageProbabilities(logits);
  const candidates: number[] = [];
  for (let i = 0; i < logits.length; i++) if (isAlive(logits[i]) && (probs[i] ?? 0) >= threshold) candidates.push(i);
  const above = candidates.sort((a, b) => (logits[b] ?? 0) - (logits[a] ?? 0) || a - b);
  if (above.length < 2) return Float64Array.from(logits);
  const removed = new Set(above.slice(0, -1));
  return keepWhere(logits, (id) => !removed.has(id));
}

/** Epsilon sampling (Hewitt et al., 2022): tokens with probability at least ε. */
export function epsilonFilter(logits: Logits, epsilon: number): Logits {
  const probs = stageProbabilities(logits);
  return keepWhere(logits, (id) => (probs[id] ?? 0) >= epsilon);
}

/** Eta sampling (Hewitt et al., 2022): tokens with probability at least min(η, √η·e^(−H)), H the entropy in nats. */
export function etaFilter(logits: Logits, eta: number): Logits {
  const probs = stageProbabilities(logits);
  let entropy = 0;
  for (let i = 0; i < probs.length; i++) {
    const q = probs[i] ?? 0;
    if (q > 0) entropy -= q * Math.log(q);
  }
  const threshold = Math.min(eta, Math.sqrt(eta) * Math.exp(-entropy));
  return keepWhere(logits, (id) => (probs[id] ?? 0) >= threshold);
}

/** Mirostat v2's truncation (Basu et al., 2021): tokens whose surprise −log2 p is at most `mu`. */
export function mirostatFilter(logits: Logits, mu: number): Logits {
  const probs = stageProbabilities(logits);
  return keepWhere(logits, (id) => -Math.log2(probs[id] ?? 0) <= mu);
}
