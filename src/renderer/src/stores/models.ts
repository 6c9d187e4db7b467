import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import { DEFAULT_MODEL_ID, type ModelProblem, type PageModelInfo } from '../../../common/model-info';
import { modelUrls } from '../engine/load-request';
import type { BackendChoice, ModelUrls } from '../engine/protocol';
import { api } from '../platform/api';
import { takeEarlyModelList } from '../start-early';

/**
 * The models this window can run and which one it runs: the list (bundled and added models, and
 * the folders that could not be used), the chosen model, its variant and the backend. Loading it
 * belongs to the notebook store, whose results depend on it.
 */
export const useModelsStore = defineStore('models', () => {
  const models = ref<PageModelInfo[]>([]);
  /** Model folders that could not be used, each with the reason. */
  const problems = ref<ModelProblem[]>([]);
  const modelId = ref<string>(DEFAULT_MODEL_ID);
  /** The variant of the current model in use (a view setting of this window: null is the folder's first, full precision where it has one). */
  const variant = ref<string | null>(null);
  /** Where models run: auto (the native engine in the desktop app, else WebGPU when there is an adapter, else WASM) or one backend. */
  const backendChoice = ref<BackendChoice>('auto');

  const model = computed(() => models.value.find((m) => m.id === modelId.value) ?? null);

  /** Lists the models (again, after an import); the chosen model stays chosen. */
  async function list(): Promise<void> {
    const listed = await (takeEarlyModelList() ?? api.models.list());
    models.value = listed.models;
    problems.value = listed.problems;
  }

  /** The current model's files in the chosen variant; null when the model is not in the list. */
  function urls(): ModelUrls | null {
    return model.value ? modelUrls(model.value, variant.value) : null;
  }

  /** Whether `name` is a variant of the current model that is not the one in use. */
  function isOtherVariant(name: string): boolean {
    const current = variant.value ?? model.value?.variant ?? null;
    return name !== current && (model.value?.variants.some((v) => v.name === name) ?? false);
  }

  return { models, problems, modelId, variant, backendChoice, model, list, urls, isOtherVariant };
});
