import { describe, expect, it } from 'vitest';
import { errorBodyMessage, parseCompletion, parseLenientJson, parseLogprobs, parseModelList, parseTokenize } from '../../src/node/openai-responses';
import { serverRoots } from '../../src/node/openai-client';
import { promptSurprisal, rankInRow } from '../../src/engine/surprisal';

/**
 * Answers as each server's documentation shows them (vLLM's OpenAI-compatible server, llama.cpp's
 * llama-server, Ollama's OpenAI endpoint), and what the parser makes of them.
 */
describe('completion responses of different servers', () => {
  it('vLLM / OpenAI legacy: logprobs in tokens/token_logprobs/top_logprobs, the echoed first token null, −9999 as −∞', () => {
    const body = {
      id: 'cmpl-1',
      object: 'text_completion',
      model: 'm',
      choices: [
        {
          index: 0,
          text: 'The sun',
          logprobs: {
            tokens: ['The', ' sun'],
            token_logprobs: [null, -1.5],
            top_logprobs: [null, { ' cat': -1.2, ' sun': -1.5, ' zzz': -9999.0 }],
            text_offset: [0, 3],
          },
          finish_reason: 'length',
          stop_reason: null,
        },
      ],
      usage: { prompt_tokens: 2, completion_tokens: 0, total_tokens: 2 },
    };
    const parsed = parseCompletion(body);
    expect(parsed?.text).toBe('The sun');
    expect(parsed?.finishReason).toBe('length');
    expect(parsed?.tokens?.[0]).toEqual({ token: 'The', id: null, logprob: null, top: null });
    expect(parsed?.tokens?.[1]?.logprob).toBe(-1.5);
    expect(parsed?.tokens?.[1]?.top?.map((t) => t.token)).toEqual([' cat', ' sun', ' zzz']);
    expect(parsed?.tokens?.[1]?.top?.[2]?.logprob).toBe(-Infinity);
  });

  it('vLLM with return_tokens_as_token_ids: "token_id:N" gives the id', () => {
    const tokens = parseLogprobs({ tokens: ['token_id:313'], token_logprobs: [-0.1], top_logprobs: [{ 'token_id:313': -0.1, 'token_id:7': -3 }] });
    expect(tokens?.[0]?.id).toBe(313);
    expect(tokens?.[0]?.top?.map((t) => t.id)).toEqual([313, 7]);
  });

  it('llama.cpp server: logprobs.content entries with id, token, bytes and top_logprobs (sorted here by log-probability)', () => {
    const body = {
      choices: [
        {
          text: ' east',
          index: 0,
          logprobs: {
            content: [
              {
                id: 313,
                token: ' east',
                bytes: [32, 101, 97, 115, 116],
                logprob: -0.0004,
                top_logprobs: [
                  { id: 303, token: ' river', bytes: [32, 114, 105, 118, 101, 114], logprob: -8.9 },
                  { id: 313, token: ' east', bytes: [32, 101, 97, 115, 116], logprob: -0.0004 },
                ],
              },
            ],
          },
          finish_reason: 'length',
        },
      ],
    };
    const parsed = parseCompletion(body);
    expect(parsed?.tokens).toEqual([
      {
        token: ' east',
        id: 313,
        logprob: -0.0004,
        top: [
          { token: ' east', id: 313, logprob: -0.0004 },
          { token: ' river', id: 303, logprob: -8.9 },
        ],
      },
    ]);
  });

  it('a token given only as bytes is decoded as UTF-8', () => {
    const tokens = parseLogprobs({ content: [{ bytes: [0xc3, 0xa9], logprob: -1, top_logprobs: [] }] });
    expect(tokens?.[0]?.token).toBe('é');
  });

  it('Ollama\'s OpenAI endpoint: no logprobs field at all (or null) means none, not an error', () => {
    expect(parseCompletion({ id: 'cmpl-9', object: 'text_completion', choices: [{ text: 'hi', index: 0, finish_reason: 'stop' }] })).toEqual({ text: 'hi', finishReason: 'stop', tokens: null });
    expect(parseCompletion({ choices: [{ text: 'hi', logprobs: null, finish_reason: null }] })?.tokens).toBeNull();
  });

  it('missing token_logprobs or top_logprobs read as null entries; an unknown layout is an error', () => {
    const tokens = parseLogprobs({ tokens: ['a', 'b'] });
    expect(tokens).toEqual([
      { token: 'a', id: null, logprob: null, top: null },
      { token: 'b', id: null, logprob: null, top: null },
    ]);
    expect(() => parseLogprobs({ something: 1 })).toThrow(/unknown layout/);
    expect(() => parseCompletion({ object: 'text_completion' })).toThrow(/not a completion/);
  });

  it('a streamed chunk without choices (the usage chunk) gives null', () => {
    expect(parseCompletion({ choices: [], usage: { prompt_tokens: 1 } })).toBeNull();
  });

  it('Python\'s -Infinity, Infinity and NaN (not JSON) are read, but not inside strings', () => {
    expect(parseLenientJson('{"a": -Infinity, "b": [NaN, Infinity], "c": "-Infinity NaN"}')).toEqual({ a: -Infinity, b: [null, Infinity], c: '-Infinity NaN' });
    expect(() => parseLenientJson('{"a": ')).toThrow();
  });
});

