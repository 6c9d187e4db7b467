import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decoderFromFlags } from '../../src/cli/sampler-options';
import { SampleParams } from '../../src/common/cells';
import { presetSettings } from '../../src/common/sampling-strategy';
import { ntl, tempDir, type Run } from './helpers';


interface Step {
  id: number;
  token: string;
  prob: number;
  rank: number;
  kept: number;
  entropy: number;
}

interface Generated {
  text: string;
  strategy: string;
  steps: Step[];
  stop_reason: string;
  metrics: Record<string, number | null>;
}

function parse<T>(run: Run): T {
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
  return JSON.parse(run.stdout) as T;
}

const PROMPT = 'The cat sat on the';
const ids = (g: Generated): number[] => g.steps.map((s) => s.id);

describe('the app and ntl build the same settings', () => {
  it('for the Sample cell presets, with and without knobs', () => {
    const cell = SampleParams.parse({ sampling: { strategy: 'top-k', temperature: 0.8, topK: 5 }, seed: 11 });
    const flags = decoderFromFlags({ strategy: 'top-k', temperature: '0.8', 'top-k': '5' });
    expect(flags).toEqual({ kind: 'sampler', name: 'top-k', settings: presetSettings(cell.sampling, cell.knobs) });
    const withKnobs = SampleParams.parse({ sampling: { strategy: 'top-p', temperature: 1.2, topP: 0.9 }, knobs: { minP: 0.05, repetitionPenalty: 1.1 } });
    const sameFlags = decoderFromFlags({ strategy: 'top-p', temperature: '1.2', 'top-p': '0.9', 'min-p': '0.05', 'repetition-penalty': '1.1' });
    expect(sameFlags.kind === 'sampler' && sameFlags.settings).toEqual(presetSettings(withKnobs.sampling, withKnobs.knobs));
    expect(decoderFromFlags({ strategy: 'greedy' })).toEqual({ kind: 'sampler', name: 'greedy', settings: presetSettings({ strategy: 'greedy' }) });
  });

  it('the Sample cell refuses knobs out of range or out of the order', () => {
    const message = (input: unknown): string | undefined => SampleParams.safeParse(input).error?.issues[0]?.message;
    expect(message({ knobs: { minP: 2 } })).toBe('min-p must be at most 1');
    expect(message({ sampling: { strategy: 'top-k', temperature: 1, topK: 3 }, knobs: { order: ['temperature'] } })).toBe('order: top-k is set but not in the order');
    expect(SampleParams.parse({}).knobs).toEqual({});
    expect(SampleParams.parse({}).stop).toBe('');
  });
});

