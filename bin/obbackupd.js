#!/usr/bin/env node
// Runs the TypeScript entry point through tsx's loader: no build step between a checkout and a run.
import { register } from 'tsx/esm/api';
register();
await import('../daemon/main.ts');
