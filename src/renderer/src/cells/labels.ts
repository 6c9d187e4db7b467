import type { TokenPiece } from '../../../engine/tokenizer';

/** The bytes a byte piece stands for (`<0xF0><0x9F>`), or null for any other piece. */
function pieceBytes(display: string): number[] | null {
  if (!/^(<0x[0-9A-F]{2}>)+$/.test(display)) return null;
  return [...display.matchAll(/<0x([0-9A-F]{2})>/g)].map((m) => Number.parseInt(m[1] ?? '0', 16));
}

/** How many bytes the UTF-8 character starting with `lead` has; 0 for a byte that cannot start one. */
function utf8Length(lead: number): number {
  if (lead < 0x80) return 1;
  if (lead >= 0xc2 && lead < 0xe0) return 2;
  if (lead >= 0xe0 && lead < 0xf0) return 3;
  if (lead >= 0xf0 && lead < 0xf5) return 4;
  return 0;
}

/** A token as a reader sees it: its label (without position) and how many characters of the text it holds. */
export interface TokenReading {
  label: string;
  /** Characters of the prompt the token holds: a byte piece holds its share of one character (1 of 4 bytes: 0.25). */
  chars: number;
}

const DECODER = new TextDecoder('utf-8', { fatal: true });

/**
 * Reads a run of byte pieces (a character the vocabulary has no token for, split into its UTF-8
 * bytes): each piece is shown as the character it is part of, with which of its bytes it holds
 * ("🌞 bytes 1–2 of 4"), and holds that share of one character. Null where the bytes do not
 * make whole characters (a prompt cut off in the middle of one).
 */
function readByteRun(runs: number[][]): TokenReading[] | null {
  const bytes = runs.flat();
  const chars: { start: number; length: number; text: string }[] = [];
  for (let at = 0; at < bytes.length; ) {
    const length = utf8Length(bytes[at] ?? 0);
    if (length === 0 || at + length > bytes.length) return null;
    let text: string;
    try {
      text = DECODER.decode(new Uint8Array(bytes.slice(at, at + length)));
    } catch {
      return null;
    }
    chars.push({ start: at, length, text });
    at += length;
  }
  const readings: TokenReading[] = [];
  let offset = 0;
  for (const run of runs) {
    const from = offset;
    const to = offset + run.length;
    offset = to;
    const touched = chars.filter((c) => c.start < to && c.start + c.length > from);
    const share = touched.reduce((sum, c) => sum + (Math.min(to, c.start + c.length) - Math.max(from, c.start)) / c.length, 0);
    const first = touched[0];
    if (touched.length === 1 && first && first.length > 1) {
      const a = from - first.start + 1;
      const b = to - first.start;
      readings.push({ label: `${first.text} ${a === b ? `byte ${a}` : `bytes ${a}–${b}`} of ${first.length}`, chars: share });
    } else readings.push({ label: touched.map((c) => c.text).join(''), chars: share });
  }
  return readings;
}

/**
 * Each token read as a person would: its readable piece, byte pieces shown as the character they
 * belong to, and the characters of the text it holds (issue 19, item 8).
 */
export function readTokens(pieces: readonly Pick<TokenPiece, 'text' | 'display'>[]): TokenReading[] {
  const out: TokenReading[] = [];
  for (let i = 0; i < pieces.length; ) {
    const runs: number[][] = [];
    let j = i;
    for (let bytes = pieceBytes(pieces[j]?.display ?? ''); bytes !== null; bytes = pieceBytes(pieces[j]?.display ?? '')) {
      runs.push(bytes);
      j++;
    }
    if (runs.length === 0) {
      const p = pieces[i];
      out.push({ label: p?.display ?? '', chars: [...(p?.text ?? '')].length });
      i++;
      continue;
    }
    const read = readByteRun(runs);
    for (let k = 0; k < runs.length; k++) {
      const p = pieces[i + k];
      out.push(read?.[k] ?? { label: p?.display ?? '', chars: [...(p?.text ?? '')].length });
    }
    i = j;
  }
  return out;
}

/**
 * Axis labels for a prompt's tokens: readable pieces; a label that occurs more than once names its
 * position, as the Attend cell's query list does ("␣the (3)", "␣the (13)").
 */
export function tokenLabels(pieces: readonly Pick<TokenPiece, 'text' | 'display'>[]): string[] {
  const labels = readTokens(pieces).map((r) => r.label);
  const counts = new Map<string, number>();
  for (const l of labels) counts.set(l, (counts.get(l) ?? 0) + 1);
  return labels.map((l, i) => ((counts.get(l) ?? 0) > 1 ? `${l} (${i})` : l));
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
