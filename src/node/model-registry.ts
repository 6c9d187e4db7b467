import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, readdir, realpath, stat } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { z } from 'zod';
import { describeIssue } from '../common/issue-words';
import { parseModelConfig } from '../common/model-config';
import type { ModelInfo, ModelList, ModelProblem } from '../common/model-info';
import { companionFiles, noOnnxMessage, ONNX_CANDIDATES, variantCandidates, variantOf } from '../common/model-import';
import { modelSizeProblem } from '../common/model-limits';
import { graphFacts, type GraphFacts } from '../engine/graph-facts';
import { checkGraph, rememberCheckedTokenizer } from './graph-check';
import type { ModelTokenizer } from '../engine/tokenizer';
import { RequestError, errorMessage } from './request-error';
import { isMissing, readJson } from './model-folder-files';
import type { GgufFacts } from './gguf-metadata';
import { describeGguf } from './gguf-model-info';
import { GGUF_REGISTRATION } from './gguf-registration';

export interface ModelRoot {
  dir: string;
  source: 'bundled' | 'user';
}

/** What reading the graph told: cached per file version, since decoding a large graph takes a while. */
interface GraphInspection {
  facts: GraphFacts;
  externalFiles: string[];
}

/** What only the model list shows: the facts read from the graph and the ONNX file's SHA-256. */
type ListedOnly = 'heads' | 'kvHeads' | 'parameters' | 'sha256' | 'opset' | 'precision' | 'graphInputs' | 'views';

/**
 * A model found and checked as `resolve` checks it (the same refusals, with the same messages),
 * without what only the model list shows: what a command that runs the model needs, at the cost of
 * neither the graph's facts nor hashing the ONNX file (seconds for a model of hundreds of MB).
 */
export type LocatedModel = Omit<ModelInfo, ListedOnly>;

const Card = z
  .object({
    name: z.string().optional(),
    description: z.string().optional(),
    default_prompt: z.string().max(2000).optional(),
    parameters: z.number().int().nonnegative().nullable().optional(),
  })
  .loose();