describe('ntl generate with the sampler chain', () => {
  it('gives per-step kept and entropy, and the column metrics', async () => {
    const g = parse<Generated>(await ntl('generate', '--prompt', PROMPT, '--strategy', 'top-k', '--temperature', '0.8', '--top-k', '5', '--seed', '11', '--max-tokens', '6', '--json'));
    expect(g.steps).toHaveLength(6);
    for (const s of g.steps) {
      expect(Object.keys(s).sort()).toEqual(['entropy', 'id', 'kept', 'prob', 'rank', 'token']);
      expect(s.kept).toBeGreaterThanOrEqual(1);
      expect(s.kept).toBeLessThanOrEqual(5);
      expect(s.entropy).toBeGreaterThanOrEqual(0);
    }
    const meanLogProb = g.steps.reduce((a, s) => a + Math.log(s.prob), 0) / 6;
    expect(g.metrics['mean_log_prob']).toBeCloseTo(meanLogProb, 9);
    expect(g.metrics['perplexity']).toBeCloseTo(Math.exp(-meanLogProb), 9);
    expect(g.metrics['distinct_1']).toBe(new Set(ids(g)).size / 6);
    for (const key of ['distinct_2', 'repetition_rate', 'tokens_per_second', 'mean_entropy']) expect(typeof g.metrics[key]).toBe('number');
  });

  it('takes every sampler flag, and the same seed repeats the run', async () => {
    const args = [
      'generate', '--prompt', PROMPT, '--seed', '9', '--max-tokens', '8', '--json',
      '--repetition-penalty', '1.2', '--frequency-penalty', '0.3', '--presence-penalty', '0.2', '--penalty-last-n', '32',
      '--dry-multiplier', '0.8', '--dry-base', '1.75', '--dry-allowed-length', '2', '--dry-last-n', '-1',
      '--temperature', '1.2', '--top-k', '40', '--top-p', '0.95', '--min-p', '0.02', '--typical-p', '0.99', '--top-n-sigma', '2.5',
      '--xtc-threshold', '0.2', '--xtc-probability', '0.5', '--epsilon-cutoff', '0.0005', '--eta-cutoff', '0.0005',
      '--mirostat-tau', '5', '--mirostat-eta', '0.1',
      '--order', 'penalties,dry,top-k,temperature,top-p,min-p,typical,top-n-sigma,xtc,epsilon,eta,mirostat',
    ];
    const [a, b] = await Promise.all([ntl(...args), ntl(...args)]);
    const ga = parse<Generated>(a);
    expect(ga.strategy).toBe('custom');
    expect(ids(ga)).toEqual(ids(parse<Generated>(b)));
  });

  it('greedy, top-k 1 and beam width 1 agree', async () => {
    const base = ['generate', '--prompt', PROMPT, '--max-tokens', '6', '--json'];
    const [greedy, top1, beam] = await Promise.all([
      ntl(...base, '--strategy', 'greedy'),
      ntl(...base, '--strategy', 'top-k', '--top-k', '1', '--seed', '4'),
      ntl(...base, '--strategy', 'beam', '--beam-width', '1'),
    ]);
    const expected = ids(parse<Generated>(greedy));
    expect(ids(parse<Generated>(top1))).toEqual(expected);
    expect(ids(parse<Generated>(beam))).toEqual(expected);
  });

  it('stops at a stop string', async () => {
    const g = parse<Generated>(await ntl('generate', '--prompt', 'The sun rises in the', '--stop', '.', '--max-tokens', '12', '--json'));
    expect(g.stop_reason).toBe('stop-string');
    expect(g.text).toMatch(/\.$/);
  });

  it.each([
    [['--temperature', '-1'], 'ntl: --temperature: temperature must be greater than 0\n'],
    [['--frequency-penalty=-3'], 'ntl: --frequency-penalty: frequency penalty must be at least -2\n'],
    [['--top-p', '0'], 'ntl: --top-p: p must be greater than 0\n'],
    [['--top-k', '0'], 'ntl: --top-k: k must be at least 1\n'],
    [['--min-p', '1.5'], 'ntl: --min-p: min-p must be at most 1\n'],
    [['--xtc-probability', '2'], 'ntl: --xtc-probability: XTC probability must be at most 1\n'],
    [['--strategy', 'beam', '--beam-width', '9'], 'ntl: --beam-width: beam width must be at most 8\n'],
    [['--strategy', 'beam', '--top-k', '3'], 'ntl: --top-k: beam search does not sample; leave it out or choose another --strategy\n'],
    [['--order', 'top-k,top-k'], 'ntl: --order: each stage may appear only once\n'],
    [['--top-k', '3', '--order', 'temperature'], 'ntl: --order: top-k is set but not in the order\n'],
    [['--stop', ''], 'ntl: --stop: the stop string is empty\n'],
  ])('refuses %j', async (args, message) => {
    const run = await ntl('generate', '--prompt', 'a', ...args);
    expect(run.stderr).toBe(message);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
  });
});

describe('ntl compare', () => {
  const spec = {
    prompt: PROMPT,
    maxTokens: 5,
    columns: [
      { name: 'greedy', strategy: { strategy: 'greedy' } },
      { name: 'hot', seed: 3, settings: { temperature: 1.5, minP: 0.05 } },
      { name: 'beam', beam: { width: 3 } },
    ],
  };

  it('prints each column with its metrics, and agrees with ntl generate', async () => {
    const file = join(await tempDir('compare'), 'spec.json');
    await writeFile(file, JSON.stringify(spec));
    const out = parse<{ columns: (Generated & { name: string })[] }>(await ntl('compare', '--spec', file, '--json'));
    expect(out.columns.map((c) => c.name)).toEqual(['greedy', 'hot', 'beam']);
    for (const c of out.columns) {
      expect(c.text.startsWith(PROMPT)).toBe(true);
      expect(c.steps).toHaveLength(5);
      expect(typeof c.metrics['perplexity']).toBe('number');
    }
    const hot = parse<Generated>(await ntl('generate', '--prompt', PROMPT, '--temperature', '1.5', '--min-p', '0.05', '--seed', '3', '--max-tokens', '5', '--json'));
    expect(out.columns[1]?.text).toBe(hot.text);
    const table = await ntl('compare', '--spec', file);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/column\s+tokens\s+mean log-prob\s+perplexity/);
    expect(table.stdout).toContain('[hot] seed 3');
  });

  it('refuses a bad spec with the schema message', async () => {
    const dir = await tempDir('compare-bad');
    const bad = join(dir, 'bad.json');
    await writeFile(bad, JSON.stringify({ ...spec, columns: [{ name: 'x', settings: { topP: 2 } }] }));
    const run = await ntl('compare', '--spec', bad);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(`ntl: --spec ${bad}: columns.0.settings.topP: p must be at most 1\n`);
    const many = join(dir, 'many.json');
    await writeFile(many, JSON.stringify({ ...spec, columns: Array.from({ length: 7 }, (_, i) => ({ name: `c${i}` })) }));
    expect((await ntl('compare', '--spec', many)).stderr).toBe(`ntl: --spec ${many}: columns: a comparison has at most 6 columns\n`);
    expect((await ntl('compare')).stderr).toBe('ntl: --spec is required\n');
  });
});
