import { errorMessage } from '../common/error-message';
import { basename, resolve } from 'node:path';
import { GgufModel, isGgufPath } from '../node/gguf-model';
import { startOpenAiServer, type ServedModel } from '../node/openai-server';
import type { EngineModel } from '../engine/contract';
import { UsageError, listOption, numberOption, type ParsedCommand } from './args';
import { createRegistry, loadModel, runtimeOptions } from './model-host';

/**
 * `ntl serve-openai [--port N] [--model ID ...]`: serves the named models (every model found, without
 * `--model`) on http://127.0.0.1:N until SIGINT or SIGTERM; each is loaded on its first request.
 */
export async function serveOpenAiCommand(values: ParsedCommand['values']): Promise<void> {
  const port = numberOption(values, 'port', { integer: true, min: 0, max: 65535 }) ?? 8000;
  const runtime = runtimeOptions(values);
  const registry = createRegistry();
  const all = listOption(values, 'model');
  // A GGUF file is loaded at once (llama.cpp reads its context from it); it is served by its file name.
  const ggufs = new Map<string, GgufModel>();
  for (const path of all.filter(isGgufPath)) {
    const model = await GgufModel.load(resolve(path), { threads: runtime.threads ?? 1, id: basename(path) });
    if (ggufs.has(model.id)) throw new UsageError(`serve-openai: two GGUF files named ${model.id}`);
    ggufs.set(model.id, model);
  }
  const wanted = all.filter((m) => !isGgufPath(m));
  const infos = wanted.length > 0 || ggufs.size > 0 ? await Promise.all(wanted.map((id) => registry.resolve(id, typeof values['variant'] === 'string' ? values['variant'] : null))) : (await registry.list()).models;
  if (infos.length === 0 && ggufs.size === 0) throw new UsageError('serve-openai: no models to serve');
  const models: ServedModel[] = [...infos.map((info) => ({ id: info.id, context: info.context })), ...[...ggufs.values()].map((g) => ({ id: g.id, context: g.config.context }))];
  const loaded = new Map<string, Promise<EngineModel>>([...ggufs.entries()].map(([id, g]) => [id, Promise.resolve(g)]));
  const load = (id: string): Promise<EngineModel> => {
    let model = loaded.get(id);
    if (model) return model;
    const info = infos.find((i) => i.id === id);
    if (!info) return Promise.reject(new Error(`unknown model ${id}`));
    if (!model) {
      model = loadModel(info, runtime).then((m) => m.engine);
      model.catch(() => loaded.delete(id));
      loaded.set(id, model);
    }
    return model;
  };
  const { server, url } = await startOpenAiServer({ models, load }, port).catch((cause: unknown) => {
    throw new Error(`serve-openai: cannot listen on 127.0.0.1:${port}: ${errorMessage(cause)}`);
  });
  process.stdout.write(`serving ${models.map((m) => m.id).join(', ')} at ${url}/v1 (OpenAI-compatible completions; Ctrl-C stops)\n`);
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      server.close(() => resolve());
      server.closeAllConnections();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await Promise.all([...loaded.values()].map((m) => m.then((e) => e.release()).catch(() => undefined)));
}
