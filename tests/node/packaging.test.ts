import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { getConfig, validateConfiguration } from 'app-builder-lib/out/util/config/config';
import { DebugLogger } from 'builder-util';
import { minimatch } from 'minimatch';
import { describe, expect, it } from 'vitest';
import { appResources } from '../../src/main/resource-paths';
import { projectRoot } from './helpers';

/**
 * The installers' configuration (electron-builder.yml). Packaging itself needs the Electron zip and
 * electron-builder's tools, which cannot be downloaded here: this checks the configuration with
 * electron-builder's own schema and that it puts the files where the packaged app looks for them.
 */
describe('the installers’ configuration (electron-builder.yml)', () => {
  it('passes electron-builder’s own validation', async () => {
    const config = await getConfig(projectRoot, null, null);
    await expect(validateConfiguration(config, new DebugLogger(false))).resolves.toBeUndefined();
    // The validator is not a formality: a misspelt option fails it.
    await expect(validateConfiguration({ ...config, extraResource: [] } as typeof config, new DebugLogger(false))).rejects.toThrow(/extraResource/);
    expect(config.productName).toBe('Next Token Lab');
    expect(config.linux?.target).toEqual(['AppImage', 'deb']);
    expect(config.mac?.target).toBe('dmg');
    expect(config.win?.target).toBe('nsis');
    expect(existsSync(join(projectRoot, 'build', 'icon.png'))).toBe(true);
    const pkg = JSON.parse(readFileSync(join(projectRoot, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(pkg.scripts['dist']).toBe('electron-vite build && electron-builder');
  });

  it('ships the bundled models and the tour beside the archive, where the packaged app looks for them', async () => {
    const config = await getConfig(projectRoot, null, null);
    const resourcesPath = '/opt/Next Token Lab/resources';
    const wanted = appResources({ isPackaged: true, appPath: join(resourcesPath, 'app.asar'), resourcesPath });
    const extra = (config.extraResources ?? []) as { from: string; to: string }[];
    const destinationOf = (source: string): string | undefined => extra.find((e) => e.from === source)?.to;
    expect(join(resourcesPath, destinationOf('resources/models') ?? '?')).toBe(wanted.models);
    expect(join(resourcesPath, destinationOf('resources/notebooks') ?? '?', 'guided-tour.ntl.json')).toBe(wanted.tour);
    // The same files as in development, where the project's resources folder is used.
    const dev = appResources({ isPackaged: false, appPath: projectRoot, resourcesPath: undefined });
    expect(existsSync(join(dev.models, 'seed-world', 'config.json'))).toBe(true);
    expect(existsSync(dev.tour)).toBe(true);
  });

  it('leaves node-llama-cpp’s GPU builds, other platforms’ builds and its llama.cpp source out of every installer, keeping the platform’s CPU build', async () => {
    const config = await getConfig(projectRoot, null, null);
    const patternsOf = (files: unknown): string[] => [files].flat().flatMap((entry) => (typeof entry === 'string' ? [entry] : entry && typeof entry === 'object' && 'filter' in entry ? [entry.filter].flat().filter((f): f is string => typeof f === 'string') : []));
    const ownBuild = { linux: 'linux-x64', mac: 'mac-arm64-metal', win: 'win-x64' } as const;
    for (const platform of ['linux', 'mac', 'win'] as const) {
      const excluded = [...patternsOf(config.files), ...patternsOf(config[platform]?.files)].filter((p) => p.startsWith('!')).map((p) => p.slice(1));
      const isExcluded = (path: string): boolean => excluded.some((pattern) => minimatch(path, pattern, { dot: true }));
      for (const gpu of ['linux-x64-cuda', 'linux-x64-cuda-ext', 'linux-x64-vulkan', 'win-x64-cuda', 'win-x64-cuda-ext', 'win-x64-vulkan']) {
        expect(isExcluded(`node_modules/@node-llama-cpp/${gpu}/bins/${gpu}/llama-addon.node`), `${platform}: ${gpu}`).toBe(true);
      }
      expect(isExcluded('node_modules/node-llama-cpp/llama/gitRelease.bundle'), platform).toBe(true);
      expect(isExcluded(`node_modules/@node-llama-cpp/${ownBuild[platform]}/bins/${ownBuild[platform]}/llama-addon.node`), `${platform} keeps its CPU build`).toBe(false);
      for (const other of Object.values(ownBuild).filter((b) => b !== ownBuild[platform])) expect(isExcluded(`node_modules/@node-llama-cpp/${other}/package.json`), `${platform} leaves out ${other}`).toBe(true);
      expect(isExcluded('node_modules/node-llama-cpp/dist/index.js'), platform).toBe(false);
      expect(isExcluded('node_modules/node-llama-cpp/llama/binariesGithubRelease.json'), platform).toBe(false);
    }
  });

  it('unpacks the native engines’ binaries from the archive and keeps what the main process loads', async () => {
    const config = await getConfig(projectRoot, null, null);
    expect(config.asarUnpack).toEqual(expect.arrayContaining(['node_modules/onnxruntime-node/**', 'node_modules/node-llama-cpp/**']));
    const patterns = [config.files].flat().flatMap((entry) => (typeof entry === 'string' ? [entry] : [entry?.filter ?? []].flat()));
    expect(patterns).toContain('out/**');
    const excluded = patterns.filter((p) => p.startsWith('!node_modules/')).join(' ');
    const mainDir = join(projectRoot, 'out', 'main');
    // What the built main process and native engine import from node_modules must not be left out.
    const imported = new Set<string>();
    if (existsSync(mainDir)) {
      const files = [...readdirSync(mainDir).filter((f) => f.endsWith('.js')).map((f) => join(mainDir, f)), ...readdirSync(join(mainDir, 'chunks')).map((f) => join(mainDir, 'chunks', f))];
      for (const file of files) {
        for (const match of readFileSync(file, 'utf8').matchAll(/(?:from |import\()["']((?:@[\w.-]+\/)?[\w.-]+)/g)) {
          const name = match[1] ?? '';
          if (!name.startsWith('node:') && name !== 'electron') imported.add(name);
        }
      }
    } else {
      for (const name of ['zod', 'onnx-proto', '@huggingface/tokenizers', 'onnxruntime-node']) imported.add(name);
    }
    expect(imported.size).toBeGreaterThan(0);
    for (const name of imported) {
      const [scope, bare] = name.startsWith('@') ? name.split('/') : [null, name];
      expect(excluded.includes(`,${bare}`) || excluded.includes(`{${bare}`) || (scope !== null && excluded.includes(scope)), `${name} is left out of the archive`).toBe(false);
    }
  });
});
