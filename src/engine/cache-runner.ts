import { errorMessage } from '../common/error-message';
import { sameIds } from '../common/same-ids';
import type * as Ort from 'onnxruntime-web';
import { lastPositionLogits } from './forward-result';
import { CACHE_ENTRIES, feedsFor, type CacheEntry, type CacheGraph } from './kv-cache';
import type { OrtModule } from './session-options';

/**
 * Generation on a key/value cache graph: the recent sequences' presents, and the passes that
 * continue them. A pass that fails drops the cache graph (the model then recomputes) and says why.
 */
export class CacheRunner {
  private cache: CacheEntry[] = [];
  /**
   * The last batched pass's presents as ONNX Runtime returned them, stacked [rows, kv, length, headDim]:
   * the next batched step of the same rows feeds them back as they are. A row is copied out of them
   * only when a single sequence continues it (`cachedPrefix`).
   */
  private batch: { rows: number[][]; past: Ort.Tensor[] } | null = null;

  constructor(
    private readonly ort: OrtModule,
    private cacheGraph: CacheGraph | null,
    /** Why generation does not run on a key/value cache, when it does not. */
    public note: string | null,
    private readonly backend: string,
  ) {}

  get graph(): CacheGraph | null {
    return this.cacheGraph;
  }

  /**
   * Logits at the last position of `ids`: only the tokens after the longest cached prefix run (a
   * few recent sequences keep their cache, so comparison columns and forks each continue theirs).
   * Null when the cache graph failed (dropped): the caller recomputes.
   */
  async next(ids: readonly number[]): Promise<Float32Array | null> {
    const graph = this.cacheGraph;
    if (!graph) return null;
    // A whole-sequence pass of the shared session left this sequence's logits (Predict, then Sample): nothing to run.
    const known = this.cache.find((e) => e.logits !== undefined && sameIds(e.ids, ids))?.logits;
    if (known) return known.slice();
    const best = this.cachedPrefix(ids);
    const pastLength = best?.ids.length ?? 0;
    const fresh = ids.slice(pastLength);
    let out: Ort.InferenceSession.OnnxValueMapType;
    try {
      out = await graph.session.run(feedsFor(this.ort, graph.inputs, graph.slots, [fresh], best?.past ?? [], pastLength), ['logits', ...graph.slots.map((s) => s.output)]);
    } catch (cause) {
      // A backend that cannot run the cache graph (zero-length past tensors, say): recompute from now on, and say so.
      this.drop(cause);
      return null;
    }
    const last = lastPositionLogits(out['logits'], 1)[0] ?? new Float32Array();
    out['logits']?.dispose();
    const past = graph.slots.map((s) => out[s.output]);
    if (past.every((t) => t !== undefined)) this.remember(ids, past.filter((t) => t !== undefined));
    return last;
  }

  /** Stops using a cache graph that failed, keeping the reason for the top bar and `--json`. */
  private drop(cause: unknown): void {
    const graph = this.cacheGraph;
    if (!graph) return;
    this.note = `the key/value cache (${graph.file}) failed on ${this.backend}: ${errorMessage(cause)}; generation recomputes the whole sequence at each step`;
    this.cacheGraph = null;
    this.clear();
    if (!graph.shared) void graph.session.release();
  }

  /** The longest cached sequence that is a proper prefix of `ids` (a row of the last batch copied out when it is the longest). */
  private cachedPrefix(ids: readonly number[]): CacheEntry | null {
    const isPrefix = (prefix: readonly number[]): boolean => prefix.length < ids.length && prefix.every((id, i) => id === ids[i]);
    let best: CacheEntry | null = null;
    for (const entry of this.cache) if (entry.ids.length > (best?.ids.length ?? 0) && isPrefix(entry.ids)) best = entry;
    const batch = this.batch;
    const row = batch?.rows.findIndex((r) => r.length > (best?.ids.length ?? 0) && isPrefix(r)) ?? -1;
    const graph = this.cacheGraph;
    if (!batch || row < 0 || !graph) return best;
    const length = batch.rows[row]?.length ?? 0;
    const own = batch.past.map((t, k) => {
      const { kvHeads: kv, headDim, type } = graph.slots[k] ?? { kvHeads: 0, headDim: 0, type: 'float32' };
      const size = kv * length * headDim;
      return new this.ort.Tensor(type, (t.data as Float32Array | Uint16Array).slice(row * size, (row + 1) * size), [1, kv, length, headDim]);
    });
    this.remember(batch.rows[row] ?? [], own);
    return this.cache.at(-1) ?? null;
  }

