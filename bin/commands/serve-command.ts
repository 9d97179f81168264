/**
 * `serve`'s command line, checked before anything of the server loads (bin/commands/serve.ts has the
 * server, which loads DuckDB): a bad argument answers at once.
 */
import type { Clock } from '@eventlog-archive/shared';
import {
  DEFAULT_AUTHORIZER_CACHE_SECONDS,
  MAX_AUTHORIZER_CACHE_SECONDS,
} from '../../lambdas/authorizer/policy';
import { archiveOption, intOption, parse, UsageError } from './args';
import { CACHE_OPTIONS, cacheSettings } from './query-archive';
import type { ServeOptions } from './serve-server';

export const DEFAULT_PORT = 3000;
export const DEFAULT_HOST = '127.0.0.1';

export async function serveCommand(args: string[], clock: Clock): Promise<number> {
  const values = parse(args, {
    archive: { type: 'string' },
    port: { type: 'string' },
    host: { type: 'string' },
    'token-ttl-seconds': { type: 'string' },
    auth: { type: 'string' },
    'authorizer-cache-seconds': { type: 'string' },
    ...CACHE_OPTIONS,
  });
  const auth = values.auth ?? 'none';
  if (auth !== 'none' && auth !== 'token') throw new UsageError('--auth: must be none or token');
  if (auth === 'none' && values['authorizer-cache-seconds'] !== undefined)
    throw new UsageError('--authorizer-cache-seconds: applies only with --auth token');
  const archive = archiveOption(values);
  const cache = cacheSettings(values);
  const host = values.host === undefined ? DEFAULT_HOST : String(values.host);
  if (host === '') throw new UsageError('--host: must not be empty');
  const options: ServeOptions = {
    archive,
    host,
    port: intOption(values, 'port', DEFAULT_PORT, 0, 65535),
    tokenTtlSeconds: intOption(values, 'token-ttl-seconds', 24 * 3600, 60, 30 * 24 * 3600),
    auth:
      auth === 'token'
        ? {
            mode: 'token',
            cacheSeconds: intOption(
              values,
              'authorizer-cache-seconds',
              DEFAULT_AUTHORIZER_CACHE_SECONDS,
              0,
              MAX_AUTHORIZER_CACHE_SECONDS,
            ),
          }
        : { mode: 'none' },
    cache,
    clock,
  };
  // The server (DuckDB, the console) loads once the whole command line is known to be good.
  const { serveUntilSignal } = await import('./serve');
  return serveUntilSignal(options);
}
