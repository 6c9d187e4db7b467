import { describe, expect, it } from 'vitest';
import { formatPointChange, readTokens, tokenLabels } from '../../src/renderer/src/cells/labels';
import { statusLabel } from '../../src/renderer/src/components/status-label';

describe('labels (issue 19, item 8)', () => {
  it('a change in percentage points shows its size, however small', () => {
    expect(formatPointChange(0.9996, 0.9991)).toBe('−0.05 points');
    expect(formatPointChange(0.461, 0.344)).toBe('−11.7 points');
    expect(formatPointChange(0.2, 0.2004)).toBe('+0.04 points');
    expect(formatPointChange(0.2, 0.20004)).toBe('+0.004 points');
    expect(formatPointChange(0.5, 0.5)).toBe('±0 points');
    expect(formatPointChange(0.5, 0.500000001)).toBe('+under 0.001 points');
  });

  it('a cell that took under a millisecond does not say "0 ms"', () => {
    expect(statusLabel('done', 0.2)).toBe('done in under 1 ms');
    expect(statusLabel('done', 141.4)).toBe('done in 141 ms');
    expect(statusLabel('done')).toBe('done');
  });
});

describe('token labels a reader can read (issue 19, item 8)', () => {
  const piece = (display: string, text = display): { text: string; display: string } => ({ text, display });

  it('names the position of a repeated token instead of counting it', () => {
    expect(tokenLabels([piece('The'), piece('␣sun'), piece('␣the'), piece('␣moon'), piece('␣the')])).toEqual(['The', '␣sun', '␣the (2)', '␣moon', '␣the (4)']);
  });

  it('shows byte pieces as the character they are part of, and counts characters, not pieces', () => {
    // 🌞 is F0 9F 8C 9E in UTF-8: four pieces of one byte, or two of two.
    const sun = ['<0xF0>', '<0x9F>', '<0x8C>', '<0x9E>'].map((d) => piece(d, '\uFFFD'));
    expect(tokenLabels([piece('A'), ...sun, piece('␣sun')])).toEqual(['A', '🌞 byte 1 of 4', '🌞 byte 2 of 4', '🌞 byte 3 of 4', '🌞 byte 4 of 4', '␣sun']);
    expect(readTokens([piece('A'), ...sun]).map((r) => r.chars)).toEqual([1, 0.25, 0.25, 0.25, 0.25]);
    const pairs = [piece('<0xF0><0x9F>', '\uFFFD'), piece('<0x8C><0x9E>', '\uFFFD')];
    expect(readTokens(pairs)).toEqual([
      { label: '🌞 bytes 1–2 of 4', chars: 0.5 },
      { label: '🌞 bytes 3–4 of 4', chars: 0.5 },
    ]);
    // Two suns: the same labels twice, told apart by position.
    expect(tokenLabels([...pairs, ...pairs])).toEqual(['🌞 bytes 1–2 of 4 (0)', '🌞 bytes 3–4 of 4 (1)', '🌞 bytes 1–2 of 4 (2)', '🌞 bytes 3–4 of 4 (3)']);
    // é (C3 A9) then a piece holding the end of one character and the whole of the next.
    expect(readTokens([piece('<0xC3>'), piece('<0xA9><0x41>')])).toEqual([
      { label: 'é byte 1 of 2', chars: 0.5 },
      { label: 'éA', chars: 1.5 },
    ]);
  });

  it('keeps the bytes where they make no whole character (a prompt cut in the middle of one)', () => {
    expect(readTokens([piece('<0xF0>', '\uFFFD'), piece('<0x9F>', '\uFFFD')])).toEqual([
      { label: '<0xF0>', chars: 1 },
      { label: '<0x9F>', chars: 1 },
    ]);
  });
});
