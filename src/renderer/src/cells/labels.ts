import type { TokenPiece } from '../../../engine/tokenizer';
import { uniqueLabels } from '../charts/options';

/** Axis labels for a prompt's tokens: readable pieces, repeated ones numbered. */
export function tokenLabels(pieces: readonly TokenPiece[]): string[] {
  return uniqueLabels(pieces.map((p) => p.display));
}

export { formatPercent as percent } from '../charts/options';

/**
 * The change from one probability to another in percentage points, with enough digits to show it:
 * 99.96% → 99.91% is "−0.05 points", not "−0.0 points".
 */
export function formatPointChange(before: number, after: number): string {
  const points = (after - before) * 100;
  if (points === 0) return '±0 points';
  const size = Math.abs(points);
  const digits = size >= 0.1 ? 1 : size >= 0.01 ? 2 : 3;
  const text = size < 0.001 ? 'under 0.001' : size.toFixed(digits);
  return `${points > 0 ? '+' : '−'}${text} points`;
}
