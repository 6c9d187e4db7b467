import { createPinia, setActivePinia } from 'pinia';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { NtlApi } from '../../src/common/api';
import { formatNotebook } from '../../src/common/notebook-format';
import type { RemoteGenerateAnswer, RemoteGenerateRequest } from '../../src/common/remote-api';
import { FakeWorker } from './fake-worker';

const KEY = 'sk-renderer-test-key';
const generated: RemoteGenerateRequest[] = [];
const keys: { baseUrl: string; key: string }[] = [];
/** Column A answers at once; column B waits until its signal is aborted (Cancel). */
const answer = (text: string): RemoteGenerateAnswer => ({ sent: {}, notApplied: [], steps: [{ id: 1, token: text, prob: 0.5, rank: 1, top: [] }], generated: text, serverText: text, stopReason: 'max-tokens', meanLogProb: Math.log(0.5), elapsedMs: 1 });
const fakeApi = {
  transport: 'http',
  models: { list: async () => ({ models: [], problems: [] }) },
  remote: {
    generate: (request: RemoteGenerateRequest, signal?: AbortSignal) => {
      generated.push(request);
      if (generated.length === 1) return Promise.resolve(answer(' east'));
      return new Promise((_resolve, reject) => signal?.addEventListener('abort', () => reject(new Error('aborted'))));
    },
    progress: async (requestId: string) => (generated.some((g) => g.requestId === requestId) ? { steps: [{ id: 7, token: ' west', prob: 0.25, rank: 2, top: [] }] } : null),
    // The prompt's ids as a server's /tokenize gives them (a fork sends them with the prefix's).
    tokenize: async () => ({ via: 'tokenize', tokens: [{ id: 464, text: 'The' }, { id: 4252, text: ' sun' }] }),
    setKey: async (request: { baseUrl: string; key: string }) => {
      keys.push(request);
      return { keySource: 'stored' };
    },
  },
} as unknown as NtlApi;
vi.mock('../../src/renderer/src/platform/api', () => ({ api: fakeApi }));

