#!/usr/bin/env node
// The `ntl` command line: runs the engine in Node on the app's models.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
