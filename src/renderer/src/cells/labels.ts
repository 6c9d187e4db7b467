import type { TokenPiece } from '../../../engine/tokenizer';
import { uniqueLabels } from '../charts/options';

/** Axis labels for a prompt's tokens: readable pieces, repeated ones numbered. */
export function tokenLabels(pieces: readonly TokenPiece[]): string[] {
  return uniqueLabels(pieces.map((p) => p.display));
}

export const percent = (v: number): string => `${(v * 100).toFixed(v < 0.001 ? 3 : 1)}%`;
