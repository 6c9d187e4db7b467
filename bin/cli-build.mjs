// Whether out/cli/ntl.mjs (`npm run build:cli`) may run: it must be newer than every source it is made
// from, package.json and the lockfiles (the build bundles the packages' code too, so an `npm install`
// that changes them makes it stale). bin/ntl.mjs runs the sources through tsx otherwise, and the
// tests' global setup rebuilds it, so a stale build is never run.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** The latest modification time of the TypeScript files under `dir`. */
function newest(dir) {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) latest = Math.max(latest, newest(path));
    else if (entry.name.endsWith('.ts')) latest = Math.max(latest, statSync(path).mtimeMs);
  }
  return latest;
}

/** A file's modification time, 0 when it does not exist. */
const mtime = (path) => statSync(path, { throwIfNoEntry: false })?.mtimeMs ?? 0;

export const builtCliPath = (root) => join(root, 'out', 'cli', 'ntl.mjs');

/** True when the built command line exists and is newer than everything it is made from. */
export function isBuiltCliFresh(root) {
  const built = mtime(builtCliPath(root));
  if (built === 0) return false;
  const inputs = ['package.json', 'package-lock.json', 'node_modules/.package-lock.json'].map((f) => mtime(join(root, f)));
  const sources = ['cli', 'engine', 'common', 'node'].map((d) => newest(join(root, 'src', d)));
  return built >= Math.max(...inputs, ...sources);
}
