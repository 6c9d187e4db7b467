import { errorMessage } from '../common/error-message';
import { existsSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ModelImporter } from '../node/model-import';
import { GgufLibrary } from '../node/gguf-library';
import { nodeModelRegistry, userModelsDir } from '../node/model-roots';
import { NotebookStore } from '../node/notebook-store';
import { createServer } from './create-server';
import { RemoteService, envKeys } from '../node/remote-service';

const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

function fail(message: string): never {
  process.stderr.write(`serve: ${message}\n`);
  process.exit(1);
}

function optionsFrom(args: string[]): { port: number; workspace: string | undefined } {
  let parsed;
  try {
    parsed = parseArgs({ args, options: { port: { type: 'string' }, workspace: { type: 'string' } }, strict: true });
  } catch (cause) {
    fail(errorMessage(cause));
  }
  const text = parsed.values.port ?? process.env['PORT'] ?? '5417';
  const port = Number(text);
  if (!/^\d+$/.test(text) || port > 65535) fail(`--port: expected a port number from 0 to 65535, got "${text}"`);
  const workspace = parsed.values.workspace ?? (process.env['NTL_WORKSPACE'] || undefined);
  if (workspace !== undefined && !(existsSync(workspace) && statSync(workspace).isDirectory())) fail(`--workspace: ${resolve(workspace)} is not a folder`);
  return { port, workspace: workspace === undefined ? undefined : resolve(workspace) };
}

const { port, workspace } = optionsFrom(process.argv.slice(2));
const rendererDir = join(projectRoot, 'out', 'renderer');
if (!existsSync(join(rendererDir, 'index.html'))) {
  fail(`${join(rendererDir, 'index.html')} is missing: run npm run build first`);
}
const home = join(homedir(), '.next-token-lab');
const userModels = userModelsDir();
const registry = nodeModelRegistry(projectRoot);
const importer = new ModelImporter(userModels, registry);
await importer.removeStale();
const store = new NotebookStore(workspace ?? join(home, 'notebooks'), { tour: join(projectRoot, 'resources', 'notebooks', 'guided-tour.ntl.json') });
// Served models: the key only from NTL_API_KEY (the browser build stores none).
const server = createServer({ rendererDir, registry, importer, gguf: new GgufLibrary(userModels, registry), store, workspaceIsDefault: workspace === undefined, remote: new RemoteService(envKeys()) });
try {
  const actual = await server.listen(port);
  process.stdout.write(`Next Token Lab: http://127.0.0.1:${actual}/\n`);
  // The first listing hashes every model file; done now, while the browser opens the page, its
  // first request for the models is answered from what is known. A failure is said then, not here.
  void registry.list().catch(() => undefined);
} catch (cause) {
  const message = errorMessage(cause);
  fail(`could not listen on 127.0.0.1:${port}: ${message}`);
}
const stop = (): void => {
  void server.close().finally(() => process.exit(0));
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