  /** The last batch's presents when `rows` are its rows, in order, each one or more tokens further. */
  private batchPrefix(rows: readonly (readonly number[])[]): { length: number; past: Ort.Tensor[] } | null {
    const batch = this.batch;
    const length = batch?.rows[0]?.length ?? 0;
    if (!batch || batch.rows.length !== rows.length) return null;
    const continues = batch.rows.every((prev, r) => {
      const ids = rows[r] ?? [];
      return prev.length === length && ids.length > length && prev.every((id, i) => id === ids[i]);
    });
    return continues ? { length, past: batch.past } : null;
  }

  private setBatch(batch: { rows: number[][]; past: Ort.Tensor[] } | null): void {
    for (const t of this.batch?.past ?? []) t.dispose();
    this.batch = batch;
  }

  /**
   * Keeps what a whole-sequence pass on the shared session computed for `ids` (its presents and the
   * last position's logits), so that generating from `ids` next runs no pass for them again.
   */
  keep(ids: readonly number[], past: Ort.Tensor[], logits: Float32Array): void {
    this.remember(ids, past, logits);
  }

  private remember(ids: readonly number[], past: Ort.Tensor[], logits?: Float32Array): void {
    // The same sequence again (Run all on an unchanged prompt) replaces its entry rather than filling the cache with copies.
    const same = this.cache.filter((e) => sameIds(e.ids, ids));
    this.cache = this.cache.filter((e) => !same.includes(e));
    this.cache.push({ ids: [...ids], past, ...(logits ? { logits } : {}) });
    // Least recently added first out; a dropped entry's tensors are freed unless another shares them.
    while (this.cache.length > CACHE_ENTRIES) {
      const dropped = this.cache.shift();
      if (dropped) same.push(dropped);
    }
    for (const dropped of same) for (const t of dropped.past) if (!this.cache.some((e) => e.past.includes(t)) && !this.batch?.past.includes(t)) t.dispose();
  }

  /**
   * Next-token logits for several sequences of equal length in one pass of the cache graph: each
   * continues its own cached prefix (the comparison's columns, each one token further than its last
   * step), their caches stacked along the batch, cut to the shortest of them; each gets its new
   * cache back. Null when the cache graph failed (dropped).
   */
  async nextBatch(rows: readonly (readonly number[])[]): Promise<Float32Array[] | null> {
    const graph = this.cacheGraph;
    if (!graph) return null;
    const batch = rows.length;
    const continued = this.batchPrefix(rows);
    const prefixes = continued ? [] : rows.map((ids) => this.cachedPrefix(ids));
    const pastLength = continued ? continued.length : Math.min(...prefixes.map((p) => p?.ids.length ?? 0));
    const fresh = rows.map((ids) => ids.slice(pastLength));
    const past = continued?.past ?? graph.slots.map((slot, k) => {
      const { kvHeads: kv, headDim } = slot;
      const per = kv * pastLength * headDim;
      const stacked = slot.type === 'float16' ? new Uint16Array(batch * per) : new Float32Array(batch * per);
      if (pastLength > 0) {
        prefixes.forEach((p, r) => {
          const data = p?.past[k]?.data;
          const own = p?.ids.length ?? 0;
          if (!(data instanceof Float32Array || data instanceof Uint16Array)) return;
          // Each head's first `pastLength` positions of this row's cache ([1, kv, own, headDim]).
          for (let h = 0; h < kv; h++) stacked.set(data.subarray(h * own * headDim, (h * own + pastLength) * headDim), r * per + h * pastLength * headDim);
        });
      }
      return new this.ort.Tensor(slot.type, stacked, [batch, kv, pastLength, headDim]);
    });
    let out: Ort.InferenceSession.OnnxValueMapType;
    try {
      out = await graph.session.run(feedsFor(this.ort, graph.inputs, graph.slots, fresh, past, pastLength), ['logits', ...graph.slots.map((s) => s.output)]);
    } catch (cause) {
      this.drop(cause);
      return null;
    }
    const lastLogits = lastPositionLogits(out['logits'], batch);
    out['logits']?.dispose();
    const presents = graph.slots.map((s) => out[s.output]);
    if (!continued) for (const t of past) t.dispose();
    if (presents.every((t) => t?.data instanceof Float32Array || t?.data instanceof Uint16Array)) {
      this.setBatch({ rows: rows.map((ids) => [...ids]), past: presents.filter((t) => t !== undefined) });
    } else {
      this.setBatch(null);
      for (const t of presents) t?.dispose();
    }
    return lastLogits;
  }

  /** Frees every kept past. */
  private clear(): void {
    for (const entry of this.cache) for (const t of entry.past) t.dispose();
    this.cache = [];
    this.setBatch(null);
  }

  async release(): Promise<void> {
    this.clear();
    if (this.cacheGraph && !this.cacheGraph.shared) await this.cacheGraph.session.release();
    this.cacheGraph = null;
  }
}
