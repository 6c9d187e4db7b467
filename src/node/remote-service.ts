import type { z } from 'zod';
import {
  RemoteCancelRequest,
  RemoteGenerateRequest,
  RemotePredictRequest,
  RemoteProgressRequest,
  RemoteServer,
  RemoteSurprisalRequest,
  RemoteTokenizeRequest,
  type RemoteGenerateAnswer,
  type RemoteKeySource,
  type RemoteModelsAnswer,
  type RemotePredictAnswer,
  type RemoteProgressAnswer,
  type RemoteSurprisalAnswer,
  type RemoteTarget,
  type RemoteTokenizeAnswer,
} from '../common/remote-api';
import { remoteSampling } from '../common/remote-sampling';
import { RemoteCancelled, RemoteClient, serverRoots } from './openai-client';
import { RequestError } from './request-error';
import { remoteColumn, remotePredict, remoteSurprisal, remoteTokens, type RemoteStep } from './remote-model';

/** Where the service finds a server's key; it never hands a key back to the page. */
export interface RemoteKeyProvider {
  key(root: string): Promise<{ key: string | undefined; source: RemoteKeySource }>;
  readonly canStore: boolean;
}

/** What a refused key (401/403) tells the user to do, where the key comes from. */
const keyHint = (keys: RemoteKeyProvider): string =>
  keys.canStore ? 'enter its API key under Models… → Add a served model (or start the app with NTL_API_KEY set)' : 'set NTL_API_KEY in the environment of npm run serve';

/** The environment's `NTL_API_KEY`, for every server: the browser build's and `ntl`'s only source. */
export function envKeys(env: NodeJS.ProcessEnv = process.env): RemoteKeyProvider {
  return {
    canStore: false,
    key: () => {
      const key = env['NTL_API_KEY'];
      return Promise.resolve(key ? { key, source: 'env' } : { key: undefined, source: 'none' });
    },
  };
}

/** Plain http:// to a host other than this machine. */
export function plainHttpWarning(baseUrl: string): string | null {
  const url = new URL(baseUrl);
  const isLocal = ['localhost', '[::1]'].includes(url.hostname) || url.hostname.startsWith('127.');
  return url.protocol === 'http:' && !isLocal ? `${url.origin} is plain http:// to another machine: the prompts and the API key travel unencrypted` : null;
}

/**
 * The app's remote-model requests, the same for the desktop app's IPC and the browser build's HTTP
 * routes: each request parsed with its schema, the key looked up by the server's root, the answers
 * plain data.
 */
export class RemoteService {
  private readonly running = new Map<string, { controller: AbortController; streamed: RemoteStep[] }>();
  /**
   * Cancels that arrived before their generation (the page pressed Cancel while its request was on
   * the way): the generation then stops at once. The last 64 only, so stale ids cannot pile up.
   */
  private readonly cancelledEarly: string[] = [];

  constructor(private readonly keys: RemoteKeyProvider) {}

  private async client(target: RemoteTarget): Promise<RemoteClient> {
    const { root } = serverRoots(target.baseUrl);
    const { key } = await this.keys.key(root);
    return new RemoteClient({ baseUrl: target.baseUrl, model: target.model, apiKey: key, timeoutMs: target.timeoutS * 1000, keyHint: keyHint(this.keys) });
  }

  async models(raw: unknown): Promise<RemoteModelsAnswer> {
    const server = parse(RemoteServer, raw);
    const { root } = serverRoots(server.baseUrl);
    const { key, source } = await this.keys.key(root);
    const client = new RemoteClient({ baseUrl: server.baseUrl, model: '', apiKey: key, timeoutMs: server.timeoutS * 1000, keyHint: keyHint(this.keys) });
    return { root, models: await client.models(), keySource: source, canStoreKey: this.keys.canStore, warning: plainHttpWarning(server.baseUrl) };
  }

  async tokenize(raw: unknown, cancel?: AbortSignal): Promise<RemoteTokenizeAnswer> {
    const request = parse(RemoteTokenizeRequest, raw);
    const { via, tokenization } = await remoteTokens(await this.client(request), request.prompt, cancel);
    return { via, tokens: tokenization.ids.map((id, i) => ({ id: id < 0 ? null : id, text: tokenization.texts[i] ?? '' })) };
  }

