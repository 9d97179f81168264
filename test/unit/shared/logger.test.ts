import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  createLogger,
  redactingReplacer,
  redactText,
  registerSecret,
} from '../../../lambdas/shared/src/logger';

describe('redaction', () => {
  afterEach(() => vi.restoreAllMocks());

  it('masks secret keys at any depth and registered secrets anywhere in text', () => {
    registerSecret('pat-1234567890-secret');
    const text = JSON.stringify(
      {
        headers: { Authorization: 'Bearer abc.def', 'x-amz-security-token': 'FQoG' },
        note: 'token pat-1234567890-secret leaked?',
      },
      redactingReplacer,
    );
    expect(text).not.toContain('abc.def');
    expect(text).not.toContain('FQoG');
    expect(text).not.toContain('pat-1234567890-secret');
    expect(text).toContain('[REDACTED]');
  });

  it('masks bearer tokens and SigV4 signatures in free text', () => {
    expect(redactText('sent Bearer eyJhbGciOi.x.y to it')).toBe('sent Bearer [REDACTED] to it');
    expect(redactText('Signature=0123456789abcdef0123456789abcdef')).toBe('Signature=[REDACTED]');
  });

  it('applies to every line the logger writes', () => {
    registerSecret('another-secret-value');
    const lines: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    });
    const logger = createLogger({ serviceName: 'test', logLevel: 'INFO' });
    logger.info('calling with another-secret-value', {
      request: { headers: { authorization: 'Bearer zzz' } },
    });
    const out = lines.join('');
    expect(out).toContain('calling with [REDACTED]');
    expect(out).not.toContain('another-secret-value');
    expect(out).not.toContain('zzz');
  });
});
