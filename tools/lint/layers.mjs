/**
 * The layers of src/ and the direction of their imports, as lint rules (VS Code's import-pattern rule
 * is the model): each layer lists the layers it may import, and no module may reach itself again
 * through its imports. A plain ESLint plugin, so `npm run lint` fails on a forbidden import or a cycle.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../..');
const SRC = join(ROOT, 'src');

/** What each layer may import (besides packages): common is the base, the UI and the hosts sit on top. */
export const LAYERS = {
  common: ['common'],
  engine: ['common', 'engine'],
  node: ['common', 'engine', 'node'],
  cli: ['common', 'engine', 'node', 'cli'],
  server: ['common', 'engine', 'node', 'server'],
  main: ['common', 'engine', 'node', 'main'],
  preload: ['common', 'preload'],
  renderer: ['common', 'engine', 'renderer'],
};

/** The layer of a file under src/ (its first folder), or null outside src/. */
export function layerOf(file) {
  const rel = relative(SRC, file);
  if (rel.startsWith('..') || rel === '') return null;
  return rel.split(sep)[0] ?? null;
}

const EXTENSIONS = ['', '.ts', '.vue', '.mjs', '/index.ts'];

/** The file a relative specifier names, when it exists (TypeScript's resolution without paths or packages). */
export function resolveImport(from, specifier) {
  if (!specifier.startsWith('.')) return null;
  const base = resolve(dirname(from), specifier.replace(/\?.*$/, ''));
  for (const ext of EXTENSIONS) {
    const candidate = base + ext;
    if (existsSync(candidate) && statSync(candidate).isFile()) return candidate;
  }
  return null;
}

/** Runtime imports of a file (type-only imports vanish when compiled, so they cannot form a cycle). */
const IMPORT = /^\s*(?:import|export)\s+(?!type\b)(?:([^'";]*?)\s*from\s+)?['"]([^'"]+)['"]/gm;
/** `{ type A, type B }`: every name imported for its type only. */
const typeNamesOnly = (clause) => /^\{[^}]*\}$/.test(clause.trim()) && clause.trim().slice(1, -1).split(',').map((n) => n.trim()).filter(Boolean).every((n) => n.startsWith('type '));
const graph = new Map();

function importsOf(file) {
  const mtime = statSync(file).mtimeMs;
  const cached = graph.get(file);
  if (cached && cached.mtime === mtime) return cached.targets;
  const text = readFileSync(file, 'utf8');
  const targets = [];
  for (const match of text.matchAll(IMPORT)) {
    if (match[1] && typeNamesOnly(match[1])) continue;
    const target = resolveImport(file, match[2]);
    if (target) targets.push(target);
  }
  graph.set(file, { mtime, targets });
  return targets;
}

/** A path of imports from `start` back to `goal`, or null. */
function pathBack(start, goal) {
  const seen = new Set();
  const stack = [[start, [start]]];
  while (stack.length > 0) {
    const [file, path] = stack.pop();
    if (file === goal) return path;
    if (seen.has(file)) continue;
    seen.add(file);
    for (const next of importsOf(file)) stack.push([next, [...path, next]]);
  }
  return null;
}

const shown = (file) => relative(ROOT, file);

const allowedImports = {
  meta: { type: 'problem', docs: { description: 'a layer of src/ imports only the layers below it' }, schema: [] },
  create(context) {
    const from = context.filename;
    const layer = layerOf(from);
    const allowed = layer ? LAYERS[layer] : null;
    if (!allowed) return {};
    const check = (node, specifier) => {
      const target = typeof specifier === 'string' ? resolveImport(from, specifier) : null;
      const to = target ? layerOf(target) : null;
      if (to && !allowed.includes(to)) {
        context.report({ node, message: `src/${layer} may not import src/${to} (${specifier}): ${layer} may import ${allowed.map((l) => `src/${l}`).join(', ')}` });
      }
    };
    return {
      ImportDeclaration: (node) => check(node, node.source.value),
      ExportNamedDeclaration: (node) => node.source && check(node, node.source.value),
      ExportAllDeclaration: (node) => check(node, node.source.value),
      ImportExpression: (node) => node.source.type === 'Literal' && check(node, node.source.value),
    };
  },
};

const noCycle = {
  meta: { type: 'problem', docs: { description: 'no module reaches itself again through its imports' }, schema: [] },
  create(context) {
    const from = context.filename;
    if (!layerOf(from)) return {};
    const check = (node, specifier, typeOnly) => {
      if (typeOnly || typeof specifier !== 'string') return;
      const target = resolveImport(from, specifier);
      const back = target ? pathBack(target, from) : null;
      if (back) context.report({ node, message: `import cycle: ${[from, ...back].map(shown).join(' → ')}` });
    };
    return {
      ImportDeclaration: (node) => check(node, node.source.value, node.importKind === 'type' || (node.specifiers.length > 0 && node.specifiers.every((s) => s.importKind === 'type'))),
      ExportNamedDeclaration: (node) => node.source && check(node, node.source.value, node.exportKind === 'type'),
      ExportAllDeclaration: (node) => check(node, node.source.value, node.exportKind === 'type'),
    };
  },
};

export default { rules: { 'allowed-imports': allowedImports, 'no-cycle': noCycle } };