describe('other answers', () => {
  it('/tokenize: vLLM ids with token_strs, llama.cpp ids or {id, piece}', () => {
    expect(parseTokenize({ count: 2, max_model_len: 128, tokens: [1, 2], token_strs: ['a', 'b'] })).toEqual({ ids: [1, 2], texts: ['a', 'b'], maxModelLen: 128 });
    expect(parseTokenize({ tokens: [5, 6] })).toEqual({ ids: [5, 6], texts: [null, null], maxModelLen: null });
    expect(parseTokenize({ tokens: [{ id: 5, piece: 'He' }, { id: 6, piece: [108, 108] }] })).toEqual({ ids: [5, 6], texts: ['He', 'll'], maxModelLen: null });
    expect(() => parseTokenize({ ids: [1] })).toThrow(/not a \/tokenize answer/);
  });

  it('/v1/models', () => {
    expect(parseModelList({ object: 'list', data: [{ id: 'a', max_model_len: 8 }, { id: 'b' }] })).toEqual([
      { id: 'a', maxModelLen: 8 },
      { id: 'b', maxModelLen: null },
    ]);
  });

  it('error bodies: OpenAI/vLLM {error: {message}}, {error: "..."}, FastAPI {detail}', () => {
    expect(errorBodyMessage({ error: { message: 'bad', type: 'BadRequestError', code: 400 } })).toBe('bad');
    expect(errorBodyMessage({ error: 'model not found' })).toBe('model not found');
    expect(errorBodyMessage({ detail: 'Not Found' })).toBe('Not Found');
    expect(errorBodyMessage([1])).toBeNull();
  });

  it('base URLs with or without /v1', () => {
    expect(serverRoots('http://127.0.0.1:8000/v1/')).toEqual({ root: 'http://127.0.0.1:8000', v1: 'http://127.0.0.1:8000/v1' });
    expect(serverRoots('http://127.0.0.1:8000')).toEqual({ root: 'http://127.0.0.1:8000', v1: 'http://127.0.0.1:8000/v1' });
    expect(() => serverRoots('ftp://x')).toThrow(/only http and https/);
    expect(() => serverRoots('nonsense')).toThrow(/not a URL/);
  });
});

describe('prompt surprisal from every position\'s logits', () => {
  it('ranks by logit, ties to the lower id, and leaves the first token unpredicted', () => {
    expect(rankInRow([1, 3, 3, 0], 2)).toBe(2);
    expect(rankInRow([1, 3, 3, 0], 1)).toBe(1);
    expect(rankInRow([1, 3, 3, 0], 3)).toBe(4);
    const logits = new Float32Array([0, Math.log(3), 0, 0, 0, 0]); // two rows of a vocabulary of 3
    const rows = promptSurprisal([2, 1, 0], logits, 3);
    expect(rows[0]).toEqual({ position: 0, id: 2, prob: null, logprob: null, bits: null, rank: null });
    expect(rows[1]?.prob).toBeCloseTo(0.6, 7); // log(3) in float32
    expect(rows[1]?.rank).toBe(1);
    expect(rows[2]?.prob).toBeCloseTo(1 / 3, 12);
    expect(rows[2]?.bits).toBeCloseTo(Math.log2(3), 12);
  });
});
