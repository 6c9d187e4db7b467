import { describe, expect, it } from 'vitest';
import { ntl } from './helpers';

describe('ntl generate on the key/value cache', () => {
  it('reports the cache and gives the same tokens as --no-cache', async () => {
    const args = ['generate', '--prompt', 'The sun rises in the', '--strategy', 'top-k', '--temperature', '0.9', '--top-k', '8', '--seed', '21', '--max-tokens', '16', '--json'];
    const cached = await ntl(...args);
    const recomputed = await ntl(...args, '--no-cache');
    expect(cached.code, cached.stderr).toBe(0);
    expect(recomputed.code, recomputed.stderr).toBe(0);
    const a = JSON.parse(cached.stdout) as { text: string; steps: { id: number }[]; timing: { kv_cache: boolean } };
    const b = JSON.parse(recomputed.stdout) as typeof a;
    expect(a.timing.kv_cache).toBe(true);
    expect(b.timing.kv_cache).toBe(false);
    expect(a.steps.map((s) => s.id)).toEqual(b.steps.map((s) => s.id));
    expect(a.text).toBe(b.text);
  });

  it('lists the cache graph of the bundled model', async () => {
    const run = await ntl('models', '--json');
    const models = (JSON.parse(run.stdout) as { models: { id: string; onnx_with_past: string | null }[] }).models;
    expect(models.find((m) => m.id === 'seed-world')?.onnx_with_past).toBe('onnx/decoder_with_past.onnx');
  });
});
