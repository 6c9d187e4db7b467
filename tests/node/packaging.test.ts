import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { getConfig, validateConfiguration } from 'app-builder-lib/out/util/config/config';
import { DebugLogger } from 'builder-util';
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
