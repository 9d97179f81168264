#!/usr/bin/env node
// The CLI runs the TypeScript sources directly (through tsx), so a fresh clone needs no build step.
import { register } from 'tsx/esm/api';

register();
// Quiet by default at a terminal: warnings and errors only (JSON on stderr). LOG_LEVEL=INFO shows more.
process.env.POWERTOOLS_LOG_LEVEL ??= process.env.LOG_LEVEL ?? 'WARN';
const { main } = await import('./cli.ts');
process.exitCode = await main(process.argv.slice(2));
