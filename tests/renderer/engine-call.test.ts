import { effectScope, ref } from 'vue';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { NeighboursResult } from '../../src/renderer/src/engine/protocol';
import { until } from './fake-worker';
import { freshPage, loadedNotebook } from './store-fixtures';

vi.mock('../../src/renderer/src/platform/api', async () => ({ api: (await import('./store-fixtures')).fakeApi }));

const found = (id: number, text: string): NeighboursResult => ({ id, piece: { id, text, display: text }, vocab: 320, neighbours: [{ id, piece: { id, text, display: text }, similarity: 1 }] });

describe('useEngineCall: engine calls from a cell, with busy and error state', () => {
  beforeEach(freshPage);
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it('an exclusive call takes the run guard: refused while a run holds it; a failure is said and releases it', async () => {
    const { notebook, worker } = await loadedNotebook();
    const { useEngineCall } = await import('../../src/renderer/src/composables/useEngineCall');
    const call = useEngineCall();

    const run = notebook.runCell('tokenize');
    await until(() => notebook.running, 'the cell run');
    expect(await call.run((engine) => engine.call('positions', { count: 4 }).result)).toEqual({ ok: false, error: null, isLatest: true });
    expect(worker.pending('positions')).toBeUndefined();
    expect(call.error.value).toBeNull();
    await worker.reply('tokenize', { pieces: [{ id: 1, text: 'a', display: 'a' }], dropped: 0, context: 64 });
    await run;

    const failing = call.run((engine) => engine.call('intervene', { ids: [1], edit: { ablateHeads: [], removeKeys: [] } }).result);
    expect(call.isBusy.value).toBe(true);
    await until(() => notebook.running, 'the call to take the guard');
    await notebook.runAll();
    expect(worker.posted.filter((m) => m.type === 'tokenize')).toHaveLength(1);
    await worker.reply('intervene', null, 'head 9 of layer 0 does not exist');
    expect(await failing).toEqual({ ok: false, error: 'head 9 of layer 0 does not exist', isLatest: true });
    expect(call.error.value).toBe('head 9 of layer 0 does not exist');
    expect(call.isBusy.value).toBe(false);
    expect(notebook.running).toBe(false);
  });

  it('shared calls go along with a run; busy until the last settles; only the latest failure is kept', async () => {
    const { notebook, worker } = await loadedNotebook();
    const { useEngineCall } = await import('../../src/renderer/src/composables/useEngineCall');
    const call = useEngineCall('shared');
    notebook.running = true;
    const first = call.run((engine) => engine.call('positions', { count: 4 }).result);
    const second = call.run((engine) => engine.call('positions', { count: 8 }).result);
    expect(worker.posted.filter((m) => m.type === 'positions').map((m) => m.type === 'positions' && m.count)).toEqual([4, 8]);
    await worker.reply('positions', null, 'the first failed');
    expect(await first).toEqual({ ok: false, error: 'the first failed', isLatest: false });
    expect(call.isBusy.value).toBe(true);
    expect(call.error.value).toBeNull();
    await worker.reply('positions', { kind: 'none' });
    expect(await second).toEqual({ ok: true, value: { kind: 'none' }, isLatest: true });
    expect(call.isBusy.value).toBe(false);
  });
});

describe('useNeighbours: the prompt token looked up on each run, and a typed token, at once', () => {
  beforeEach(freshPage);
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it('shows the last lookup asked for, whichever finished, and stays busy until both have', async () => {
    const { worker } = await loadedNotebook();
    const { useNeighbours } = await import('../../src/renderer/src/composables/useNeighbours');
    const ids = ref<number[] | undefined>(undefined);
    const scope = effectScope();
    const n = scope.run(() => useNeighbours({ ids, modelId: ref('gpt2-hub'), position: ref(1) }, 10));
    if (!n) throw new Error('no composable');
    expect(worker.pending('embedding-neighbours')).toBeUndefined();

    // A run: the watcher looks up the token at position 1.
    ids.value = [5, 6];
    await until(() => worker.pending('embedding-neighbours') !== undefined, 'the watcher lookup');
    expect(worker.pending('embedding-neighbours')).toMatchObject({ id: 6, k: 10 });
    // Meanwhile the user types a word: its lookup goes out behind the watcher's.
    const typing = n.lookUpTyped('moon');
    expect(n.isBusy.value).toBe(true);
    await worker.reply('embedding-neighbours', found(6, ' sun'));
    expect(n.neighbours.value).toBeNull();
    expect(n.isBusy.value).toBe(true);
    // "moon" is two tokens: refused; " moon" is then looked up, and the note says why.
    const refused = await worker.reply('embedding-neighbours', null, '"moon" is 2 tokens (mo|on); choose one token');
    expect(refused).toMatchObject({ text: 'moon' });
    const spaced = await worker.reply('embedding-neighbours', found(77, ' moon'));
    expect(spaced).toMatchObject({ text: ' moon' });
    await typing;
    expect(n.neighbours.value?.id).toBe(77);
    expect(n.note.value).toBe('"moon" is 2 tokens (mo|on), so this shows "␣moon" instead: one token, the same word with the leading space it has after a space in a sentence.');
    expect(n.error.value).toBeNull();
    expect(n.isBusy.value).toBe(false);

    // A new run while nothing else is asked: its token is shown.
    ids.value = [5, 8];
    await worker.reply('embedding-neighbours', found(8, ' west'));
    await until(() => n.neighbours.value?.id === 8, 'the new run\'s token');
    // A failed lookup drops the old result, so it is not read as this one's, and says why.
    const failing = n.lookUpTyped(' zzz');
    await worker.reply('embedding-neighbours', null, '" zzz" is 2 tokens');
    await failing;
    expect(n.neighbours.value).toBeNull();
    expect(n.error.value).toBe('" zzz" is 2 tokens');
    expect(n.showsTyped.value).toBe(true);
    // Choosing the prompt token that is still chosen looks it up again (the picker showed the typed token).
    n.lookUpChosen();
    expect(n.showsTyped.value).toBe(false);
    expect(worker.pending('embedding-neighbours')).toMatchObject({ id: 8, k: 10 });
    await worker.reply('embedding-neighbours', found(8, ' west'));
    await until(() => n.neighbours.value?.id === 8, 'the chosen token again');
    scope.stop();
  });
});
