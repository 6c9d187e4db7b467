// What `npm start` decides before it opens the desktop app, kept apart from the script so tests can
// call it: the arguments electron-vite gets, and whether Chromium's sandbox will refuse to start.

/** The flag that turns Chromium's sandbox off, only ever when the user asks for it. */
export const NO_SANDBOX = '--no-sandbox';

/**
 * Splits the arguments given to `npm start -- …`: `--no-sandbox` (an explicit opt-in) and the rest,
 * which go on to Electron (and so to the app: a workspace folder, `--inspect`, Chromium switches).
 */
export function startArguments(argv) {
  const noSandbox = argv.includes(NO_SANDBOX);
  const appArgs = argv.filter((arg) => arg !== NO_SANDBOX);
  return { noSandbox, appArgs };
}

/** `electron-vite preview` on what was just built: `--skipBuild`, else it would build a second time. */
export function previewCommand(electronVite, { noSandbox, appArgs }) {
  return [electronVite, 'preview', '--skipBuild', ...(noSandbox ? ['--noSandbox'] : []), ...(appArgs.length > 0 ? ['--', ...appArgs] : [])];
}

/**
 * Why Electron run from node_modules will abort on Chromium's sandbox check here, in words with what
 * to do; null where it will not. `facts`: platform, uid (null where there is none), `restrictedUserns`
 * (AppArmor's kernel.apparmor_restrict_unprivileged_userns = 1, Ubuntu 23.10 and later, or
 * kernel.unprivileged_userns_clone = 0), and `chromeSandbox`: node_modules/electron/dist/chrome-sandbox's
 * path, owner uid and mode, or null when it is missing.
 */
export function sandboxProblem({ platform, uid, restrictedUserns, chromeSandbox }) {
  if (platform !== 'linux') return null;
  if (uid === 0) {
    return [
      'Electron does not run as root with its sandbox on ("Running as root without --no-sandbox is not supported").',
      'Run `npm start` as an ordinary user; or, knowing that it turns Chromium\'s sandbox off for every process of the app,',
      'start it with `npm start -- --no-sandbox`.',
    ].join('\n');
  }
  const isSetuidRoot = chromeSandbox !== null && chromeSandbox.uid === 0 && (chromeSandbox.mode & 0o4000) !== 0 && (chromeSandbox.mode & 0o755) === 0o755;
  if (!restrictedUserns || isSetuidRoot) return null;
  const helper = chromeSandbox?.path ?? 'node_modules/electron/dist/chrome-sandbox';
  return [
    'This system does not let programs create user namespaces (Ubuntu 23.10 and later restrict them with AppArmor),',
    'so Chromium needs its setuid helper for the sandbox, and the one in node_modules is not set up:',
    `  ${helper} must belong to root with mode 4755. To keep the sandbox on (once per install of the electron package):`,
    `    sudo chown root:root '${helper}' && sudo chmod 4755 '${helper}'`,
    'Or, knowing that it turns Chromium\'s sandbox off for every process of the app, start it with',
    '    npm start -- --no-sandbox',
    '(An installed package of the app, `npm run dist`, sets its helper up when it is installed.)',
  ].join('\n');
}
