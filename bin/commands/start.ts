/**
 * `start` (what `npm start` runs): the local main job. With CODECATALYST_TOKEN and `--space` it
 * archives that real space into `./data`; without them it runs a clearly labelled demo that feeds a
 * built-in demo source (bin/demo/: a local ListEventLogs server with a made-up team's month) through
 * the real ingest, with the real CodeCatalyst SDK client. Then it serves the archive's query API
 * (`serve`, port 3000 or `--port`) until interrupted, printing the URL, a `curl` and the SDK setup.
 */
import { type Clock, iso } from '@eventlog-archive/shared';
import { codecatalystDefinition } from '../../lambdas/core/sources';
import { parseArchiveUri } from '../../lambdas/core/store';
import { archiveOption, intOption, parse, UsageError } from './args';
import { coverageCommand } from './coverage';
import { archiveInstance } from './ingest';

export const DEMO_SPACE = 'demo-space';

export async function startCommand(args: string[], clock: Clock): Promise<number> {
  const values = parse(args, {
    space: { type: 'string' },
    archive: { type: 'string' },
    port: { type: 'string' },
  });
  const archive = archiveOption({ archive: './data', ...values });
  const port = intOption(values, 'port', 3000, 0, 65535);
  const token = process.env.CODECATALYST_TOKEN;
  const space =
    values.space === undefined ? undefined : codecatalystDefinition.checkInstance(values.space, '--space');
  // Checked before the ingest: `start` archives into a folder (the demo, and a first look at a space).
  if (parseArchiveUri(archive).kind !== 'file')
    throw new UsageError(
      '--archive: start archives into a folder (file:///abs/path or a path); to read an s3:// archive, run serve --archive s3://…',
    );
  const { serveUntilSignal } = await import('./serve');

  if (space && token) {
    if (port !== 0)
      process.stdout.write(`Console (once the archive is ready): http://127.0.0.1:${port}/\n\n`);
    process.stdout.write(`Archiving CodeCatalyst space ${space} into ${archive}\n`);
    const code = await archiveInstance({
      source: 'codecatalyst',
      instance: space,
      archive,
      settings: {},
      clock,
    });
    if (code !== 0) return code;
    const coverage = await coverageCommand(['--archive', archive, '--space', space], clock);
    if (coverage !== 0) return coverage;
    process.stdout.write('\n');
    return serveUntilSignal({ archive, port, space, clock });
  }
  if (space && !token)
    throw new UsageError(
      '--space: needs CODECATALYST_TOKEN (a personal access token) to pull a real space; without both, npm start runs the demo',
    );
  // The console's address comes first: what follows (the ingest) takes a few seconds.
  if (port !== 0) process.stdout.write(`Console (once the archive is ready): http://127.0.0.1:${port}/\n\n`);
  const code = await demo(archive, clock);
  if (code !== 0) return code;
  process.stdout.write('\n');
  return serveUntilSignal({ archive, port, space: DEMO_SPACE, clock });
}

async function demo(archive: string, clock: Clock): Promise<number> {
  // The demo source is product code (bin/demo/): a small ListEventLogs server and a made-up team's month.
  const { startListEventLogsServer } = await import('../demo/list-event-logs-server');
  const { demoSpaceEvents } = await import('../demo/codecatalyst-events');
  const demoToken = 'demo-token-not-a-secret';
  const { events, people, projects, unusualDay } = demoSpaceEvents({
    nowMs: clock(),
    space: DEMO_SPACE,
    count: 20_000,
    seed: 2024,
  });
  const server = await startListEventLogsServer({
    spaces: { [DEMO_SPACE]: events },
    tokens: [demoToken],
    latencyMs: 20,
    now: clock,
  });
  process.stdout.write(
    [
      '== DEMO ==========================================================================',
      'No CODECATALYST_TOKEN and --space given, so this archives the built-in demo source:',
      `space "${DEMO_SPACE}": ${events.length.toLocaleString('en-US')} made-up events, a team's last 30 days (${people.length} people,`,
      `${projects.length} projects), served by a local ListEventLogs server and pulled with the real`,
      'CodeCatalyst SDK client. Something unusual happened in the night of',
      `${iso(unusualDay.startMs).slice(0, 10)}: look for eventName updateSpaceMembership, then what followed.`,
      'To archive a real space instead:  CODECATALYST_TOKEN=… npm start -- --space NAME',
      '==================================================================================',
      '',
    ].join('\n'),
  );
  try {
    const code = await archiveInstance({
      source: 'codecatalyst',
      instance: DEMO_SPACE,
      archive,
      settings: {},
      clock,
      env: {
        ...process.env,
        CODECATALYST_TOKEN: demoToken,
        AWS_ENDPOINT_URL_CODECATALYST: server.url,
        AWS_REGION: 'us-east-1',
      },
    });
    if (code !== 0) return code;
  } finally {
    await server.close();
  }
  return coverageCommand(['--archive', archive, '--space', DEMO_SPACE], clock);
}
