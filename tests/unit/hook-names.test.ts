import { describe, expect, it } from 'vitest';
import { formatHook, hookLabel, parseHook, residualDepth, residualHook, sortHookNames } from '../../src/common/hook-names';
import { depthLabel } from '../../src/engine/cell-results';
import { probeHook } from '../../src/engine/onnx-graph';

describe('hook point names (TransformerLens vocabulary)', () => {
  it('formats and parses every kind, and the two agree', () => {
    const names = [
      'hook_embed',
      'hook_pos_embed',
      'blocks.0.hook_resid_pre',
      'blocks.3.attn.hook_pattern',
      'blocks.3.attn.hook_v',
      'blocks.3.attn.hook_z',
      'blocks.11.hook_resid_mid',
      'blocks.11.hook_resid_post',
      'ln_final.hook_normalized',
      'unembed.hook_out',
    ];
    for (const name of names) expect(formatHook(parseHook(name))).toBe(name);
    expect(parseHook('blocks.3.attn.hook_pattern')).toEqual({ hook: 'attn.hook_pattern', layer: 3 });
    expect(parseHook('hook_embed')).toEqual({ hook: 'hook_embed' });
    expect(formatHook({ hook: 'attn.hook_v', layer: 12 })).toBe('blocks.12.attn.hook_v');
  });

  it('refuses a name that is not one, naming what is wrong', () => {
    expect(() => parseHook('blocks.1.attn.hook_q')).toThrow('"blocks.1.attn.hook_q": no hook point "attn.hook_q" in a block (there are hook_resid_pre, attn.hook_v');
    expect(() => parseHook('blocks.01.hook_resid_pre')).toThrow('not a hook point name');
    expect(() => parseHook('blocks.-1.hook_resid_pre')).toThrow('not a hook point name');
    expect(() => parseHook('resid_pre')).toThrow('"resid_pre": not a hook point name');
    expect(() => parseHook('')).toThrow('not a hook point name');
    expect(() => formatHook({ hook: 'hook_resid_pre', layer: -1 })).toThrow('block -1 is not a whole number from 0');
    expect(() => formatHook({ hook: 'hook_resid_pre', layer: 1.5 })).toThrow('block 1.5');
  });

  it('numbers the residual stream as the depth tables do: 0 the embeddings, d after block d − 1', () => {
    // Three blocks: four depths.
    expect([0, 1, 2, 3].map((d) => formatHook(residualHook(d, 4)))).toEqual(['blocks.0.hook_resid_pre', 'blocks.0.hook_resid_post', 'blocks.1.hook_resid_post', 'blocks.2.hook_resid_post']);
    expect(() => residualHook(4, 4)).toThrow('residual depth 4: there are depths 0 to 3');
    // The stream entering block l is the one leaving block l − 1: both are depth l.
    expect(residualDepth(parseHook('blocks.2.hook_resid_pre'))).toBe(2);
    expect(residualDepth(parseHook('blocks.1.hook_resid_post'))).toBe(2);
    expect(residualDepth(parseHook('blocks.1.hook_resid_mid'))).toBeNull();
    expect(residualDepth(parseHook('hook_embed'))).toBeNull();
  });

  it('gives the labels the cells show, depthLabel among them', () => {
    expect([0, 1, 2, 3].map((d) => depthLabel(d, 4))).toEqual(['embeddings', 'after block 0', 'after block 1', 'after block 2 (final)']);
    expect(hookLabel(parseHook('blocks.1.hook_resid_pre'), 3)).toBe('after block 0');
    expect(hookLabel(parseHook('blocks.1.attn.hook_pattern'), 3)).toBe('block 1 attention weights');
    expect(hookLabel(parseHook('blocks.2.hook_resid_mid'), 3)).toBe('block 2 after attention');
    expect(hookLabel(parseHook('hook_pos_embed'), 3)).toBe('positional embeddings');
    expect(hookLabel(parseHook('unembed.hook_out'), 3)).toBe('logits');
  });

  it('sorts names in the order the model computes them', () => {
    expect(sortHookNames(['unembed.hook_out', 'blocks.10.hook_resid_post', 'blocks.2.attn.hook_pattern', 'hook_pos_embed', 'blocks.2.attn.hook_v', 'hook_embed', 'blocks.2.hook_resid_pre', 'ln_final.hook_normalized'])).toEqual([
      'hook_embed',
      'hook_pos_embed',
      'blocks.2.hook_resid_pre',
      'blocks.2.attn.hook_v',
      'blocks.2.attn.hook_pattern',
      'blocks.10.hook_resid_post',
      'ln_final.hook_normalized',
      'unembed.hook_out',
    ]);
  });

  it("names the engine's probes: the embedding sum is the stream entering block 0, the last residual probe leaves the last block", () => {
    const name = (...args: Parameters<typeof probeHook>): string => formatHook(probeHook(...args));
    expect(name('token-embedding', -1, 3)).toBe('hook_embed');
    expect(name('position-embedding', -1, 3)).toBe('hook_pos_embed');
    expect(name('embedding-sum', -1, 3)).toBe('blocks.0.hook_resid_pre');
    expect(name('attention', 2, 3)).toBe('blocks.2.attn.hook_pattern');
    expect(name('attention-values', 2, 3)).toBe('blocks.2.attn.hook_v');
    expect(name('residual', 0, 3)).toBe('blocks.0.hook_resid_pre');
    expect(name('residual', 3, 3)).toBe('blocks.2.hook_resid_post');
    expect(name('residual-mid', 1, 3)).toBe('blocks.1.hook_resid_mid');
  });
});
