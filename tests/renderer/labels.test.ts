import { describe, expect, it } from 'vitest';
import { formatPointChange } from '../../src/renderer/src/cells/labels';
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
