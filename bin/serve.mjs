#!/usr/bin/env node
// Serves the built renderer and the main-process services over HTTP on 127.0.0.1 (the browser build).
import { register } from 'tsx/esm/api';

register();
await import('../src/server/main.ts');
