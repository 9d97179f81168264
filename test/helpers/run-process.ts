/** Runs a child process to completion and collects what it printed. */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Clock, clockEnv, fakedSystemClockEnv } from './clock';

export interface ProcessResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runProcess(
  command: string,
  args: string[],
  options: { cwd: string; env: NodeJS.ProcessEnv },
): Promise<ProcessResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: { ...fakedSystemClockEnv(), ...options.env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** The CLI entry as users run it (`node bin/eventlog-archive.js`), from the sources. */
export const CLI_ENTRY = path.resolve(
  fileURLToPath(new URL('../../bin/eventlog-archive.js', import.meta.url)),
);

/**
 * Runs the CLI in `cwd` with a clean environment: only `PATH`, `HOME` (= `cwd`), `AWS_REGION`
 * (us-east-1) and `env`, so nothing from the developer's shell (tokens, profiles) leaks in. With
 * `clock`, the CLI's clock starts where that clock reads at the spawn.
 */
export function runCli(
  args: string[],
  options: { cwd: string; env?: Record<string, string>; clock?: Clock },
): Promise<ProcessResult> {
  return runProcess(process.execPath, [CLI_ENTRY, ...args], {
    cwd: options.cwd,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: options.cwd,
      AWS_REGION: 'us-east-1',
      ...(options.clock ? clockEnv(options.clock) : {}),
      ...options.env,
    },
  });
}
