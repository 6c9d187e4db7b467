/**
 * One vocabulary for what the engine reads out of a model, named as TransformerLens names its hook
 * points, so a number the lab shows can be found in a TransformerLens cache by the same name:
 *
 * | name | what it is |
 * | --- | --- |
 * | `hook_embed` | the token embedding of each position |
 * | `hook_pos_embed` | the learned positional embedding of each position |
 * | `blocks.{l}.hook_resid_pre` | the residual stream entering block l (block 0: the embeddings' sum) |
 * | `blocks.{l}.attn.hook_pattern` | block l's attention weights [head][query][key] |
 * | `blocks.{l}.attn.hook_v` | the value vectors block l's weights multiply |
 * | `blocks.{l}.attn.hook_z` | the weighted sums of the values, per head, before the output projection |
 * | `blocks.{l}.hook_resid_mid` | the stream inside block l after its attention's addition, before the MLP |
 * | `blocks.{l}.hook_resid_post` | the stream leaving block l (the same as `blocks.{l+1}.hook_resid_pre`) |
 * | `ln_final.hook_normalized` | the stream after the final norm, what the unembedding reads |
 * | `unembed.hook_out` | the logits |
 *
 * Block numbers count from 0, as the model's layers do.
 */

/** A block's hook points, named by the part after `blocks.{l}.`, in the order a block computes them. */
export const BLOCK_HOOKS = ['hook_resid_pre', 'attn.hook_v', 'attn.hook_pattern', 'attn.hook_z', 'hook_resid_mid', 'hook_resid_post'] as const;
export type BlockHook = (typeof BLOCK_HOOKS)[number];

/** The embeddings first, then the head, in the order the model computes them. */
export const MODEL_HOOKS = ['hook_embed', 'hook_pos_embed', 'ln_final.hook_normalized', 'unembed.hook_out'] as const;
export type ModelHook = (typeof MODEL_HOOKS)[number];

/** A hook point, parsed: one of the model's own, or one of a block's. */
export type HookPoint = { hook: ModelHook } | { hook: BlockHook; layer: number };

/** The name of a hook point, as TransformerLens writes it. */
export function formatHook(point: HookPoint): string {
  if (!('layer' in point)) return point.hook;
  if (!Number.isInteger(point.layer) || point.layer < 0) throw new Error(`hook point ${point.hook}: block ${point.layer} is not a whole number from 0`);
  return `blocks.${point.layer}.${point.hook}`;
}

const BLOCK_NAME = /^blocks\.(0|[1-9]\d{0,5})\.(.+)$/;

const isModelHook = (name: string): name is ModelHook => (MODEL_HOOKS as readonly string[]).includes(name);
const isBlockHook = (name: string): name is BlockHook => (BLOCK_HOOKS as readonly string[]).includes(name);

/** A hook point from its name; the error names what is wrong and the names there are. */
export function parseHook(name: string): HookPoint {
  if (isModelHook(name)) return { hook: name };
  const match = BLOCK_NAME.exec(name);
  if (match?.[1] !== undefined && match[2] !== undefined) {
    if (isBlockHook(match[2])) return { hook: match[2], layer: Number(match[1]) };
    throw new Error(`"${name}": no hook point "${match[2]}" in a block (there are ${BLOCK_HOOKS.join(', ')})`);
  }
  throw new Error(`"${name}": not a hook point name (${MODEL_HOOKS.join(', ')}, or blocks.{layer}.${BLOCK_HOOKS.join('|')})`);
}

/**
 * The residual stream at boundary `depth` of `count` (layers + 1): 0 enters block 0 (the
 * embeddings), `d` leaves block d − 1. As the lab's depth tables and charts number them.
 */
export function residualHook(depth: number, count: number): HookPoint {
  if (!Number.isInteger(depth) || depth < 0 || depth >= count) throw new Error(`residual depth ${depth}: there are depths 0 to ${count - 1}`);
  return depth === 0 ? { hook: 'hook_resid_pre', layer: 0 } : { hook: 'hook_resid_post', layer: depth - 1 };
}

/** The residual depth (0 … layers) a stream hook point stands for, or null for any other point. */
export function residualDepth(point: HookPoint): number | null {
  if (!('layer' in point)) return null;
  if (point.hook === 'hook_resid_pre') return point.layer;
  if (point.hook === 'hook_resid_post') return point.layer + 1;
  return null;
}

/** Hook point names in the order the model computes them: embeddings, then block by block, then the head. */
export function sortHookNames(names: readonly string[]): string[] {
  const key = (name: string): [number, number] => {
    const point = parseHook(name);
    if ('layer' in point) return [point.layer, BLOCK_HOOKS.indexOf(point.hook)];
    const at = MODEL_HOOKS.indexOf(point.hook);
    return at < 2 ? [-1, at] : [Number.MAX_SAFE_INTEGER, at];
  };
  return [...names].map((name) => ({ name, key: key(name) })).sort((a, b) => a.key[0] - b.key[0] || a.key[1] - b.key[1]).map((e) => e.name);
}

/** A hook point in words, for labels: "embeddings", "after block 2 (final)", "block 1 attention weights". */
export function hookLabel(point: HookPoint, layers: number): string {
  if (!('layer' in point)) {
    switch (point.hook) {
      case 'hook_embed':
        return 'token embeddings';
      case 'hook_pos_embed':
        return 'positional embeddings';
      case 'ln_final.hook_normalized':
        return 'after the final norm';
      case 'unembed.hook_out':
        return 'logits';
    }
  }
  const l = point.layer;
  switch (point.hook) {
    case 'hook_resid_pre':
      return l === 0 ? 'embeddings' : `after block ${l - 1}`;
    case 'hook_resid_post':
      return l === layers - 1 ? `after block ${l} (final)` : `after block ${l}`;
    case 'attn.hook_pattern':
      return `block ${l} attention weights`;
    case 'attn.hook_v':
      return `block ${l} attention values`;
    case 'attn.hook_z':
      return `block ${l} attention weighted sums`;
    case 'hook_resid_mid':
      return `block ${l} after attention`;
  }
}
