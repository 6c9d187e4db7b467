import { describe, expect, it } from 'vitest';
import { CELL_PARAMS } from '../../src/common/cells';
import { compareRows, contextRows, paramRows } from '../../src/renderer/src/report/report-params';

describe("the report's parameters, in the words the cells use (issue 19)", () => {
  it('names the query token, the sampling preset and only the knobs that are set', () => {
    expect(paramRows({ kind: 'attend', params: CELL_PARAMS.attend.parse({ layer: 1, head: 2 }) }, ['The', '␣sun', '␣rises'])).toEqual([
      ['Layer', '1'],
      ['Head', '2'],
      ['Query token', 'the last token (2: ␣rises)'],
    ]);
    expect(paramRows({ kind: 'attend', params: CELL_PARAMS.attend.parse({ query: 1 }) }, ['The', '␣sun', '␣rises'])[2]).toEqual(['Query token', '1: ␣sun']);
    expect(paramRows({ kind: 'sample', params: CELL_PARAMS.sample.parse({}) })).toEqual([
      ['Strategy', 'greedy (always the most likely token)'],
      ['Seed', '42'],
      ['Tokens', '12'],
    ]);
    const topP = CELL_PARAMS.sample.parse({ sampling: { strategy: 'top-p', temperature: 0.8, topP: 0.9 }, knobs: { minP: 0.05, repetitionPenalty: 1.2 }, stop: '.', seed: 7 });
    expect(paramRows({ kind: 'sample', params: topP })).toEqual([
      ['Strategy', 'top-p: temperature 0.8, top-p 0.9'],
      ['min-p', '0.05'],
      ['repetition penalty', '1.2'],
      ['Stop at', '"."'],
      ['Seed', '7'],
      ['Tokens', '12'],
    ]);
    expect(paramRows({ kind: 'predict', params: CELL_PARAMS.predict.parse({}) })).toEqual([
      ['Top k', '10'],
      ['Temperature', '1'],
    ]);
    expect(paramRows({ kind: 'tokenize', params: {} })).toEqual([]);
    const text = JSON.stringify(paramRows({ kind: 'sample', params: topP }));
    for (const internal of ['knobs', 'sampling', '{"strategy"', 'topK', '-1']) expect(text).not.toContain(internal);
  });

  it("lists Compare's columns and Context's prompts", () => {
    expect(compareRows({ maxTokens: 8, columns: [{ name: 'A', seed: 42, strategy: { strategy: 'greedy' } }, { name: 'B', seed: 7, strategy: { strategy: 'top-k', temperature: 0.8, topK: 5 } }] })).toEqual([
      ['Tokens', '8'],
      ['Column A', 'greedy (always the most likely token); seed 42'],
      ['Column B', 'top-k: temperature 0.8, top-k 5; seed 7'],
    ]);
    expect(contextRows({ a: 'money in the bank', b: 'sat on the bank', word: null })).toEqual([
      ['Prompt A', 'money in the bank'],
      ['Prompt B', 'sat on the bank'],
      ['Shared word', 'the last token the prompts share'],
    ]);
  });
});
