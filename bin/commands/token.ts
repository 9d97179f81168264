/**
 * `token create|list|revoke`: the bearer tokens of the deployed API (`query.authorization: "token"`)
 * and of `serve --auth token`, kept as salted hashes in the archive (lambdas/core/access-tokens.ts).
 * `create` prints the token alone on stdout (the rest on stderr), so `T=$(eventlog-archive token
 * create …)` captures just it; it is never shown again.
 */
import type { Clock } from '@eventlog-archive/shared';
import { DEFAULT_AUTHORIZER_CACHE_SECONDS } from '../../lambdas/authorizer/policy';
import {
  createAccessToken,
  DEFAULT_TOKEN_DAYS,
  listAccessTokens,
  MAX_TOKEN_DAYS,
  revokeAccessToken,
  TokenInputError,
  type TokenRecord,
  tokenStatus,
} from '../../lambdas/core/access-tokens';
import { openArchive } from '../../lambdas/core/store';
import { archiveOption, intOption, parse, UsageError, type Values } from './args';
import { writeLine } from './terminal';

const SUBCOMMANDS = 'create, list or revoke';

export async function tokenCommand(args: string[], clock: Clock): Promise<number> {
  const [sub, ...rest] = args;
  try {
    if (sub === 'create') return await create(rest, clock);
    if (sub === 'list') return await list(rest, clock);
    if (sub === 'revoke') return await revoke(rest, clock);
  } catch (err) {
    if (err instanceof TokenInputError) throw new UsageError(err.message);
    throw err;
  }
  throw new UsageError(
    sub === undefined
      ? `a subcommand is required: ${SUBCOMMANDS}`
      : `unknown subcommand "${sub}" (${SUBCOMMANDS})`,
  );
}

async function create(args: string[], clock: Clock): Promise<number> {
  const values = parse(args, {
    archive: { type: 'string' },
    name: { type: 'string' },
    'expires-days': { type: 'string' },
    space: { type: 'string', multiple: true },
    json: { type: 'boolean' },
  });
  const archive = archiveOption(values);
  const name = stringOption(values, 'name');
  if (name === undefined) throw new UsageError('--name: is required');
  const expiresDays = intOption(values, 'expires-days', DEFAULT_TOKEN_DAYS, 1, MAX_TOKEN_DAYS);
  const spaces = (values.space as string[] | undefined) ?? [];
  const store = await openArchive(archive);
  const { token, record } = await createAccessToken(store, { name, expiresDays, spaces }, clock);
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ token, ...describe(record, clock()) }, null, 2)}\n`);
    return 0;
  }
  writeLine(
    process.stderr,
    `Created token ${record.id} "${record.name}": reads ${scopeOf(record)}, expires ${record.expiresAt}.`,
  );
  writeLine(process.stderr, 'It is shown only now; keep it as you would a password:');
  process.stdout.write(`${token}\n`);
  writeLine(
    process.stderr,
    "With the CodeCatalyst SDK: new CodeCatalystClient({ endpoint: '<ApiUrl>', region: '<region>', token: { token: '<the token>' } })",
  );
  return 0;
}

async function list(args: string[], clock: Clock): Promise<number> {
  const values = parse(args, { archive: { type: 'string' }, json: { type: 'boolean' } });
  const store = await openArchive(archiveOption(values));
  const now = clock();
  const records = await listAccessTokens(store);
  if (values.json) {
    process.stdout.write(
      `${JSON.stringify(
        records.map((r) => describe(r, now)),
        null,
        2,
      )}\n`,
    );
    return 0;
  }
  if (records.length === 0) {
    writeLine(process.stdout, 'no tokens (create one with `eventlog-archive token create`)');
    return 0;
  }
  const rows = records.map((r) => [
    r.id,
    r.name,
    tokenStatus(r, now),
    r.createdAt,
    r.revokedAt ? `revoked ${r.revokedAt}` : r.expiresAt,
    scopeOf(r),
  ]);
  const header = ['ID', 'NAME', 'STATUS', 'CREATED', 'EXPIRES', 'READS'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  for (const row of [header, ...rows])
    writeLine(
      process.stdout,
      row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  '),
    );
  return 0;
}

async function revoke(args: string[], clock: Clock): Promise<number> {
  const values = parse(args, {
    archive: { type: 'string' },
    id: { type: 'string' },
    name: { type: 'string' },
    json: { type: 'boolean' },
  });
  const archive = archiveOption(values);
  const id = stringOption(values, 'id');
  const name = stringOption(values, 'name');
  if ((id === undefined) === (name === undefined)) throw new UsageError('--id or --name: give exactly one');
  const store = await openArchive(archive);
  const record = await revokeAccessToken(store, id !== undefined ? { id } : { name: name! }, clock);
  if (values.json) {
    process.stdout.write(`${JSON.stringify(describe(record, clock()), null, 2)}\n`);
    return 0;
  }
  writeLine(
    process.stdout,
    `Revoked token ${record.id} "${record.name}" at ${record.revokedAt}. The deployed API may still accept it ` +
      `for as long as its authorizer caches a result (query.authorizerCacheSeconds, ${DEFAULT_AUTHORIZER_CACHE_SECONDS} s by default).`,
  );
  return 0;
}

/** What is shown of a record: never its salt or hash. */
function describe(record: TokenRecord, now: number): Record<string, unknown> {
  return {
    id: record.id,
    name: record.name,
    status: tokenStatus(record, now),
    createdAt: record.createdAt,
    expiresAt: record.expiresAt,
    ...(record.revokedAt ? { revokedAt: record.revokedAt } : {}),
    spaces: record.spaces,
  };
}

function scopeOf(record: TokenRecord): string {
  return record.spaces === null ? 'every space' : `spaces ${record.spaces.join(', ')}`;
}

function stringOption(values: Values, name: string): string | undefined {
  const value = values[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value === '') throw new UsageError(`--${name}: must not be empty`);
  return value;
}
