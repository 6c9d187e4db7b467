import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DEFAULT_MODEL_ID } from '../../src/common/model-info';
import { freshPage, lastWorker, loadResult } from './store-fixtures';

vi.mock('../../src/renderer/src/platform/api', async () => ({ api: (await import('./store-fixtures')).fakeApi }));

describe('the models store (Pinia): the models listed, the one chosen, its variant and the backend', () => {
  beforeEach(freshPage);
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it('lists the models and the folders that could not be used; gives the chosen variant\'s file URLs', async () => {
    const { useModelsStore } = await import('../../src/renderer/src/stores/models');
    const models = useModelsStore();
    expect(models.modelId).toBe(DEFAULT_MODEL_ID);
    expect(models.backendChoice).toBe('auto');
    await models.list();
    expect(models.models.map((m) => m.id)).toEqual(['gpt2-hub', 'seed-world']);
    expect(models.problems).toEqual([{ path: 'broken', message: 'no config.json' }]);

    models.modelId = 'not-listed';
    expect(models.model).toBeNull();
    expect(models.urls()).toBeNull();

    models.modelId = 'gpt2-hub';
    expect(models.urls()).toMatchObject({ id: 'gpt2-hub', onnx: 'http://127.0.0.1:5417/models/gpt2-hub/onnx/model.onnx', tokenizer: 'http://127.0.0.1:5417/models/gpt2-hub/tokenizer.json', tokenizerConfig: null, onnxWithPast: null });
    // fp32 is the folder's first (in use while none is chosen); fp16 and q4 are other variants; bnb4 is none of its.
    expect(['fp32', 'fp16', 'q4', 'bnb4'].map((v) => models.isOtherVariant(v))).toEqual([false, true, true, false]);
    models.variant = 'q4';
    expect(models.urls()).toMatchObject({ onnx: 'http://127.0.0.1:5417/models/gpt2-hub/onnx/model_q4.onnx', onnxFile: 'onnx/model_q4.onnx' });
    expect(models.isOtherVariant('q4')).toBe(false);
    expect(models.isOtherVariant('fp32')).toBe(true);
  });

  it('the notebook starts on the first model listed when the chosen one is not there, and stays unchanged (clean)', async () => {
    const { useModelsStore } = await import('../../src/renderer/src/stores/models');
    const { useNotebookStore } = await import('../../src/renderer/src/stores/notebook');
    const models = useModelsStore();
    const notebook = useNotebookStore();
    models.modelId = 'gone';
    notebook.markSaved();
    const init = notebook.init();
    const load = await lastWorker().reply('load', loadResult('gpt2-hub'));
    await init;
    expect(models.modelId).toBe('gpt2-hub');
    expect(load.model.id).toBe('gpt2-hub');
    expect(notebook.isDirty).toBe(false);
    expect(notebook.errorBanner).toBe('Some model folders could not be used: broken: no config.json');
    // Another backend loads the model again there; every cell is out of date.
    notebook.cells.tokenize = { status: 'done', error: null, ms: 1 };
    const switching = notebook.setBackend('wasm');
    const again = await lastWorker().reply('load', loadResult('gpt2-hub'));
    await switching;
    expect(again.backend).toBe('wasm');
    expect(models.backendChoice).toBe('wasm');
    expect(notebook.cellState('tokenize').status).toBe('stale');
  });
});
