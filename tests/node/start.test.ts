import { describe, expect, it } from 'vitest';
import { displayProblem, downloadProblem, nodeAtLeast, previewCommand, sandboxProblem, startArguments } from '../../bin/start-checks.mjs';

describe('npm start', () => {
  it('builds once (preview --skipBuild) and passes the user’s arguments on to Electron', () => {
    expect(previewCommand('ev.js', startArguments([]))).toEqual(['ev.js', 'preview', '--skipBuild']);
    expect(previewCommand('ev.js', startArguments(['/home/me/notebooks', '--inspect=9229']))).toEqual(['ev.js', 'preview', '--skipBuild', '--', '/home/me/notebooks', '--inspect=9229']);
  });

  it('turns the sandbox off only when asked with --no-sandbox', () => {
    expect(startArguments(['--no-sandbox', 'x'])).toEqual({ noSandbox: true, appArgs: ['x'] });
    expect(previewCommand('ev.js', startArguments(['--no-sandbox']))).toEqual(['ev.js', 'preview', '--skipBuild', '--noSandbox']);
  });

  it('explains the chrome-sandbox check where Electron would abort on it, with both ways out', () => {
    const helper = { path: '/p/node_modules/electron/dist/chrome-sandbox', uid: 1000, mode: 0o100755 };
    const ubuntu = sandboxProblem({ platform: 'linux', uid: 1000, restrictedUserns: true, chromeSandbox: helper });
    expect(ubuntu).toContain('Ubuntu 23.10');
    expect(ubuntu).toContain(`sudo chown root:root '${helper.path}' && sudo chmod 4755 '${helper.path}'`);
    expect(ubuntu).toContain('npm start -- --no-sandbox');
    expect(sandboxProblem({ platform: 'linux', uid: 0, restrictedUserns: false, chromeSandbox: helper })).toMatch(/as root[\s\S]*npm start -- --no-sandbox/);
    // Set up as it should be, or namespaces allowed, or not Linux: nothing to say.
    expect(sandboxProblem({ platform: 'linux', uid: 1000, restrictedUserns: true, chromeSandbox: { ...helper, uid: 0, mode: 0o104755 } })).toBeNull();
    expect(sandboxProblem({ platform: 'linux', uid: 1000, restrictedUserns: false, chromeSandbox: helper })).toBeNull();
    expect(sandboxProblem({ platform: 'darwin', uid: 0, restrictedUserns: true, chromeSandbox: null })).toBeNull();
  });

  it('tells apart no display, no network, a Node too old for the downloader, and a slow download (issue 19)', () => {
    expect(displayProblem({ platform: 'linux', env: {} })).toMatch(/^No display: DISPLAY and WAYLAND_DISPLAY are not set/);
    expect(displayProblem({ platform: 'linux', env: { WAYLAND_DISPLAY: 'wayland-0' } })).toBeNull();
    expect(displayProblem({ platform: 'linux', env: { DISPLAY: ':0' } })).toBeNull();
    expect(displayProblem({ platform: 'darwin', env: {} })).toBeNull();
    const failed = { timedOut: false, timeoutMinutes: 10, nodeVersion: 'v22.12.0', output: 'TypeError: fetch failed' };
    expect(downloadProblem({ ...failed, network: 'ENOTFOUND' })).toMatch(/^No network: github\.com, where Electron is downloaded from, could not be reached \(ENOTFOUND\)/);
    expect(downloadProblem({ ...failed, network: 'ok', nodeVersion: 'v20.20.2' })).toBe(
      "Node 20.20.2 is too old for Electron's downloader, which needs Node 22.12.0 or later. Install Node 22.12.0 or later (https://nodejs.org) and run npm start again.",
    );
    expect(downloadProblem({ ...failed, network: 'ok', timedOut: true })).toMatch(/did not finish within 10 minutes/);
    expect(downloadProblem({ ...failed, network: 'ok' })).toBe('The download failed: TypeError: fetch failed.');
    expect([nodeAtLeast('v22.12.0', '22.12.0'), nodeAtLeast('22.11.9', '22.12.0'), nodeAtLeast('v24.0.0', '22.12.0'), nodeAtLeast('20.19.0', '22.12.0')]).toEqual([true, false, true, false]);
  });

  it('states the Node the desktop app needs where people read it (README, package.json)', async () => {
    const { readFile } = await import('node:fs/promises');
    const pkg = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as { engines: { node: string } };
    expect(pkg.engines.node).toBe('^20.19.0 || >=22.12.0');
    const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8');
    expect(readme).toContain('The desktop app needs Node 22.12 or later');
  });
});
