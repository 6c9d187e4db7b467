#!/usr/bin/env node
// `npm run bench`: timings; `npm run bench:long` (argument "long"): memory over long runs.
import { register } from 'tsx/esm/api';
import { rerunWithHugePages, wantsHugePages } from './huge-pages.mjs';

// The generation step (`step`, `--gen-profile`) runs as `ntl generate` does: with huge pages asked
// of malloc (huge-pages.mjs; NTL_HUGE_PAGES=0 for without), the bare sessions it is compared with too.
if ((process.argv[2] === 'step' || process.argv[2] === '--gen-profile') && wantsHugePages()) {
  rerunWithHugePages();
} else {
  register();
  await import(process.argv[2] === 'long' ? '../tools/bench/long-runs.ts' : '../tools/bench/bench.ts');
}
