import { execFile, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { cp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ModelTokenizer } from '../../src/engine/tokenizer';
import { ntl, projectRoot, seedWorld, tempDir, type Run } from './helpers';


function json(run: Run): Record<string, unknown> {
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
  const parsed: unknown = JSON.parse(run.stdout);
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error(`not an object: ${run.stdout}`);
  return parsed as Record<string, unknown>;
}

async function seedTokenizer(): Promise<ModelTokenizer> {
  const tokenizer: unknown = JSON.parse(await readFile(join(seedWorld, 'tokenizer.json'), 'utf8'));
  const config: unknown = JSON.parse(await readFile(join(seedWorld, 'tokenizer_config.json'), 'utf8'));
  return new ModelTokenizer(tokenizer, config);
}

const PROMPT = 'The sun rises in the';

describe('ntl errors', () => {
  it('refuses an empty prompt with one line and exit code 2', async () => {
    const run = await ntl('predict', '--prompt', '', '--json');
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe('ntl: the prompt is empty\n');
  });

  it('names an unknown model and exits non-zero', async () => {
    const run = await ntl('tokenize', '--model', 'no-such-model', '--prompt', 'hi', '--json');
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^ntl: unknown model "no-such-model": no folder of that name in .+\n$/);
    expect(run.stderr.split('\n')).toHaveLength(2);
  });

  it('refuses webgpu, unknown options and out-of-range sampling values', async () => {
    const webgpu = await ntl('predict', '--backend', 'webgpu', '--prompt', 'a');
    expect(webgpu.code).toBe(2);
    expect(webgpu.stderr).toBe('ntl: --backend webgpu is not available in Node (there is no WebGPU here); use --backend wasm or native\n');
    const unknown = await ntl('tokenize', '--prompt', 'a', '--top', '3');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("unknown option '--top'");
    const topP = await ntl('generate', '--prompt', 'a', '--strategy', 'top-p', '--top-p', '1.5');
    expect(topP.code).toBe(2);
    expect(topP.stderr).toBe('ntl: --top-p: p must be at most 1\n');
    const command = await ntl('explain');
    expect(command.code).toBe(2);
    expect(command.stderr).toMatch(/^ntl: unknown command "explain"/);
  });
});