describe('a served model in the page (stores/remote.ts), with the transport standing in', () => {
  beforeEach(() => {
    vi.stubGlobal('Worker', FakeWorker);
    vi.stubGlobal('window', new EventTarget());
    vi.stubGlobal('document', { baseURI: 'http://127.0.0.1:5417/' });
    setActivePinia(createPinia());
    generated.length = 0;
    keys.length = 0;
  });
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it('a notebook saved on a served model keeps its server, name and timeout, never the key; opening it uses that model again', async () => {
    const { useNotebookStore } = await import('../../src/renderer/src/stores/notebook');
    const { useRemoteStore } = await import('../../src/renderer/src/stores/remote');
    const notebook = useNotebookStore();
    const remote = useRemoteStore();
    await remote.setKey('https://gpu.example/v1', KEY);
    expect(keys).toEqual([{ baseUrl: 'https://gpu.example/v1', key: KEY }]);
    remote.use({ baseUrl: 'https://gpu.example/v1', model: 'meta-llama/Llama-3.1-8B', timeoutS: 30 });
    const doc = notebook.toDoc();
    expect(doc.model).toEqual({ id: 'remote:meta-llama/Llama-3.1-8B', sha256: null, baseUrl: 'https://gpu.example/v1', timeoutS: 30 });
    expect(formatNotebook(doc)).not.toContain(KEY);
    expect(JSON.parse(formatNotebook(doc)).model).toEqual({ id: 'remote:meta-llama/Llama-3.1-8B', sha256: null, baseUrl: 'https://gpu.example/v1', timeoutS: 30 });

    remote.leave();
    expect(notebook.toDoc().model.id).not.toMatch(/^remote:/);
    await notebook.applyDoc(doc);
    expect(remote.active).toEqual({ baseUrl: 'https://gpu.example/v1', model: 'meta-llama/Llama-3.1-8B', timeoutS: 30 });
    expect(notebook.modelNotice).toBeNull();
    await notebook.applyDoc({ ...doc, model: { id: 'seed-world', sha256: null } });
    expect(remote.active).toBeNull();
  });

  it('Cancel during Compare: the finished column kept, the one in flight and the ones after it cancelled, none of them requested after Cancel', async () => {
    const { useRemoteStore } = await import('../../src/renderer/src/stores/remote');
    const remote = useRemoteStore();
    remote.use({ baseUrl: 'http://127.0.0.1:8000/v1', model: 'm', timeoutS: 60 });
    const running = remote.compare('The sun rises in the', {
      maxTokens: 4,
      columns: [
        { name: 'A', seed: 1, strategy: { strategy: 'greedy' } },
        { name: 'B', seed: 2, strategy: { strategy: 'top-k', temperature: 0.8, topK: 5 } },
        { name: 'C', seed: 3, strategy: { strategy: 'temperature', temperature: 1.2 } },
      ],
    });
    await vi.waitFor(() => expect(generated).toHaveLength(2));
    expect(remote.columns.map((c) => c.status)).toEqual(['done', 'running', 'idle']);
    // While it runs, the column shows the steps streamed so far.
    await vi.waitFor(() => expect(remote.columns[1]?.partial.map((s) => s.token)).toEqual([' west']), { timeout: 20_000 });
    remote.cancelCompare();
    await running;
    expect(remote.columns.map((c) => c.status)).toEqual(['done', 'cancelled', 'cancelled']);
    expect(remote.columns[0]?.result?.generated).toBe(' east');
    expect(generated).toHaveLength(2);
    expect(generated.map((g) => g.settings)).toMatchObject([{ greedy: true }, { temperature: 0.8, topK: 5 }]);
    expect(remote.columns[1]?.sampling.sent).toEqual({ temperature: 0.8, top_k: 5 });
    expect(remote.comparing).toBe(false);
  });

  it('a fork takes the alternative at its step and sends the forked prefix as the prompt, with the column\'s settings and seed and the tokens left', async () => {
    const { useRemoteStore } = await import('../../src/renderer/src/stores/remote');
    const remote = useRemoteStore();
    remote.use({ baseUrl: 'http://127.0.0.1:8000/v1', model: 'm', timeoutS: 60 });
    const top = [
      { id: 10, token: ' east', prob: 0.6 },
      { id: 11, token: ' west', prob: 0.3 },
    ];
    const steps = [
      { id: 10, token: ' east', prob: 0.6, rank: 1, top },
      { id: 12, token: '.', prob: 0.5, rank: 1, top: [{ id: 12, token: '.', prob: 0.5 }, { id: 13, token: ' and', prob: 0.4 }] },
    ];
    const from = { name: 'A', seed: 9, strategy: { strategy: 'top-k' as const, temperature: 0.7, topK: 3 }, knobs: {}, sampling: { sent: { temperature: 0.7, top_k: 3 }, notApplied: [] }, status: 'done' as const, parent: null, prefix: [], sentAs: null, partial: [], result: { ...answer(''), steps, generated: ' east.' }, error: null };
    remote.columns = [from];
    expect(await remote.fork(remote.columns[0]!, 2, { id: 13, token: ' and', prob: 0.4 }, 'The sun', 5)).toBeNull();
    expect(generated).toHaveLength(1);
    // The forked prefix as ids (the prompt's from the server's /tokenize, then the steps'), its text beside them.
    expect(generated[0]).toMatchObject({ prompt: 'The sun east and', promptIds: [464, 4252, 10, 13], seed: 9, maxTokens: 3, settings: { temperature: 0.7, topK: 3 } });
    expect(remote.columns[1]?.sentAs).toBe('token ids');
    const forked = remote.columns[1];
    expect(forked?.name).toBe('B');
    expect(forked?.parent).toEqual({ name: 'A', step: 2 });
    expect(forked?.prefix.map((p) => [p.token, p.prob, p.rank])).toEqual([[' east', 0.6, 1], [' and', 0.4, 2]]);
    expect(forked?.status).toBe('done');
    expect(forked?.result?.generated).toBe(' east');
    // A fork of the fork at its first step: the prefix is taken from the fork's own steps.
    generated.length = 0;
    generated.push({} as RemoteGenerateRequest);
    const second = remote.fork(remote.columns[1]!, 1, { id: null, token: ' west', prob: 0.3 }, 'The sun', 5);
    await vi.waitFor(() => expect(generated).toHaveLength(2));
    // An alternative without an id (a server that keys them by text): the prefix goes as text.
    expect(generated[1]).toMatchObject({ prompt: 'The sun west', maxTokens: 4 });
    expect(generated[1]?.promptIds).toBeUndefined();
    expect(remote.columns[2]?.sentAs).toBe('text');
    remote.cancelCompare();
    await second;
    expect(remote.columns.map((c) => [c.name, c.status])).toEqual([['A', 'done'], ['B', 'done'], ['C', 'cancelled']]);
  });
});
