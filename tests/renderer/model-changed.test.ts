import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { LoadResult, WorkerResponse } from '../../src/renderer/src/engine/protocol';
import { until } from './fake-worker';
import { freshPage, loadedNotebook, loadResult } from './store-fixtures';

vi.mock('../../src/renderer/src/platform/api', async () => ({ api: (await import('./store-fixtures')).fakeApi }));

/**
 * Issue 18: the page's engine answers a load before the one-session check, which runs as the warm-up.
 * Where that check fails, the engine loads the model again a session per file and says so after the
 * answer (`model-changed`); the page shows what runs now, or why nothing does.
 */

const perFile = (modelId: string): Partial<LoadResult> => ({ ...loadResult(modelId), weightsNote: 'the weights are held twice (one session per file): zero-length tensor', file: `${modelId}/onnx/model.onnx` });

describe('the page when the engine changes the model after answering its load', () => {
  beforeEach(freshPage);
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it('shows the model as it runs now: a session per file, with the reason', async () => {
    const { notebook, worker, load } = await loadedNotebook({ ...loadResult('gpt2-hub'), weightsNote: null });
    expect(notebook.loaded?.weightsNote).toBeNull();
    const banner = notebook.errorBanner;
    worker.answer({ runId: load.runId, type: 'model-changed', modelId: 'gpt2-hub', result: perFile('gpt2-hub') as LoadResult, message: null });
    expect(notebook.loaded?.weightsNote).toMatch(/zero-length tensor/);
    expect(notebook.loaded?.file).toBe('gpt2-hub/onnx/model.onnx');
    expect(notebook.errorBanner).toBe(banner);
  });

  it('says why no model is loaded when loading it again failed', async () => {
    const { notebook, worker, load } = await loadedNotebook({ ...loadResult('gpt2-hub'), weightsNote: null });
    worker.answer({ runId: load.runId, type: 'model-changed', modelId: 'gpt2-hub', result: null, message: 'gpt2-hub/onnx/model.onnx: out of memory' });
    expect(notebook.loaded).toBeNull();
    expect(notebook.errorBanner).toBe('Could not load model "gpt2-hub": gpt2-hub/onnx/model.onnx: out of memory');
  });

  it("ignores what is said of a load the page has moved on from", async () => {
    const { notebook, worker, load } = await loadedNotebook({ ...loadResult('gpt2-hub'), weightsNote: null });
    const switched = notebook.setModel('seed-world');
    await until(() => worker.pending('load') !== undefined, 'the second load');
    // The first load's change arrives after the second load was asked for: its model is gone.
    worker.answer({ runId: load.runId, type: 'model-changed', modelId: 'gpt2-hub', result: perFile('gpt2-hub') as LoadResult, message: null } satisfies WorkerResponse);
    await worker.reply('load', { ...loadResult('seed-world'), weightsNote: null });
    await switched;
    expect(notebook.loaded?.modelId).toBe('seed-world');
    expect(notebook.loaded?.weightsNote).toBeNull();
  });
});