describe('ntl on the bundled seed-world model', () => {
  it('lists seed-world with its shape', async () => {
    const out = json(await ntl('models', '--json'));
    const config = JSON.parse(await readFile(join(seedWorld, 'config.json'), 'utf8')) as Record<string, number>;
    expect(out['models']).toEqual(
      expect.arrayContaining([expect.objectContaining({ id: 'seed-world', layers: config['n_layer'], heads: config['n_head'], vocab: config['vocab_size'] })]),
    );
  });

  it('tokenizes to exactly the ids and texts of the model’s tokenizer', async () => {
    const tokenizer = await seedTokenizer();
    const out = json(await ntl('tokenize', '--prompt', PROMPT, '--json'));
    const expected = tokenizer.pieces(PROMPT).map((p) => ({ id: p.id, text: p.text }));
    expect(out['tokens']).toEqual(expected);
    expect(expected.map((t) => t.text).join('')).toBe(PROMPT);
  });

  it('predicts " east" after "The sun rises in the"', async () => {
    const tokenizer = await seedTokenizer();
    const out = json(await ntl('predict', '--model', 'seed-world', '--prompt', PROMPT, '--top', '5', '--json'));
    expect(out['tokens']).toEqual(tokenizer.pieces(PROMPT).map((p) => ({ id: p.id, text: p.text })));
    const top = out['top'] as { id: number; token: string; prob: number; logit: number }[];
    expect(top).toHaveLength(5);
    expect(top[0]?.token).toBe(' east');
    expect(top[0]?.id).toBe(tokenizer.encode(' east')[0]);
    for (let i = 1; i < top.length; i++) expect(top[i - 1]?.prob ?? 0).toBeGreaterThanOrEqual(top[i]?.prob ?? 0);
    expect(out['entropy']).toBeGreaterThan(0);
    expect(out['entropy']).toBeLessThan(Math.log2(tokenizer.info.vocabSize));
    // native where onnxruntime-node loads; one thread for a model this small.
    expect(out['timing']).toMatchObject({ backend: 'native', threads: 1 });
  });

  it('predict --backend native gives the same top tokens as wasm and reports its timing', async () => {
    const args = ['predict', '--model', 'seed-world', '--prompt', PROMPT, '--top', '5', '--json'];
    const [wasm, native] = [json(await ntl(...args, '--backend', 'wasm')), json(await ntl(...args, '--backend', 'native', '--threads', '2'))];
    type Top = { id: number; prob: number }[];
    expect((native['top'] as Top).map((t) => t.id)).toEqual((wasm['top'] as Top).map((t) => t.id));
    (native['top'] as Top).forEach((t, i) => expect(Math.abs(t.prob - ((wasm['top'] as Top)[i]?.prob ?? NaN))).toBeLessThan(1e-5));
    expect(native['timing']).toMatchObject({ backend: 'native', threads: 2 });
    const time = native['timing'] as { load_ms: number; forward_ms: number };
    expect(time.load_ms).toBeGreaterThan(0);
    expect(time.forward_ms).toBeGreaterThan(0);
  });

  it('predict --ablate-head switches heads off and prints the distribution before and after', async () => {
    const bank = 'She took her money to the bank. At the bank she';
    const plain = json(await ntl('predict', '--prompt', bank, '--top', '5', '--json'));
    const args = ['predict', '--prompt', bank, '--top', '5', '--json', ...[0, 1, 2, 3].flatMap((h) => ['--ablate-head', `1:${h}`])];
    const out = json(await ntl(...args));
    expect(out['top']).toEqual(plain['top']);
    expect(out['ablated']).toEqual([0, 1, 2, 3].map((head) => ({ layer: 1, head })));
    const change = out['top_token_change'] as { token: string; before: number; after: number; delta: number };
    expect(change.token).toBe(' deposited');
    expect(change.before).toBeCloseTo(0.4611, 3);
    // Layer 1 without its heads: " deposited" falls to about 0.34 (the engine test checks the edit itself).
    expect(change.after).toBeLessThan(change.before - 0.05);
    expect(change.delta).toBeCloseTo(change.after - change.before, 10);
    const after = (out['after'] as { top: { prob: number }[] }).top;
    expect(after).toHaveLength(5);
    const text = await ntl('predict', '--prompt', bank, '--ablate-head', '1:0', '--top', '3');
    expect(text.stdout).toContain('heads switched off: 1:0');
    expect(text.stdout).toMatch(/top token before, " deposited": 0\.4611 → 0\.\d{4}/);
    const bad = await ntl('predict', '--prompt', bank, '--ablate-head', '7:0');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--ablate-head: head 7:0: the model has layers 0 to 2');
  });

  it('context compares one word in two prompts depth by depth and gives both predictions', async () => {
    const a = 'She took her money to the bank. At the bank she';
    const b = 'She rowed her boat down the river to the bank. At the bank she';
    const out = json(await ntl('context', '--a', a, '--b', b, '--word', ' bank', '--json'));
    expect(out['token']).toMatchObject({ text: ' bank', position_a: 10, position_b: 13 });
    const similarity = out['similarity'] as number[];
    // The embeddings, after each of the 3 blocks.
    expect(similarity).toHaveLength(4);
    // Each depth named by its hook point, as TransformerLens names the residual stream.
    expect(out['hooks']).toEqual(['blocks.0.hook_resid_pre', 'blocks.0.hook_resid_post', 'blocks.1.hook_resid_post', 'blocks.2.hook_resid_post']);
    for (const v of similarity) expect(Math.abs(v)).toBeLessThanOrEqual(1 + 1e-9);
    expect((out['top_a'] as { token: string }[])[0]?.token).toBe(' deposited');
    expect((out['top_b'] as { token: string }[])[0]?.token).toBe(' sat');
    // The last shared token by default: " she", whose vectors part ways in the later blocks.
    const she = json(await ntl('context', '--a', a, '--b', b, '--json'));
    expect(she['token']).toMatchObject({ text: ' she' });
    const s = she['similarity'] as number[];
    expect(s.at(-1) ?? 1).toBeLessThan((s[0] ?? 0) - 0.2);
    const missing = await ntl('context', '--a', a, '--b', b, '--word', ' moon');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('--word " moon": not a token of both prompts; shared:');
  });

  it('gives attention rows that sum to one and never look ahead', async () => {
    const out = json(await ntl('attention', '--prompt', PROMPT, '--layer', '0', '--head', '1', '--json'));
    const matrix = (out['attention'] as number[][][][])[0]?.[0] ?? [];
    expect(out['hooks']).toEqual(['blocks.0.attn.hook_pattern']);
    expect(matrix).toHaveLength((out['tokens'] as unknown[]).length);
    matrix.forEach((row, q) => {
      expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 4);
      row.forEach((w, k) => {
        if (k > q) expect(w).toBeLessThan(1e-6);
      });
    });
  });

  it('generates greedily and the same seed repeats a sampled run', async () => {
    const greedy = json(await ntl('generate', '--prompt', PROMPT, '--strategy', 'greedy', '--seed', '1', '--max-tokens', '3', '--json'));
    const steps = greedy['steps'] as { token: string; rank: number }[];
    expect(steps.every((s) => s.rank === 1)).toBe(true);
    expect(greedy['text']).toBe(PROMPT + steps.map((s) => s.token).join(''));
    expect(steps[0]?.token).toBe(' east');
    const args = ['generate', '--prompt', PROMPT, '--strategy', 'top-k', '--top-k', '20', '--temperature', '1.5', '--seed', '7', '--max-tokens', '6', '--json'];
    const [a, b] = await Promise.all([ntl(...args), ntl(...args)]);
    expect(json(a)['steps']).toEqual(json(b)['steps']);
  });

  it('truncates a prompt longer than the context from the left and says so', async () => {
    const long = 'The sun rises in the east. '.repeat(60);
    const run = await ntl('predict', '--prompt', long, '--top', '1', '--json');
    expect(run.code).toBe(0);
    const out: unknown = JSON.parse(run.stdout);
    expect(out).toMatchObject({ truncated: expect.any(Number) });
    const parsed = out as { truncated: number; tokens: unknown[] };
    expect(parsed.truncated).toBeGreaterThan(0);
    expect(run.stderr).toMatch(/^ntl: note: the prompt has \d+ tokens, more than the model's context of \d+; dropped the first \d+\n$/);
  });

  it('runs a saved notebook and writes the results', async () => {
    const out = join(await tempDir('run'), 'results.json');
    const run = await ntl('run', join(projectRoot, 'tests', 'node', 'fixtures', 'sun.ntl.json'), '--out', out, '--json');
    const printed = json(run);
    expect(JSON.parse(await readFile(out, 'utf8'))).toEqual(printed);
    const cells = printed['cells'] as { id: string; kind: string; result: Record<string, unknown>; error?: string }[];
    expect(cells.map((c) => [c.id, c.kind, c.error])).toEqual([
      ['c1', 'tokenize', undefined],
      ['c2', 'embed', undefined],
      ['c3', 'attend', undefined],
      ['c4', 'predict', undefined],
      ['c5', 'sample', undefined],
    ]);
    expect((cells[3]?.result['top'] as { token: string }[])[0]?.token).toBe(' east');
    expect(cells[1]?.result['dim_count']).toBe(4);
    expect(cells[2]?.result).toMatchObject({ layer: 0, head: 1, hook: 'blocks.0.attn.hook_pattern' });
  });

  it('fits a prompt near the context as ntl generate does: room for the tokens to generate, the same tokens', async () => {
    const dir = await tempDir('run-long');
    const doc = JSON.parse(await readFile(join(projectRoot, 'tests', 'node', 'fixtures', 'sun.ntl.json'), 'utf8')) as { prompt: string };
    // Longer than seed-world's context of 128 tokens: both keep the last 128 − 4 tokens and generate 4.
    doc.prompt = Array.from({ length: 40 }, () => 'The sun rises in the east.').join(' ');
    await writeFile(join(dir, 'long.ntl.json'), JSON.stringify(doc));
    const running = await ntl('run', join(dir, 'long.ntl.json'), '--json');
    expect(running.code).toBe(0);
    const run = JSON.parse(running.stdout) as Record<string, unknown>;
    const sample = (run['cells'] as { kind: string; result: { steps: { id: number }[] } }[]).find((c) => c.kind === 'sample')?.result;
    const generating = await ntl('generate', '--prompt', doc.prompt, '--strategy', 'greedy', '--max-tokens', '4', '--json');
    expect(generating.stderr).toMatch(/the model's context of 128 less room to generate\); dropped the first \d+/);
    const generated = JSON.parse(generating.stdout) as Record<string, unknown>;
    expect(generated['truncated']).toBeGreaterThan(0);
    expect(sample?.steps.map((s) => s.id)).toEqual((generated['steps'] as { id: number }[]).map((s) => s.id));
  });

  it('runs a version 2 notebook: notes pass through, a cell of an unknown kind is skipped with the reason', async () => {
    const file = join(await tempDir('run'), 'v2.ntl.json');
    const doc = {
      format: 'next-token-lab-notebook',
      version: 2,
      name: 'v2',
      prompt: 'The sun rises in the',
      model: { id: 'seed-world', sha256: null },
      backend: 'wasm',
      appVersion: '0.1.0',
      savedAt: '2026-11-28T00:00:00.000Z',
      cells: [
        { id: 'n1', kind: 'note', text: 'Where does the sun rise?' },
        { id: 'p', kind: 'predict', params: { topK: 2 } },
        { id: 'x', kind: 'probe-3d', depth: 3 },
      ],
    };
    await writeFile(file, JSON.stringify(doc));
    const run = await ntl('run', file, '--json');
    expect(run.code).toBe(0);
    const cells = json(run)['cells'] as Record<string, unknown>[];
    expect(cells[0]).toEqual({ id: 'n1', kind: 'note', text: 'Where does the sun rise?' });
    expect(((cells[1]?.['result'] as { top: { token: string }[] }).top[0])?.token).toBe(' east');
    expect(cells[2]?.['skipped']).toContain('cell kind "probe-3d" is not known');
  });
});

describe('ntl on the model files people download (tests/fixtures/models/gpt2-hub: one folder, five variants)', () => {
  const hub = join(projectRoot, 'tests/fixtures/models/gpt2-hub');
  const reference = JSON.parse(readFileSync(join(projectRoot, 'tests/fixtures/gpt2-hub-reference.json'), 'utf8')) as {
    files: { file: string; prompts: { prompt: string; top: { id: number; prob: number }[] }[] }[];
  };

  it.each([
    ['fp16', 'onnx/model_fp16.onnx'],
    ['quantized', 'onnx/model_quantized.onnx'],
  ])('predict --variant %s runs %s: its reference top-5, on the cache, from the ONNX engine', async (variant, file) => {
    const out = json(await ntl('predict', '--model', hub, '--variant', variant, '--prompt', PROMPT, '--top', '5', '--json'));
    const expected = reference.files.find((f) => f.file === file)?.prompts[0]?.top.slice(0, 5) ?? [];
    const top = out['top'] as { id: number; prob: number }[];
    expect(top.map((t) => t.id)).toEqual(expected.map((t) => t.id));
    top.forEach((t, i) => expect(Math.abs(t.prob - (expected[i]?.prob ?? NaN))).toBeLessThan(1e-4));
    expect(out['source']).toBe('onnx');
    expect(out['timing']).toMatchObject({ kv_cache: true });
    expect(out['timing']).not.toHaveProperty('kv_cache_note');
  });

  it('says when a model of two files holds its weights twice (--json weights_note), and not when they are held once', async () => {
    const once = json(await ntl('predict', '--model', 'seed-world', '--prompt', PROMPT, '--top', '1', '--json'));
    expect(once['timing']).not.toHaveProperty('weights_note');
    // seed-world's model.onnx beside tiny-shakespeare's with-past file: their probes do not pair.
    const mixed = await tempDir('mixed-files');
    await cp(seedWorld, mixed, { recursive: true });
    await cp(join(projectRoot, 'resources/models/tiny-shakespeare/onnx/decoder_with_past.onnx'), join(mixed, 'onnx/decoder_with_past.onnx'));
    const twice = json(await ntl('predict', '--model', mixed, '--prompt', PROMPT, '--top', '1', '--json'));
    expect(twice['timing']).toMatchObject({ weights_note: expect.stringMatching(/^the weights are held twice \(one session per file\): .*model\.onnx shows 16 tensors/) });
    expect((twice['top'] as { id: number }[])[0]?.id).toBe((once['top'] as { id: number }[])[0]?.id);
  });

  it('says why generation is not on a cache (--json kv_cache_note), and names the variants a folder has', async () => {
    const off = json(await ntl('generate', '--model', hub, '--prompt', PROMPT, '--max-tokens', '2', '--no-cache', '--json'));
    expect(off['timing']).toMatchObject({ kv_cache: false, kv_cache_note: expect.stringMatching(/turned off \(--no-cache\)/) });
    const missing = await ntl('predict', '--model', hub, '--variant', 'bnb4', '--prompt', PROMPT);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/gpt2-hub: no bnb4 variant \(this folder has fp32, fp16, quantized, int8, q4\)/);
    const unknown = await ntl('predict', '--model', hub, '--variant', 'fp8', '--prompt', PROMPT);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/--variant: unknown variant "fp8"/);
  });
});

