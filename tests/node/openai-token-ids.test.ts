import { createServer, type IncomingMessage, type Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { RemoteClient } from '../../src/node/openai-client';

/**
 * vLLM's `return_tokens_as_token_ids` in the client, against servers that do not take it: one that
 * refuses the field by name (OpenAI's own API), and one that gives ids but has no /detokenize. The
 * client asks again without it, remembers that, and the answer is the text-keyed one.
 */
interface Seen {
  path: string;
  body: Record<string, unknown>;
}

let server: Server | null = null;
afterEach(async () => {
  await new Promise((resolve) => server?.close(resolve));
  server = null;
});

const legacy = (keys: 'text' | 'ids'): unknown => ({
  choices: [
    {
      text: ' east',
      finish_reason: 'length',
      logprobs: {
        tokens: [keys === 'ids' ? 'token_id:7' : ' east'],
        token_logprobs: [Math.log(0.6)],
        top_logprobs: [keys === 'ids' ? { 'token_id:7': Math.log(0.6), 'token_id:8': Math.log(0.3) } : { ' east': Math.log(0.6), ' west': Math.log(0.3) }],
      },
    },
  ],
});

async function serve(answer: (seen: Seen) => { status: number; body: unknown }): Promise<{ url: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  server = createServer((request: IncomingMessage, response) => {
    let text = '';
    request.on('data', (chunk: Buffer) => (text += chunk.toString()));
    request.on('end', () => {
      const entry = { path: request.url ?? '', body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>) };
      seen.push(entry);
      const { status, body } = answer(entry);
      response.writeHead(status, { 'Content-Type': 'application/json' });
      response.end(JSON.stringify(body));
    });
  });
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return { url: `http://127.0.0.1:${address !== null && typeof address === 'object' ? address.port : 0}/v1`, seen };
}

describe('return_tokens_as_token_ids where the server does not take it', () => {
  it('refused by name (400): asked again without it, and not asked for again', async () => {
    const { url, seen } = await serve(({ body }) =>
      'return_tokens_as_token_ids' in body ? { status: 400, body: { error: { message: 'Unrecognized request argument supplied: return_tokens_as_token_ids', type: 'invalid_request_error' } } } : { status: 200, body: legacy('text') },
    );
    const client = new RemoteClient({ baseUrl: url, model: 'refuses' });
    const first = await client.complete({ prompt: 'The sun rises in the', max_tokens: 1, logprobs: 2 });
    expect(first.tokens?.[0]?.top?.map((t) => t.token)).toEqual([' east', ' west']);
    expect(seen.map((s) => 'return_tokens_as_token_ids' in s.body)).toEqual([true, false]);
    expect(client.tokenIds).toBe('no');
    await new RemoteClient({ baseUrl: url, model: 'refuses' }).complete({ prompt: 'The sun rises in the', max_tokens: 1, logprobs: 2 });
    expect(seen).toHaveLength(3);
    expect('return_tokens_as_token_ids' in (seen[2]?.body ?? {})).toBe(false);
  });

  it('ids given but no /detokenize (404): the ids are not shown as texts; asked again without them', async () => {
    const { url, seen } = await serve(({ path, body }) =>
      path === '/detokenize' ? { status: 404, body: { detail: 'Not Found' } } : { status: 200, body: legacy(body['return_tokens_as_token_ids'] === true ? 'ids' : 'text') },
    );
    const client = new RemoteClient({ baseUrl: url, model: 'no-detokenize' });
    const completion = await client.complete({ prompt: 'The sun rises in the', max_tokens: 1, logprobs: 2 });
    expect(completion.tokens?.[0]?.token).toBe(' east');
    expect(completion.tokens?.[0]?.top?.map((t) => t.token)).toEqual([' east', ' west']);
    expect(seen.map((s) => s.path)).toEqual(['/v1/completions', '/detokenize', '/detokenize', '/v1/completions']);
    expect(client.tokenIds).toBe('no');
  });

  it('ids given and /detokenize answered: each id named by its text, and asked for once', async () => {
    const names: Record<number, string> = { 7: ' east', 8: ' west' };
    const { url, seen } = await serve(({ path, body }) => (path === '/detokenize' ? { status: 200, body: { prompt: names[(body['tokens'] as number[])[0] ?? 0] } } : { status: 200, body: legacy('ids') }));
    const client = new RemoteClient({ baseUrl: url, model: 'vllm-like' });
    for (let i = 0; i < 2; i++) {
      const completion = await client.complete({ prompt: 'The sun rises in the', max_tokens: 1, logprobs: 2 });
      expect(completion.tokens?.[0]).toMatchObject({ id: 7, token: ' east' });
      expect(completion.tokens?.[0]?.top?.map((t) => [t.id, t.token])).toEqual([[7, ' east'], [8, ' west']]);
    }
    expect(seen.filter((s) => s.path === '/detokenize')).toHaveLength(2);
    expect(client.tokenIds).toBe('yes');
  });
});
