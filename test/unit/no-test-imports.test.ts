/**
 * Product code (bin/, lib/, lambdas/) and the benchmark (bench/) never import test code: what ships
 * or measures must not depend on the tests' stand-ins, which change with the tests.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');
const TEST_DIR = path.join(ROOT, 'test');
// `from '…'`, `import('…')`, `require('…')` and `export … from '…'` specifiers.
const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*)['"]([^'"]+)['"]/g;

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter(
      (e) => e.isFile() && /\.(?:[cm]?[jt]s)$/.test(e.name) && !/node_modules|cdk\.out/.test(e.parentPath),
    )
    .map((e) => path.join(e.parentPath, e.name));
}

describe('product code and the bench', () => {
  it.each(['bin', 'lib', 'lambdas', 'bench'])('%s/ imports nothing under test/', (dir) => {
    const offenders: string[] = [];
    for (const file of sources(path.join(ROOT, dir))) {
      for (const [, specifier] of readFileSync(file, 'utf8').matchAll(SPECIFIER)) {
        if (!specifier!.startsWith('.')) continue;
        const target = path.resolve(path.dirname(file), specifier!);
        if (target === TEST_DIR || target.startsWith(`${TEST_DIR}${path.sep}`)) {
          offenders.push(`${path.relative(ROOT, file)} → ${specifier}`);
        }
      }
    }
    expect(offenders).toEqual([]);
  });
});