  async predict(raw: unknown, cancel?: AbortSignal): Promise<RemotePredictAnswer> {
    const request = parse(RemotePredictRequest, raw);
    const p = await remotePredict(await this.client(request), request.prompt, request.topK, cancel);
    return { top: p.top.map(({ id, token, prob, logprob }) => ({ id, token, prob, logprob })), otherMass: p.otherMass, entropy: p.entropy, elapsedMs: p.elapsedMs };
  }

  async surprisal(raw: unknown, cancel?: AbortSignal): Promise<RemoteSurprisalAnswer> {
    const request = parse(RemoteSurprisalRequest, raw);
    return remoteSurprisal(await this.client(request), request.prompt, request.topK, cancel);
  }

  /**
   * One column, streamed from the server. `cancel` (the browser build: its request closed) or
   * `cancel(requestId)` (the desktop app) stops the stream at once; the steps already streamed are
   * kept, with `stopReason: "cancelled"`.
   */
  async generate(raw: unknown, cancel?: AbortSignal): Promise<RemoteGenerateAnswer> {
    const request = parse(RemoteGenerateRequest, raw);
    const controller = new AbortController();
    const onAbort = (): void => controller.abort();
    cancel?.addEventListener('abort', onAbort, { once: true });
    if (cancel?.aborted === true) controller.abort();
    this.running.get(request.requestId)?.controller.abort();
    const early = this.cancelledEarly.indexOf(request.requestId);
    if (early >= 0) {
      this.cancelledEarly.splice(early, 1);
      controller.abort();
    }
    const streamed: RemoteStep[] = [];
    const entry = { controller, streamed };
    this.running.set(request.requestId, entry);
    const started = performance.now();
    try {
      const column = await remoteColumn(await this.client(request), request.promptIds ?? request.prompt, {
        settings: request.settings,
        seed: request.seed,
        maxTokens: request.maxTokens,
        stop: request.stop,
        cancel: controller.signal,
        onStep: (step) => streamed.push(step),
      });
      return {
        sent: column.sent,
        notApplied: column.notApplied,
        steps: column.steps.map(stepData),
        generated: column.generated,
        serverText: column.serverText,
        stopReason: column.stopReason,
        meanLogProb: column.metrics.meanLogProb,
        elapsedMs: column.elapsedMs,
      };
    } catch (cause) {
      if (!(cause instanceof RemoteCancelled)) throw cause;
      const steps = streamed.map(stepData);
      const logs = steps.flatMap((s) => (s.prob === null ? [] : [Math.log(s.prob)]));
      const { sent, notApplied } = remoteSampling(request.settings);
      return {
        sent,
        notApplied,
        steps,
        generated: steps.map((s) => s.token).join(''),
        serverText: '',
        stopReason: 'cancelled',
        meanLogProb: logs.length === 0 ? null : logs.reduce((a, b) => a + b, 0) / logs.length,
        elapsedMs: performance.now() - started,
      };
    } finally {
      cancel?.removeEventListener('abort', onAbort);
      if (this.running.get(request.requestId) === entry) this.running.delete(request.requestId);
    }
  }

  /** Stops the generation `requestId` (Cancel), or the next one of that id when it has not started yet. */
  cancel(raw: unknown): Promise<void> {
    const { requestId } = parse(RemoteCancelRequest, raw);
    const entry = this.running.get(requestId);
    if (entry) entry.controller.abort();
    else if (!this.cancelledEarly.includes(requestId)) {
      this.cancelledEarly.push(requestId);
      if (this.cancelledEarly.length > 64) this.cancelledEarly.shift();
    }
    return Promise.resolve();
  }

  /** The steps of the generation `requestId` streamed in so far; null when it is not running. */
  progress(raw: unknown): Promise<RemoteProgressAnswer> {
    const { requestId } = parse(RemoteProgressRequest, raw);
    const entry = this.running.get(requestId);
    return Promise.resolve(entry ? { steps: entry.streamed.map(stepData) } : null);
  }

  /** How many steps of the generation `requestId` have streamed in so far; null when it is not running. */
  streamedSteps(requestId: string): number | null {
    return this.running.get(requestId)?.streamed.length ?? null;
  }
}

const stepData = (s: RemoteStep): RemoteGenerateAnswer['steps'][number] => ({ id: s.id, token: s.token, prob: s.prob, rank: s.rank, top: s.top });

function parse<S extends z.ZodType>(schema: S, raw: unknown): z.output<S> {
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new RequestError(400, `bad request: field "${issue?.path.join('.') || '(root)'}": ${issue?.message ?? 'invalid'}`);
  }
  return parsed.data;
}
