import { randomBytes } from 'node:crypto';
import { constants, zstdCompressSync, zstdDecompressSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { zstdCompressPage } from '../../../lambdas/core/parquet';

const level = (input: Uint8Array, compressionLevel: number): number =>
  zstdCompressSync(input, { params: { [constants.ZSTD_c_compressionLevel]: compressionLevel } }).byteLength;

/** JSON payload text, as the payload columns hold: repetitive, the kind higher levels pay for. */
function payloadPage(bytes: number): Uint8Array {
  const parts: string[] = [];
  let size = 0;
  for (let i = 0; size < bytes; i++) {
    const text = `{"projectName":"project-${i % 37}","branch":"feature/${(i * 7919) % 1009}","commit":"${randomBytes(6).toString('hex')}","files":[${Array.from({ length: i % 5 }, (_, j) => `"src/module-${(i + j) % 23}.ts"`).join(',')}]}`;
    parts.push(text);
    size += text.length + 4;
  }
  return new TextEncoder().encode(parts.join('\n'));
}

describe('zstdCompressPage', () => {
  it('spends the high setting on text that pays for it: smaller than level 1', () => {
    const page = payloadPage(400_000);
    const out = zstdCompressPage(page);
    expect(Buffer.from(zstdDecompressSync(out)).equals(Buffer.from(page))).toBe(true);
    expect(out.byteLength).toBeLessThan(0.95 * level(page, 1));
  });

  it('keeps level 1 for random hex (ids), where higher levels gain nothing, and for small pages', () => {
    const ids = new TextEncoder().encode(randomBytes(200_000).toString('hex'));
    const out = zstdCompressPage(ids);
    expect(Buffer.from(zstdDecompressSync(out)).equals(Buffer.from(ids))).toBe(true);
    expect(out.byteLength).toBe(level(ids, 1));
    const small = payloadPage(20_000);
    expect(zstdCompressPage(small).byteLength).toBe(level(small, 1));
  });
});
