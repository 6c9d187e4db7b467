#!/usr/bin/env node
// `npm run bench`: timings; `npm run bench:long` (argument "long"): memory over long runs.
import { register } from 'tsx/esm/api';

register();
await import(process.argv[2] === 'long' ? '../tools/bench/long-runs.ts' : '../tools/bench/bench.ts');
