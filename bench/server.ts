/** The parent side of `bench/server-process.ts`: a fake CodeCatalyst server in a child process. */
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface StartRequest {
  type: 'start';
  count: number;
  fromMs: number;
  toMs: number;
  seed: number;
  space: string;
  token: string;
  latencyMs: number;
  retentionMs: number;
}

export type ChildRequest = StartRequest | { type: 'resetStats' | 'stats' | 'jsonl' | 'stop' };

export interface JsonlStats {
  events: number;
  files: number;
  rawBytes: number;
  gzipBytes: number;
}

export interface ServerStats {
  requests: number;
  pages: number;
  items: number;
  maxInFlight: number;
  byStatus: Record<string, number>;
  /** CPU time of the server process since the last `resetStats` (user + system). */
  cpuMs: number;
}

export type ChildReply =
  | { type: 'started'; url: string; generateMs: number }
  | { type: 'ok' }
  | ({ type: 'stats' } & ServerStats)
  | { type: 'jsonl'; stats: JsonlStats }
  | { type: 'error'; message: string };

const live = new Set<ChildProcess>();

export class BenchServer {
  private constructor(
    private readonly child: ChildProcess,
    readonly url: string,
    readonly space: string,
    readonly token: string,
    /** How long generating the events took in the child. */
    readonly generateMs: number,
  ) {}

  /** Forks the child (it inherits tsx's loader flags), generates the events and starts the server. */
  static async start(options: Omit<StartRequest, 'type'>): Promise<BenchServer> {
    const child = fork(fileURLToPath(new URL('./server-process.ts', import.meta.url)), {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    live.add(child);
    child.once('exit', () => live.delete(child));
    const started = await request(child, { type: 'start', ...options });
    if (started.type !== 'started') throw new Error(`unexpected reply ${started.type}`);
    return new BenchServer(child, started.url, options.space, options.token, started.generateMs);
  }

  async resetStats(): Promise<void> {
    await request(this.child, { type: 'resetStats' });
  }

  async stats(): Promise<ServerStats> {
    const r = await request(this.child, { type: 'stats' });
    if (r.type !== 'stats') throw new Error(`unexpected reply ${r.type}`);
    const { type: _, ...stats } = r;
    return stats;
  }

  /** Sizes of the events as JSON Lines, raw and gzip -6, one file per UTC day. */
  async jsonl(): Promise<JsonlStats> {
    const r = await request(this.child, { type: 'jsonl' });
    if (r.type !== 'jsonl') throw new Error(`unexpected reply ${r.type}`);
    return r.stats;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || !this.child.connected) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.send({ type: 'stop' } satisfies ChildRequest);
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5000).unref())]);
    if (this.child.exitCode === null) this.child.kill();
  }
}

/** Kills server children still running (on an error path). */
export function killServers(): void {
  for (const child of live) child.kill();
}

function request(child: ChildProcess, message: ChildRequest): Promise<ChildReply> {
  return new Promise((resolve, reject) => {
    const onMessage = (reply: ChildReply): void => {
      cleanup();
      if (reply.type === 'error') reject(new Error(`bench server: ${reply.message}`));
      else resolve(reply);
    };
    const onExit = (code: number | null): void => {
      cleanup();
      reject(new Error(`bench server exited (${code}) during ${message.type}`));
    };
    const cleanup = (): void => {
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    child.on('message', onMessage);
    child.on('exit', onExit);
    child.send(message);
  });
}
