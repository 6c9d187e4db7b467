import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NeighbourIndex, rotaryAngles, rowSimilarities, type EmbeddingTable } from '../../src/engine/embedding-tables';
import type { OnnxModel } from '../../src/engine/session';
import { loadFixtureModel } from './fixture-models';
import { join } from 'node:path';
import { loadBundled, ROOT } from './load-model';

const PROMPT = 'The sun rises in the east and the moon rises at night.';

function table<T>(value: T | { unavailable: string } | null): T {
  if (value === null) throw new Error('no table');
  if (typeof value === 'object' && 'unavailable' in value) throw new Error(value.unavailable);
  return value;
}

describe('embedding tables of seed-world, read from the graph', () => {
  let model: OnnxModel;
  beforeAll(async () => {
    model = await loadBundled();
  });
  afterAll(async () => {
    await model.release();
  });

  it('has the token table [vocab, hidden] and the learned position table [context, hidden], equal to what the graph looks up for the prompt', async () => {
    const tables = model.embeddingTables();
    const token = table(tables.token);
    const position = table(tables.position);
    expect(token).toMatchObject({ name: 'wte.weight', rows: 1024, width: 128 });
    expect(position).toMatchObject({ name: 'wpe.weight', rows: 128, width: 128 });
    expect(model.embeddingTables()).toBe(tables);

    const ids = model.tokenizer.encode(PROMPT);
    const r = await model.forward(ids);
    const probeToken = r.embeddings.token;
    const probePosition = r.embeddings.position;
    if (!probeToken || !probePosition) throw new Error('the embedding probes are missing');
    let worst = 0;
    ids.forEach((id, p) => {
      for (let d = 0; d < 128; d++) {
        worst = Math.max(worst, Math.abs((token.data[id * 128 + d] ?? NaN) - (probeToken[p * 128 + d] ?? NaN)));
        worst = Math.max(worst, Math.abs((position.data[p * 128 + d] ?? NaN) - (probePosition[p * 128 + d] ?? NaN)));
      }
    });
    expect(worst).toBeLessThanOrEqual(1e-6);
  });

  it('ranks every prompt token itself first, at cosine similarity 1, and agrees with a brute-force search', () => {
    const token = table(model.embeddingTables().token);
    const dot = (a: number, b: number): number => {
      let s = 0;
      for (let d = 0; d < token.width; d++) s += (token.data[a * token.width + d] ?? 0) * (token.data[b * token.width + d] ?? 0);
      return s;
    };
    for (const id of new Set(model.tokenizer.encode(PROMPT))) {
      const near = model.neighbours(id, 10);
      expect(near).toHaveLength(10);
      expect(near[0]).toEqual({ id, similarity: 1 });
      for (let i = 1; i < near.length; i++) expect(near[i]?.similarity ?? 2).toBeLessThanOrEqual(near[i - 1]?.similarity ?? -2);
      const brute = Array.from({ length: token.rows }, (_, j) => ({ id: j, similarity: dot(id, j) / Math.sqrt(dot(id, id) * dot(j, j)) }))
        .sort((a, b) => b.similarity - a.similarity)
        .slice(0, 10);
      expect(near.map((n) => n.id)).toEqual(brute.map((b) => b.id));
      near.forEach((n, i) => expect(n.similarity).toBeCloseTo(brute[i]?.similarity ?? NaN, 6));
    }
  });

  it("puts ' moon' nearest to ' sun' (0.432) and ' west' nearest to ' east' (0.533)", () => {
    const nearest = (word: string): { token: string; similarity: number }[] => {
      const ids = model.tokenizer.encode(word);
      expect(ids).toHaveLength(1);
      return model.neighbours(ids[0] ?? -1, 10).map((n) => ({ token: model.tokenizer.piece(n.id).text, similarity: n.similarity }));
    };
    const sun = nearest(' sun');
    expect(sun.slice(0, 3).map((n) => n.token)).toEqual([' sun', ' moon', ' cat']);
    expect(sun[1]?.similarity).toBeCloseTo(0.432, 3);
    const east = nearest(' east');
    expect(east[1]?.token).toBe(' west');
    expect(east[1]?.similarity).toBeCloseTo(0.533, 3);
  });

  it('refuses an id outside the table', () => {
    expect(() => model.neighbours(1024, 10)).toThrow('outside the embedding table');
  });

  it('gives the first N learned position vectors and their cosine similarities (diagonal 1, symmetric)', () => {
    const view = model.positions(64);
    if (view.kind !== 'learned') throw new Error(`expected learned positions, got ${view.kind}`);
    expect(view).toMatchObject({ table: 'wpe.weight', rows: 128, count: 64, width: 128 });
    expect(view.vectors).toHaveLength(64 * 128);
    const position = table(model.embeddingTables().position);
    expect(Array.from(view.vectors.subarray(5 * 128, 6 * 128))).toEqual(Array.from(position.data.subarray(5 * 128, 6 * 128)));
    for (let i = 0; i < 64; i++) {
      expect(view.similarity[i * 64 + i]).toBe(1);
      for (let j = 0; j < i; j++) expect(view.similarity[i * 64 + j]).toBe(view.similarity[j * 64 + i]);
    }
    // Neighbouring positions are more alike than distant ones.
    expect(view.similarity[10 * 64 + 11] ?? 0).toBeGreaterThan(view.similarity[10 * 64 + 60] ?? 1);
    expect(model.positions(1000)).toMatchObject({ kind: 'learned', count: 128 });
  });
});