describe('bin/serve.mjs', () => {
  const hasBuild = existsSync(join(projectRoot, 'out', 'renderer', 'index.html'));

  it.skipIf(hasBuild)('fails with a clear message when the renderer is not built', async () => {
    const run = await new Promise<Run>((resolve) => {
      execFile(process.execPath, [join(projectRoot, 'bin', 'serve.mjs'), '--port', '0'], { cwd: projectRoot, timeout: 30_000 }, (error, stdout, stderr) =>
        resolve({ code: error && typeof error.code === 'number' ? error.code : 0, stdout, stderr }),
      );
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('out/renderer/index.html is missing: run npm run build first');
  });

  it.skipIf(!hasBuild)('prints exactly one line with its URL and serves index.html', async () => {
    const child = spawn(process.execPath, [join(projectRoot, 'bin', 'serve.mjs'), '--port', '0'], { cwd: projectRoot });
    try {
      const line = await new Promise<string>((resolve, reject) => {
        let text = '';
        child.stdout.on('data', (chunk: Buffer) => {
          text += chunk.toString();
          if (text.includes('\n')) resolve(text);
        });
        child.on('exit', (code) => reject(new Error(`serve exited with ${String(code)}`)));
      });
      expect(line).toMatch(/^Next Token Lab: http:\/\/127\.0\.0\.1:\d+\/\n$/);
      const url = line.trim().slice('Next Token Lab: '.length);
      const res = await fetch(url);
      expect(res.status).toBe(200);
      expect(res.headers.get('cross-origin-embedder-policy')).toBe('require-corp');
    } finally {
      child.kill('SIGTERM');
    }
  });
});