function isInside(parent: string, child: string): boolean {
  const rel = relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

async function fileExists(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/**
 * Finds model folders under the bundled and user roots, validates them and hands out their files.
 * Ids are folder names; the first root that has a folder of that name wins.
 */
export class ModelRegistry {
  private readonly roots: ModelRoot[];
  private readonly hashes = new Map<string, Promise<string>>();
  private readonly graphs = new Map<string, GraphInspection>();
  private readonly ggufHeaders = new Map<string, GgufFacts>();

  constructor(roots: ModelRoot[]) {
    this.roots = roots.map((r) => ({ dir: resolve(r.dir), source: r.source }));
  }

  /** Every model folder in every root; folders that fail validation are listed in `problems`. */
  async list(): Promise<ModelList> {
    const models: ModelInfo[] = [];
    const problems: ModelProblem[] = [];
    const seen = new Map<string, string>();
    for (const root of this.roots) {
      let names: string[];
      try {
        names = (await readdir(root.dir)).filter((n) => !n.startsWith('.')).sort();
      } catch (cause) {
        if (!isMissing(cause)) problems.push({ path: root.dir, message: `models folder could not be read: ${errorMessage(cause)}` });
        continue;
      }
      for (const name of names) {
        const folder = join(root.dir, name);
        try {
          const entry = await lstat(folder);
          if (!entry.isDirectory() && !entry.isSymbolicLink()) continue;
          if (entry.isSymbolicLink() && !(await stat(folder).then((s) => s.isDirectory(), () => true))) continue;
          const earlier = seen.get(name);
          if (earlier !== undefined) {
            problems.push({ path: folder, message: `${folder}: a model with id "${name}" is already loaded from ${earlier}; ignored` });
            continue;
          }
          models.push(await this.describe(folder, root));
          seen.set(name, folder);
        } catch (cause) {
          problems.push({ path: folder, message: errorMessage(cause) });
        }
      }
    }
    return { models, problems };
  }

  /**
   * A model by id (a folder in one of the roots) or by the path of a model folder. Throws an Error
   * naming the cause when there is no such model or its folder is not valid.
   */
  async resolve(idOrFolderPath: string, variant: string | null = null): Promise<ModelInfo> {
    return this.find(idOrFolderPath, variant, true);
  }

  /** As `resolve`, with every check, but without the graph's facts and the file's hash (`LocatedModel`). */
  async locate(idOrFolderPath: string, variant: string | null = null): Promise<LocatedModel> {
    return this.find(idOrFolderPath, variant, false);
  }

  /** SHA-256 of a located ONNX model's file, as `resolve` gives it. */
  async onnxSha256(model: LocatedModel): Promise<string> {
    const path = join(model.path, model.files.onnx);
    const { size, mtimeMs } = await stat(path);
    return this.sha256(path, size, mtimeMs);
  }

  private async find(idOrFolderPath: string, variant: string | null, listed: true): Promise<ModelInfo>;
  private async find(idOrFolderPath: string, variant: string | null, listed: boolean): Promise<LocatedModel>;
  private async find(idOrFolderPath: string, variant: string | null, listed: boolean): Promise<LocatedModel> {
    const value = idOrFolderPath.trim();
    if (value === '') throw new RequestError(400, 'no model given');
    const looksLikePath = isAbsolute(value) || value.includes('/') || value.includes('\\') || value.startsWith('.');
    if (!looksLikePath) {
      for (const root of this.roots) {
        const folder = join(root.dir, value);
        const exists = await lstat(folder).then(() => true, () => false);
        if (exists) return this.describe(folder, root, folder, variant, listed);
      }
    }
    const folder = resolve(value);
    const isFolder = await stat(folder).then((s) => s.isDirectory(), () => false);
    if (!isFolder) {
      if (looksLikePath) throw new RequestError(404, `model folder ${folder} does not exist`);
      const searched = this.roots.map((r) => r.dir).join(', ');
      throw new RequestError(404, `unknown model "${value}": no folder of that name in ${searched || '(no models folders)'}`);
    }
    return this.describe(folder, null, folder, variant, listed);
  }

  /**
   * The absolute path of one of a model's own files (config, tokenizer, tokenizer config, card,
   * its ONNX file), for a request naming `relPath` inside the model folder. Anything else is
   * refused: other files, `..`, and links that lead outside the folder.
   */
  async fileForRequest(id: string, relPath: string): Promise<string> {
    if (!/^[A-Za-z0-9._-]+$/.test(id) || id.startsWith('.')) throw new RequestError(404, `unknown model "${id}"`);
    const segments = relPath.split('/');
    if (relPath.includes('\\') || relPath.includes('\0') || segments.some((s) => s === '..' || s === '.' || s === '')) {
      throw new RequestError(403, `refused path "${relPath}": only the model's own files may be read`);
    }
    let info: ModelInfo;
    try {
      info = await this.resolve(id);
    } catch (cause) {
      throw cause instanceof RequestError ? cause : new RequestError(404, errorMessage(cause));
    }
    const allowed = [
      info.files.config,
      info.files.tokenizer,
      info.files.tokenizerConfig,
      info.files.card,
      ...info.variants.flatMap((v) => [v.onnx, v.onnxWithPast, ...v.onnxData]),
    ];
    if (!allowed.includes(relPath)) {
      throw new RequestError(404, `model "${id}" has no file "${relPath}" to serve`);
    }
    return this.safeFile(info.path, relPath);
  }

  /** The path of a file inside a model folder, after checking that links do not lead outside it. */
  private async safeFile(folder: string, relPath: string): Promise<string> {
    const realFolder = await realpath(folder);
    let real: string;
    try {
      real = await realpath(join(folder, relPath));
    } catch (cause) {
      throw new RequestError(404, `${join(folder, relPath)}: ${isMissing(cause) ? 'no such file' : errorMessage(cause)}`);
    }
    if (!isInside(realFolder, real)) {
      throw new RequestError(403, `${join(folder, relPath)} is a link to ${real}, outside the model folder; refused`);
    }
    return real;
  }

  /**
   * Validates a model folder outside the roots as the registry would list it, with every check
   * (graph, tokenizer, sizes). Messages name files under `shownAs` (the folder the user chose).
   */
  async inspect(folder: string, shownAs = folder, variant: string | null = null): Promise<ModelInfo> {
    return this.describe(folder, null, shownAs, variant);
  }

  /** Every variant in a folder, best first: its ONNX file, cache graph, external data and their bytes. */
  private async variants(folder: string): Promise<ModelInfo['variants']> {
    const found: ModelInfo['variants'] = [];
    for (const onnx of ONNX_CANDIDATES) {
      const name = variantOf(onnx);
      if (!name || found.some((v) => v.name === name) || !(await fileExists(join(folder, onnx)))) continue;
      let onnxWithPast: string | null = null;
      for (const candidate of companionFiles(onnx).withPast) {
        if (await fileExists(join(folder, candidate))) {
          onnxWithPast = candidate;
          break;
        }
      }
      const onnxData = await this.externalDataBeside(folder, onnx);
      let bytes = 0;
      for (const file of [onnx, onnxWithPast, ...onnxData]) if (file) bytes += (await stat(join(folder, file))).size;
      found.push({ name, onnx, onnxWithPast, onnxData, bytes });
    }
    return found;
  }

  private async describe(folder: string, root: ModelRoot | null, shownAs?: string, variant?: string | null, listed?: true): Promise<ModelInfo>;
  private async describe(folder: string, root: ModelRoot | null, shownAs: string, variant: string | null, listed: boolean): Promise<LocatedModel>;
  private async describe(folder: string, root: ModelRoot | null, shownAs = folder, variant: string | null = null, listed = true): Promise<LocatedModel> {
    const id = basename(folder);
    if (root) {
      const realRoot = await realpath(root.dir);
      const realFolder = await realpath(folder).catch(() => null);
      if (realFolder === null) throw new Error(`${folder}: a link to a folder that does not exist`);
      if (!isInside(realRoot, realFolder) || realFolder === realRoot) {
        throw new Error(`${folder}: a link to ${realFolder}, outside the models folder ${root.dir}; refused`);
      }
    }
    const label = (file: string): string => `${shownAs}${sep}${file.split('/').join(sep)}`;
    if (await fileExists(join(folder, GGUF_REGISTRATION))) return describeGguf(folder, root?.source ?? 'path', label(GGUF_REGISTRATION), this.ggufHeaders);
    const configJson = await readJson(join(folder, 'config.json'), label('config.json'));
    const config = parseModelConfig(configJson, label('config.json'));
    const tokenizerJson = await readJson(join(folder, 'tokenizer.json'), label('tokenizer.json'));
    if (tokenizerJson === null || typeof tokenizerJson !== 'object' || !('model' in tokenizerJson)) {
      throw new Error(`${label('tokenizer.json')}: field "model" is missing; expected a Hugging Face tokenizers file`);
    }
    const tokenizerConfig = (await fileExists(join(folder, 'tokenizer_config.json'))) ? 'tokenizer_config.json' : null;
    const tokenizerConfigJson = tokenizerConfig ? await readJson(join(folder, tokenizerConfig), label(tokenizerConfig)) : {};
    let card: z.infer<typeof Card> = {};
    const hasCard = await fileExists(join(folder, 'card.json'));
    if (hasCard) {
      const cardJson = await readJson(join(folder, 'card.json'), label('card.json'));
      const parsed = Card.safeParse(cardJson);
      if (!parsed.success) throw new Error(describeIssue(label('card.json'), parsed.error, cardJson));
      card = parsed.data;
    }
    const variants = await this.variants(folder);
    const wanted = variantCandidates(variant);
    const chosen = wanted.map((c) => variants.find((v) => v.onnx === c)).find((v) => v !== undefined);
    if (!chosen) throw new Error(noOnnxMessage(shownAs, variant, variants.map((v) => v.onnx)));
    // The key/value-cache graph the app generates with, when the folder has one beside the main graph.
    const { onnx, onnxWithPast, onnxData } = chosen;
    for (const file of ['config.json', 'tokenizer.json', tokenizerConfig, hasCard ? 'card.json' : null, onnx, onnxWithPast]) {
      if (file) await this.safeFile(folder, file);
    }
    const onnxPath = join(folder, onnx);
    const onnxStat = await stat(onnxPath);
    let dataBytes = 0;
    for (const file of onnxData) dataBytes += (await stat(await this.safeFile(folder, file))).size;
    const tooBig = modelSizeProblem(onnxStat.size, dataBytes);
    if (tooBig) throw new Error(`${label(onnx)}: ${tooBig}`);
    const key = `${onnxPath}\0${onnxStat.size}\0${onnxStat.mtimeMs}\0${dataBytes}`;
    let graph = this.graphs.get(key) ?? null;
    let externalFiles = graph?.externalFiles;
    let checkedTokenizer: ModelTokenizer | null = null;
    if (!externalFiles) {
      const checked = await checkGraph(onnxPath, onnxData, label(onnx), label('tokenizer.json'), tokenizerJson, tokenizerConfigJson, config);
      externalFiles = checked.externalFiles;
      checkedTokenizer = checked.tokenizer;
      if (listed) {
        graph = { facts: graphFacts(checked.summary, checked.plan, config), externalFiles };
        this.graphs.set(key, graph);
      }
    }
    const missingData = externalFiles.map((f) => join(dirname(onnx), f)).filter((f) => !onnxData.includes(f));
    if (missingData.length > 0) {
      throw new Error(`${label(onnx)}: its weights are in external data ${missingData.map((f) => label(f)).join(', ')}, which is missing`);
    }
    const located: LocatedModel = {
      id,
      name: card.name ?? id,
      source: root?.source ?? 'path',
      format: 'onnx',
      gguf: null,
      path: folder,
      description: card.description ?? '',
      defaultPrompt: card.default_prompt ?? null,
      modelType: config.modelType,
      layers: config.layers,
      hidden: config.hidden,
      vocab: config.vocabSize,
      context: config.context,
      bytes: onnxStat.size + dataBytes,
      variant: chosen.name,
      variants,
      files: { config: 'config.json', tokenizer: 'tokenizer.json', tokenizerConfig, onnx, onnxWithPast, onnxData, card: hasCard ? 'card.json' : null },
    };
    if (checkedTokenizer) rememberCheckedTokenizer(located, checkedTokenizer);
    if (!listed || !graph) return located;
    const { facts } = graph;
    const info: ModelInfo = {
      ...located,
      heads: facts.heads,
      kvHeads: facts.kvHeads,
      parameters: card.parameters ?? facts.parameters,
      sha256: await this.sha256(onnxPath, onnxStat.size, onnxStat.mtimeMs),
      opset: facts.opset,
      precision: facts.precision,
      graphInputs: facts.inputs,
      views: facts.views,
    };
    return info;
  }

  /** External data files beside the ONNX file, named the way exporters name them (model.onnx_data). */
  private async externalDataBeside(folder: string, onnx: string): Promise<string[]> {
    const found: string[] = [];
    for (const candidate of companionFiles(onnx).data) if (await fileExists(join(folder, candidate))) found.push(candidate);
    return found;
  }

  /**
   * SHA-256 of a file, streamed, cached while its path, size and modification time stay the same.
   * A hash under way is shared: two listings at once (the one started with the app and the page's)
   * read the file once.
   */
  private sha256(path: string, size: number, mtimeMs: number): Promise<string> {
    const key = `${path}\0${size}\0${mtimeMs}`;
    const known = this.hashes.get(key);
    if (known) return known;
    const hashing = (async () => {
      const hash = createHash('sha256');
      for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
      return hash.digest('hex');
    })();
    this.hashes.set(key, hashing);
    hashing.catch(() => this.hashes.delete(key));
    return hashing;
  }
}
