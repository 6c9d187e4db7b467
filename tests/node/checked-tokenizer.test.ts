import { describe, expect, it } from 'vitest';
import { createRegistry, loadModel } from '../../src/cli/model-host';
import { checkedTokenizer } from '../../src/node/graph-check';

describe("a command's load uses the tokenizer its model's check built", () => {
  it('locate checks and builds the tokenizer once; the load that follows takes it, and it tokenizes as it did', async () => {
    const info = await createRegistry().locate('seed-world');
    const built = checkedTokenizer(info);
    expect(built).toBeDefined();
    const loaded = await loadModel(info, { backend: 'wasm', threads: 1, cache: true });
    try {
      expect(loaded.engine.tokenizer).toBe(built);
      expect(loaded.engine.tokenizer.encode('The sun rises in the')).toEqual(built?.encode('The sun rises in the'));
    } finally {
      await loaded.engine.release();
    }
  });

  it("a model found again from the checked graphs' cache (no check run) keeps no tokenizer: its load builds one", async () => {
    const registry = createRegistry();
    await registry.resolve('seed-world');
    const again = await registry.locate('seed-world');
    expect(checkedTokenizer(again)).toBeUndefined();
  });
});
