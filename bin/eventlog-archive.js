#!/usr/bin/env node
// The CLI runs the TypeScript sources directly (through tsx), so a fresh clone needs no build step.
import { register } from 'tsx/esm/api';

// The floor the code is written for (node:zlib's ZSTD, among others): say so rather than fail later.
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 15)) {
  process.stderr.write(
    `eventlog-archive: Node.js 22.15 or later is required (this is ${process.version}); on Linux x64, \`npm ci\` installs Node 24 for \`npx\` and \`npm run\`\n`,
  );
  process.exit(1);
}

register();
// Quiet by default at a terminal: warnings and errors only (JSON on stderr). LOG_LEVEL=INFO shows more.
process.env.POWERTOOLS_LOG_LEVEL ??= process.env.LOG_LEVEL ?? 'WARN';
const { main } = await import('./cli.ts');
process.exitCode = await main(process.argv.slice(2));
