/**
 * A seeded generator (mulberry32). Its whole state is one 32-bit number, so a sampling run can be
 * saved, resumed one step at a time, and repeated exactly on any host.
 */
export class SeededRandom {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  get snapshot(): number {
    return this.state;
  }

  /** Continues from a snapshot taken elsewhere. */
  restore(state: number): void {
    this.state = state >>> 0;
  }

  static resume(state: number): SeededRandom {
    return new SeededRandom(state);
  }
}
