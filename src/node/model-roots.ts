import { homedir } from 'node:os';
import { join } from 'node:path';
import { ModelRegistry, type ModelRoot } from './model-registry';

/**
 * The models folders of the Node hosts (`ntl` and `npm run serve`): the bundled models
 * (`NTL_BUNDLED_MODELS`, else `<project>/resources/models`), then the user's (`NTL_MODELS_DIR`, else
 * `~/.next-token-lab/models`). The desktop app finds its own through Electron's paths.
 */
export function userModelsDir(env: NodeJS.ProcessEnv = process.env): string {
  return env['NTL_MODELS_DIR'] || join(homedir(), '.next-token-lab', 'models');
}

export function nodeModelRoots(projectRoot: string, env: NodeJS.ProcessEnv = process.env): ModelRoot[] {
  return [
    { dir: env['NTL_BUNDLED_MODELS'] || join(projectRoot, 'resources', 'models'), source: 'bundled' },
    { dir: userModelsDir(env), source: 'user' },
  ];
}

export function nodeModelRegistry(projectRoot: string, env: NodeJS.ProcessEnv = process.env): ModelRegistry {
  return new ModelRegistry(nodeModelRoots(projectRoot, env));
}
