import { stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import type { FoundGgufList } from '../common/gguf-found';
import type { ModelInfo } from '../common/model-info';
import { findGgufCandidates } from './gguf-folders';
import { ggufPrecision, readGgufFacts, type GgufFacts } from './gguf-metadata';
import { registerGguf, type GgufRegistration } from './gguf-registration';
import type { ModelRegistry } from './model-registry';
import { RequestError, errorMessage } from './request-error';

/**
 * The GGUF side of the Models panel: the files LM Studio and Ollama keep (offered, with their
 * headers), and adding one, or a file the user picked, by path and hash into the user's models folder.
 */
export class GgufLibrary {
  private readonly headers = new Map<string, GgufFacts | string>();

  constructor(
    private readonly modelsDir: string,
    private readonly registry: ModelRegistry,
    private readonly env: NodeJS.ProcessEnv = process.env,
    private readonly home: string = homedir(),
  ) {}

  /** The GGUF files found, each with its header's shape (or why it could not be read) and the id it is added as. */
  async found(): Promise<FoundGgufList> {
    const [{ files, searched }, list] = await Promise.all([findGgufCandidates(this.env, this.home), this.registry.list()]);
    const registered = new Map(list.models.filter((m) => m.format === 'gguf').map((m) => [m.path, m.id]));
    const out: FoundGgufList['files'] = [];
    for (const file of files) {
      const facts = await this.header(file.path);
      out.push({
        ...file,
        architecture: typeof facts === 'string' ? null : facts.architecture,
        fileType: typeof facts === 'string' ? null : ggufPrecision(facts),
        parameters: typeof facts === 'string' ? null : facts.parameters,
        registeredAs: registered.get(file.path) ?? null,
        problem: typeof facts === 'string' ? facts : null,
      });
    }
    return { files: out, searched };
  }

  /** Adds a file the scan found; any other path is refused (the page may not name files to read). */
  async addFound(path: string): Promise<ModelInfo> {
    const { files } = await findGgufCandidates(this.env, this.home);
    const found = files.find((f) => f.path === path);
    if (!found) throw new RequestError(403, `${path} is not a GGUF file found in LM Studio's or Ollama's models folder`);
    return this.addFile(found.path, found.origin, found.name);
  }

  /** Adds a GGUF file by path (the desktop app's file dialog, `ntl import`): its header is checked, it is hashed, nothing is copied. */
  async addFile(path: string, origin: GgufRegistration['origin'] = 'registered', name: string | null = null): Promise<ModelInfo> {
    const taken = new Set((await this.registry.list()).models.map((m) => m.id));
    const id = await registerGguf(this.modelsDir, path, { origin, name, takenIds: taken });
    return this.registry.resolve(id);
  }

  private async header(path: string): Promise<GgufFacts | string> {
    const s = await stat(path);
    const key = `${path}\0${s.size}\0${s.mtimeMs}`;
    let facts = this.headers.get(key);
    if (facts === undefined) {
      facts = await readGgufFacts(path).catch((cause: unknown) => errorMessage(cause));
      this.headers.set(key, facts);
    }
    return facts;
  }
}
