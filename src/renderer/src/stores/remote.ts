import { defineStore } from 'pinia';
import { computed, ref, shallowRef } from 'vue';
import type { RemoteGenerateAnswer, RemoteModelsAnswer, RemotePredictAnswer, RemoteSurprisalAnswer, RemoteTokenizeAnswer } from '../../../common/remote-api';
import { remoteSampling, type RemoteSampling } from '../../../common/remote-sampling';
import { presetSettings, type SamplingStrategy } from '../../../common/sampling-strategy';
import { api } from '../platform/api';

/** A served model the notebook uses: the server and the model's name (never the key). */
export interface RemoteChoice {
  baseUrl: string;
  model: string;
  timeoutS: number;
}

export type RemoteStatus = 'idle' | 'running' | 'done' | 'error';

export interface RemoteColumnState {
  name: string;
  seed: number;
  strategy: SamplingStrategy;
  /** What will be sent, and the settings no server takes: shown before and after a run. */
  sampling: RemoteSampling;
  status: RemoteStatus | 'cancelled';
  result: RemoteGenerateAnswer | null;
  error: string | null;
}

const message = (cause: unknown): string => (cause instanceof Error ? cause.message : String(cause));

let requestCounter = 0;
const nextRequestId = (): string => `g${Date.now().toString(36)}-${(requestCounter++).toString(36)}`;

/**
 * A served model in the app (issue 17): the Models panel's form (server, model list, key), the model
 * in use, and its results. The requests go through `api.remote` (the main process or the serve
 * process), so the page itself never reaches the server.
 */
export const useRemoteStore = defineStore('remote', () => {
  const server = ref<RemoteModelsAnswer | null>(null);
  const listing = ref(false);
  const formError = ref<string | null>(null);
  const active = ref<RemoteChoice | null>(null);

  const tokens = shallowRef<RemoteTokenizeAnswer | null>(null);
  const predict = shallowRef<RemotePredictAnswer | null>(null);
  const surprisal = shallowRef<RemoteSurprisalAnswer | null>(null);
  const status = ref<Record<'tokenize' | 'predict' | 'surprisal', RemoteStatus>>({ tokenize: 'idle', predict: 'idle', surprisal: 'idle' });
  const errors = ref<Record<'tokenize' | 'predict' | 'surprisal', string | null>>({ tokenize: null, predict: null, surprisal: null });
  const ranFor = ref<string | null>(null);

  const columns = ref<RemoteColumnState[]>([]);
  const comparing = ref(false);
  let compareAbort: AbortController | null = null;

  const label = computed(() => (active.value ? `${active.value.model} at ${server.value?.root ?? active.value.baseUrl}` : ''));

  /** Asks the server for its models (GET /v1/models, through the main or serve process). */
  async function listModels(baseUrl: string, timeoutS: number): Promise<void> {
    listing.value = true;
    formError.value = null;
    server.value = null;
    try {
      server.value = await api.remote.models({ baseUrl, timeoutS });
      if (server.value.models.length === 0) formError.value = `${server.value.root} serves no models (GET /v1/models listed none)`;
    } catch (cause) {
      formError.value = message(cause);
    } finally {
      listing.value = false;
    }
  }

  /** Keeps (or forgets, with '') the key of the server: desktop app only, encrypted by the system's keychain. */
  async function setKey(baseUrl: string, key: string): Promise<void> {
    formError.value = null;
    if (!api.remote.setKey) {
      formError.value = 'The browser build keeps no keys: start it with NTL_API_KEY set in its environment.';
      return;
    }
    try {
      const { keySource } = await api.remote.setKey({ baseUrl, key });
      if (server.value) server.value = { ...server.value, keySource };
    } catch (cause) {
      formError.value = message(cause);
    }
  }

  function use(choice: RemoteChoice): void {
    active.value = { ...choice };
    tokens.value = null;
    predict.value = null;
    surprisal.value = null;
    ranFor.value = null;
    status.value = { tokenize: 'idle', predict: 'idle', surprisal: 'idle' };
    errors.value = { tokenize: null, predict: null, surprisal: null };
    columns.value = [];
  }

  function leave(): void {
    cancelCompare();
    active.value = null;
  }

  async function step<K extends 'tokenize' | 'predict' | 'surprisal'>(kind: K, run: () => Promise<void>): Promise<void> {
    status.value = { ...status.value, [kind]: 'running' };
    errors.value = { ...errors.value, [kind]: null };
    try {
      await run();
      status.value = { ...status.value, [kind]: 'done' };
    } catch (cause) {
      errors.value = { ...errors.value, [kind]: message(cause) };
      status.value = { ...status.value, [kind]: 'error' };
    }
  }

  /** Tokenize, Predict (top K) and the prompt's surprisal, one request each; a failure stays in its own cell. */
  async function run(prompt: string, topK: number): Promise<void> {
    const target = active.value;
    if (!target) return;
    const k = Math.min(topK, 20);
    await step('tokenize', async () => {
      tokens.value = await api.remote.tokenize({ ...target, prompt });
    });
    await step('predict', async () => {
      predict.value = await api.remote.predict({ ...target, prompt, topK: k });
    });
    await step('surprisal', async () => {
      surprisal.value = await api.remote.surprisal({ ...target, prompt, topK: 5 });
    });
    ranFor.value = prompt;
  }

  /**
   * Each column generated by the server, one after the other. Cancel stops the column in flight
   * (its stream is closed at the server) and the ones not started; the finished columns are kept.
   */
  async function compare(prompt: string, setup: { maxTokens: number; columns: readonly { name: string; seed: number; strategy: SamplingStrategy }[] }): Promise<void> {
    const target = active.value;
    if (!target || comparing.value) return;
    columns.value = setup.columns.map((c) => ({ name: c.name, seed: c.seed, strategy: c.strategy, sampling: remoteSampling(presetSettings(c.strategy)), status: 'idle', result: null, error: null }));
    comparing.value = true;
    compareAbort = new AbortController();
    const signal = compareAbort.signal;
    try {
      for (const [i, c] of setup.columns.entries()) {
        const state = columns.value[i];
        if (!state) continue;
        if (signal.aborted) {
          state.status = 'cancelled';
          continue;
        }
        state.status = 'running';
        try {
          const result = await api.remote.generate({ ...target, requestId: nextRequestId(), prompt, settings: presetSettings(c.strategy), seed: c.seed, maxTokens: setup.maxTokens }, signal);
          state.result = result;
          state.status = result.stopReason === 'cancelled' ? 'cancelled' : 'done';
        } catch (cause) {
          if (signal.aborted) state.status = 'cancelled';
          else {
            state.status = 'error';
            state.error = message(cause);
          }
        }
      }
    } finally {
      comparing.value = false;
      compareAbort = null;
    }
  }

  function cancelCompare(): void {
    compareAbort?.abort();
  }

  return { server, listing, formError, active, label, tokens, predict, surprisal, status, errors, ranFor, columns, comparing, listModels, setKey, use, leave, run, compare, cancelCompare };
});

/** How a notebook names a served model: `remote:NAME`, beside the server's `baseUrl`. */
export const REMOTE_PREFIX = 'remote:';
