import { z } from 'zod';
import { SamplerSettings } from './sampler-settings';

/**
 * The app's requests to a served model (an OpenAI-compatible completions server), made by the main
 * process (desktop, IPC) or the serve process (browser build, `/api/remote/...`): the page's Content
 * Security Policy stays offline. No request or answer carries the API key: the desktop app keeps it
 * encrypted with the system's keychain (`safeStorage`), the browser build reads `NTL_API_KEY`.
 */

export const RemoteBaseUrl = z
  .url({ protocol: /^https?$/, error: 'the server address must be an http:// or https:// URL, e.g. http://127.0.0.1:8000/v1' })
  .max(2000, 'the server address is longer than 2,000 characters');

export const RemoteServer = z.strictObject({
  baseUrl: RemoteBaseUrl,
  /** Seconds to wait for each answer. */
  timeoutS: z.number().min(1, 'the timeout must be at least 1 s').max(600, 'the timeout must be at most 600 s').default(60),
});
export type RemoteServer = z.output<typeof RemoteServer>;

export const RemoteTarget = RemoteServer.extend({ model: z.string().trim().min(1, 'name the served model').max(200) });
export type RemoteTarget = z.output<typeof RemoteTarget>;

const Prompt = z.string().min(1, 'the prompt is empty').max(100_000);
/** vLLM gives at most 20 log-probabilities unless started with a larger `--max-logprobs`. */
const TopK = z.number().int().min(1, 'k must be at least 1').max(20, 'a server gives at most 20 log-probabilities (vLLM\'s default limit)');

/** Where the key for a server comes from: stored encrypted by the desktop app, the environment, or none. */
export const RemoteKeySource = z.enum(['stored', 'env', 'none']);
export type RemoteKeySource = z.infer<typeof RemoteKeySource>;

export const RemoteModelsAnswer = z.object({
  root: z.string(),
  models: z.array(z.object({ id: z.string(), maxModelLen: z.number().nullable() })),
  keySource: RemoteKeySource,
  /** Whether this app can keep a key (the desktop app, with the system's keychain). */
  canStoreKey: z.boolean(),
  /** Plain http:// to another machine: the prompt (and key) travel unencrypted. */
  warning: z.string().nullable(),
});
export type RemoteModelsAnswer = z.infer<typeof RemoteModelsAnswer>;

export const RemoteTokenizeRequest = RemoteTarget.extend({ prompt: Prompt });
export const RemoteTokenizeAnswer = z.object({
  via: z.enum(['tokenize', 'echo']),
  tokens: z.array(z.object({ id: z.number().nullable(), text: z.string() })),
});
export type RemoteTokenizeAnswer = z.infer<typeof RemoteTokenizeAnswer>;

export const RemotePredictRequest = RemoteTarget.extend({ prompt: Prompt, topK: TopK.default(10) });
export const RemotePredictAnswer = z.object({
  top: z.array(z.object({ id: z.number().nullable(), token: z.string(), prob: z.number(), logprob: z.number() })),
  otherMass: z.number(),
  /** Bits, over the top K only. */
  entropy: z.number(),
  elapsedMs: z.number(),
});
export type RemotePredictAnswer = z.infer<typeof RemotePredictAnswer>;

export const RemoteSurprisalRequest = RemoteTarget.extend({ prompt: Prompt, topK: TopK.default(5) });
export const SurprisalRowSchema = z.object({
  position: z.number(),
  id: z.number().nullable(),
  text: z.string(),
  prob: z.number().nullable(),
  logprob: z.number().nullable(),
  bits: z.number().nullable(),
  rank: z.number().nullable(),
  expected: z.array(z.object({ id: z.number().nullable(), token: z.string(), prob: z.number() })).nullable(),
});
export type SurprisalRowData = z.infer<typeof SurprisalRowSchema>;
export const RemoteSurprisalAnswer = z.object({ rows: z.array(SurprisalRowSchema), elapsedMs: z.number() });
export type RemoteSurprisalAnswer = z.infer<typeof RemoteSurprisalAnswer>;

export const RemoteGenerateRequest = RemoteTarget.extend({
  /** Names this request for `cancel` (desktop app); the browser build cancels by closing the request. */
  requestId: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'a request id is 1 to 64 letters, digits, _ or -'),
  prompt: Prompt,
  /** The prompt as token ids (a fork's prefix), sent in place of the text so that it is not tokenized again. */
  promptIds: z.array(z.number().int().min(0)).min(1).max(100_000).optional(),
  settings: SamplerSettings,
  seed: z.number().int().min(0).max(0xffffffff),
  maxTokens: z.number().int().min(1).max(4096),
  stop: z.string().min(1).max(200).optional(),
});
export type RemoteGenerateRequest = z.input<typeof RemoteGenerateRequest>;

export const RemoteStepSchema = z.object({
  id: z.number().nullable(),
  token: z.string(),
  prob: z.number().nullable(),
  rank: z.number().nullable(),
  top: z.array(z.object({ id: z.number().nullable(), token: z.string(), prob: z.number() })),
});
export const RemoteGenerateAnswer = z.object({
  sent: z.record(z.string(), z.number()),
  notApplied: z.array(z.object({ setting: z.string(), reason: z.string() })),
  steps: z.array(RemoteStepSchema),
  generated: z.string(),
  serverText: z.string(),
  /** `cancelled` when Cancel stopped the stream: the steps already streamed are kept. */
  stopReason: z.string().nullable(),
  meanLogProb: z.number().nullable(),
  elapsedMs: z.number(),
});
export type RemoteGenerateAnswer = z.infer<typeof RemoteGenerateAnswer>;

export const RemoteCancelRequest = z.strictObject({ requestId: RemoteGenerateRequest.shape.requestId });

/** The steps of a generation streamed in so far (null once it has ended): what a column shows while it runs. */
export const RemoteProgressRequest = RemoteCancelRequest;
export const RemoteProgressAnswer = z.object({ steps: z.array(RemoteStepSchema) }).nullable();
export type RemoteProgressAnswer = z.infer<typeof RemoteProgressAnswer>;

/** Stores (or, with an empty key, forgets) the key of one server. Desktop app only. */
export const RemoteKeyRequest = z.strictObject({ baseUrl: RemoteBaseUrl, key: z.string().max(8192, 'the key is longer than 8 KiB').regex(/^[\x21-\x7e]*$/, 'the key has spaces or characters outside printable ASCII') });
