import { describe, expect, it } from 'vitest';
import { countText } from '../../src/renderer/src/count-text';

describe('countText (whole numbers as en-US writes them, without Intl)', () => {
  it('groups thousands by commas', () => {
    expect(countText(0)).toBe('0');
    expect(countText(999)).toBe('999');
    expect(countText(1000)).toBe('1,000');
    expect(countText(50257)).toBe('50,257');
    expect(countText(4294967295)).toBe('4,294,967,295');
    expect(countText(-1024)).toBe('-1,024');
  });

  it("matches toLocaleString('en-US') for whole numbers of every length", () => {
    for (let digits = 1; digits <= 16; digits++) {
      for (const n of [10 ** (digits - 1), 10 ** digits - 1, Math.floor(10 ** (digits - 1) * 7.3)]) {
        expect(countText(n)).toBe(n.toLocaleString('en-US'));
        expect(countText(-n)).toBe((-n).toLocaleString('en-US'));
      }
    }
  });
});
