import { z } from 'zod';
import { DraftEntry, NotebookEntry, WorkspaceInfo, type NtlApi, type SaveNotebookRequest } from '../../../common/api';
import { PageModelInfo, PageModelList } from '../../../common/model-info';
import { FoundGgufList } from '../../../common/gguf-found';
import { parseNotebook } from '../../../common/notebook-format';
import { MODELS_PATH, request } from './http';
import { RemoteGenerateAnswer, RemoteModelsAnswer, RemoteProgressAnswer, RemotePredictAnswer, RemoteSurprisalAnswer, RemoteTokenizeAnswer } from '../../../common/remote-api';

const JSON_TYPE = { 'Content-Type': 'application/json' };
const post = (body: unknown): RequestInit => ({ method: 'POST', headers: JSON_TYPE, body: JSON.stringify(body) });

/** A served model's answer through the serve process: the server's fault, when there was one, thrown in its words. */
async function remote(path: string, body: unknown): Promise<unknown> {
  const answer = await request(path, post(body));
  if (answer !== null && typeof answer === 'object' && 'fault' in answer && typeof answer.fault === 'string') throw new Error(answer.fault);
  return answer;
}

/** The main-process services over HTTP, for the browser build (`npm run serve`). */
const httpApi: NtlApi = {
  transport: 'http',
  models: {
    list: async () => PageModelList.parse(await request(MODELS_PATH)),
    importBegin: async (begin) =>
      (await request('api/imports', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(begin) })) as { token: string },
    importWrite: async ({ token, file, offset, data }) => {
      const query = `file=${encodeURIComponent(file)}&offset=${offset}`;
      const body = new Uint8Array(data);
      await request(`api/imports/${encodeURIComponent(token)}?${query}`, { method: 'PUT', headers: { 'Content-Type': 'application/octet-stream' }, body });
    },
    importCommit: async (token) => PageModelInfo.parse(await request(`api/imports/${encodeURIComponent(token)}/commit`, { method: 'POST' })),
    importAbort: async (token) => {
      await request(`api/imports/${encodeURIComponent(token)}`, { method: 'DELETE' });
    },
    ggufFound: async () => FoundGgufList.parse(await request('api/gguf')),
    ggufAdd: async (path) => PageModelInfo.parse(await request('api/gguf', { method: 'POST', headers: JSON_TYPE, body: JSON.stringify({ path }) })),
  },
  notebooks: {
    list: async () => z.array(NotebookEntry).parse(await request('api/notebooks')),
    read: async (file, copy = 'file') =>
      parseNotebook(await request(`api/notebooks/${encodeURIComponent(file)}${copy === 'file' ? '' : `?copy=${copy}`}`), copy === 'file' ? file : `${file} (${copy})`),
    save: async ({ file, doc, create }: SaveNotebookRequest) =>
      NotebookEntry.parse(
        await request(`api/notebooks/${encodeURIComponent(file)}${create === 'free-name' ? '?create=free-name' : create ? '?create=1' : ''}`, { method: 'PUT', headers: JSON_TYPE, body: JSON.stringify(doc) }),
      ),
    rename: async ({ file, name }) =>
      NotebookEntry.parse(await request(`api/notebooks/${encodeURIComponent(file)}/rename`, { method: 'POST', headers: JSON_TYPE, body: JSON.stringify({ name }) })),
    duplicate: async (file) => NotebookEntry.parse(await request(`api/notebooks/${encodeURIComponent(file)}/duplicate`, { method: 'POST' })),
    remove: async (file) => {
      await request(`api/notebooks/${encodeURIComponent(file)}`, { method: 'DELETE' });
    },
    recent: async () => z.array(z.string()).parse(await request('api/recent')),
    saveDraft: async ({ file, doc }) => {
      await request(`api/drafts/${encodeURIComponent(file)}`, { method: 'PUT', headers: JSON_TYPE, body: JSON.stringify(doc) });
    },
    drafts: async () => z.array(DraftEntry).parse(await request('api/drafts')),
    discardDraft: async (file) => {
      await request(`api/drafts/${encodeURIComponent(file)}`, { method: 'DELETE' });
    },
    firstRun: async () => z.object({ tour: z.string().nullable() }).parse(await request('api/first-run', { method: 'POST' })).tour,
  },
  // The serve process asks the server: the page's Content Security Policy stays offline.
  remote: {
    models: async (body) => RemoteModelsAnswer.parse(await remote('api/remote/models', body)),
    tokenize: async (body) => RemoteTokenizeAnswer.parse(await remote('api/remote/tokenize', body)),
    predict: async (body) => RemotePredictAnswer.parse(await remote('api/remote/predict', body)),
    surprisal: async (body) => RemoteSurprisalAnswer.parse(await remote('api/remote/surprisal', body)),
    // Cancel is a request of its own: the serve process stops the server's stream, and this request
    // answers with the steps streamed so far.
    generate: async (body, signal) => {
      const onAbort = (): void => void request('api/remote/cancel', post({ requestId: body.requestId })).catch(() => undefined);
      signal?.addEventListener('abort', onAbort, { once: true });
      try {
        return RemoteGenerateAnswer.parse(await remote('api/remote/generate', body));
      } finally {
        signal?.removeEventListener('abort', onAbort);
      }
    },
    cancel: async (requestId) => {
      await request('api/remote/cancel', post({ requestId }));
    },
    progress: async (requestId) => RemoteProgressAnswer.parse(await remote('api/remote/progress', { requestId })),
  },
  workspace: {
    info: async () => WorkspaceInfo.parse(await request('api/workspace')),
    choose: () => Promise.reject(new Error('the browser build keeps the workspace folder it was started with: start it with npm run serve -- --workspace FOLDER')),
    useDefault: () => Promise.reject(new Error('the browser build keeps the workspace folder it was started with')),
  },
};

/** IPC in the desktop app (exposed by the preload), HTTP in a browser. */
export const api: NtlApi = window.ntl ?? httpApi;
