import { describe, expect, it } from 'vitest';
import { previewCommand, sandboxProblem, startArguments } from '../../bin/start-checks.mjs';

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
});