describe('tiny-shakespeare, the other bundled model', () => {
  let model: OnnxModel;
  beforeAll(async () => {
    model = await loadBundled(join(ROOT, 'resources/models/tiny-shakespeare'), { cache: false });
  });
  afterAll(async () => {
    await model.release();
  });

  it('has learned positions [256, 192] and a token table [2048, 192] that ranks each token first', () => {
    expect(table(model.embeddingTables().token)).toMatchObject({ rows: 2048, width: 192 });
    expect(model.positions(64)).toMatchObject({ kind: 'learned', rows: 256, count: 64, width: 192 });
    const id = model.tokenizer.encode(' king')[0] ?? 0;
    expect(model.neighbours(id, 10)[0]).toEqual({ id, similarity: 1 });
  });
});

describe('positions of a rotary model (llama-tiny)', () => {
  let model: OnnxModel;
  beforeAll(async () => {
    model = await loadFixtureModel('llama-tiny');
  });
  afterAll(async () => {
    await model.release();
  });

  it('has a token table but no positional table, and reads θ_i = 10000^(−2i/8) from the graph', () => {
    const tables = model.embeddingTables();
    expect(table(tables.token)).toMatchObject({ rows: 320, width: 32 });
    expect(tables.position).toBeNull();
    const view = model.positions(64);
    if (view.kind !== 'rotary') throw new Error(`expected rotary positions, got ${view.kind}`);
    expect(view).toMatchObject({ headDim: 8, base: 10000, baseSource: 'rope_theta', fromGraph: true, matchesFormula: true });
    [1, 0.1, 0.01, 0.001].forEach((want, i) => expect(view.angles[i]).toBeCloseTo(want, 7));
    expect(model.neighbours(5, 3)[0]).toEqual({ id: 5, similarity: 1 });
  });
});

describe('pure helpers', () => {
  it('rotaryAngles: θ_i = base^(−2i/d)', () => {
    expect(rotaryAngles(10000, 4)).toEqual([1, 0.01]);
    expect(rotaryAngles(100, 2)).toEqual([1]);
  });

  it('rowSimilarities: cosines of rows, 0 for a zero row', () => {
    const s = rowSimilarities([1, 0, 0, 2, 1, 1, 0, 0], 4, 2);
    expect(Array.from(s.subarray(0, 4)).map((v) => Number(v.toFixed(6)))).toEqual([1, 0, Number(Math.SQRT1_2.toFixed(6)), 0]);
    expect(s[15]).toBe(0);
  });

  it('NeighbourIndex: ties keep the chosen row first, then the lower id', () => {
    const t: EmbeddingTable = { name: 't', rows: 4, width: 2, data: Float32Array.from([1, 0, 3, 0, 1, 0, 0, 1]) };
    const index = new NeighbourIndex(t);
    expect(index.nearest(2, 4).map((n) => n.id)).toEqual([2, 0, 1, 3]);
    expect(index.nearest(2, 4).map((n) => n.similarity)).toEqual([1, 1, 1, 0]);
    expect(index.nearest(1, 2).map((n) => n.id)).toEqual([1, 0]);
  });
});
