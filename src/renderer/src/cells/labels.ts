import type { TokenPiece } from '../../../engine/tokenizer';
import { uniqueLabels } from '../charts/options';

/** Axis labels for a prompt's tokens: readable pieces, repeated ones numbered. */
export function tokenLabels(pieces: readonly TokenPiece[]): string[] {
  return uniqueLabels(pieces.map((p) => p.display));
}

export { formatPercent as percent } from '../charts/options';
