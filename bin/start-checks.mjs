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

/** The Node version Electron's downloader (@electron/get, which `electron` 45 uses) declares it needs. */
export const ELECTRON_DOWNLOADER_NODE = '22.12.0';

/** Whether Node `version` ("20.20.2", "v22.12.0") is at least `minimum`. */
export function nodeAtLeast(version, minimum) {
  const a = version.replace(/^v/, '').split('.').map(Number);
  const b = minimum.split('.').map(Number);
  for (let i = 0; i < 3; i++) {
    if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) > (b[i] ?? 0);
  }
  return true;
}

/**
 * Why the desktop window cannot open on this machine, before anything is downloaded: no display
 * (Linux without DISPLAY or WAYLAND_DISPLAY: an SSH session, a server, a container). Null where
 * there is one, and on macOS and Windows, which always have one.
 */
export function displayProblem({ platform, env }) {
  if (platform !== 'linux' || env.DISPLAY || env.WAYLAND_DISPLAY) return null;
  return 'No display: DISPLAY and WAYLAND_DISPLAY are not set (an SSH session, a server or a container), so no desktop window can open.';
}

/**
 * Why the Electron binary could not be fetched, in words, from what `npm start` saw: `timedOut`, the
 * result of its own check that github.com answers (`network`: 'ok', or the error code of the
 * failed request), the Node version, and the downloader's first line of output.
 */
export function downloadProblem({ timedOut, timeoutMinutes, network, nodeVersion, output }) {
  if (network !== 'ok') {
    return `No network: github.com, where Electron is downloaded from, could not be reached (${network}). Connect and run npm start again, or set ELECTRON_MIRROR to a mirror you can reach.`;
  }
  if (!nodeAtLeast(nodeVersion, ELECTRON_DOWNLOADER_NODE)) {
    return `Node ${nodeVersion.replace(/^v/, '')} is too old for Electron's downloader, which needs Node ${ELECTRON_DOWNLOADER_NODE} or later. Install Node ${ELECTRON_DOWNLOADER_NODE} or later (https://nodejs.org) and run npm start again.`;
  }
  if (timedOut) return `The download did not finish within ${timeoutMinutes} minutes (a slow connection): run npm start again to retry.`;
  return `The download failed: ${output || 'no reason given'}.`;
}
