import { describe, expect, it } from 'vitest';
import { checkField, rangeText } from '../../src/renderer/src/cells/field-rules';

describe('input errors follow one rule (issue 19, item 7)', () => {
  const seed = { label: 'Seed', min: 0, max: 0xffffffff, isInteger: true };

  it('names the field as the UI does and the range it allows', () => {
    expect(checkField(seed, '-5')).toEqual({ error: 'Seed must be a whole number from 0 to 4,294,967,295, not −5.' });
    expect(checkField({ label: 'top-p', min: 0, max: 1, isMinExclusive: true }, '1.5')).toEqual({ error: 'top-p must be greater than 0 and at most 1, not 1.5.' });
    expect(checkField({ label: 'Tokens', min: 1, max: 256, isInteger: true }, '0')).toEqual({ error: 'Tokens must be a whole number from 1 to 256, not 0.' });
    expect(checkField({ label: 'Tokens', min: 1, max: 256, isInteger: true }, '')).toEqual({ error: 'Tokens must be a whole number from 1 to 256, not an empty box.' });
  });

  it('says where a maximum set by the model comes from', () => {
    const topK = { label: 'top-k', min: 1, max: 1024, isInteger: true, maxReason: "the model's vocabulary size" };
    expect(rangeText(topK)).toBe("a whole number from 1 to 1,024 (the model's vocabulary size)");
    expect(checkField(topK, '2000')).toEqual({ error: "top-k must be a whole number from 1 to 1,024 (the model's vocabulary size), not 2000." });
  });

  it('accepts a value in range, the bounds included unless excluded', () => {
    expect(checkField(seed, ' 0 ')).toEqual({ value: 0 });
    expect(checkField({ label: 'top-p', min: 0, max: 1, isMinExclusive: true }, '1')).toEqual({ value: 1 });
    expect(checkField({ label: 'top-p', min: 0, max: 1, isMinExclusive: true }, '0')).toHaveProperty('error');
    expect(checkField(seed, '2.5')).toHaveProperty('error');
  });
});
