/** Runs a child process to completion and collects what it printed. */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
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

/** The CLI entry as users run it (`node bin/eventlog-archive.js`): the bundle in dist/cli/ when current, else the sources. */
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

/** A CLI child still running: what it printed so far, and its exit. */
export interface SpawnedCli {
  child: ChildProcessWithoutNullStreams;
  stdout: () => string;
  exited: Promise<number | null>;
}

/**
 * Spawns the CLI (`node bin/eventlog-archive.js …`) and resolves once its stdout matches `ready`;
 * rejects if it exits first or is not ready within `timeoutMs` (then it is killed).
 */
export function spawnCliUntil(
  args: string[],
  options: { cwd: string; env: NodeJS.ProcessEnv; ready: RegExp; timeoutMs: number },
): Promise<SpawnedCli> {
  const child = spawn(process.execPath, [CLI_ENTRY, ...args], {
    cwd: options.cwd,
    env: { ...fakedSystemClockEnv(), ...options.env },
  });
  let out = '';
  let err = '';
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`not ready after ${options.timeoutMs} ms:\n${out}\n${err}`));
    }, options.timeoutMs);
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (options.ready.test(out)) {
        clearTimeout(timer);
        resolve({ child, stdout: () => out, exited });
      }
    });
    child.stderr.on('data', (chunk: Buffer) => {
      err += chunk.toString();
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code} before ready:\n${out}\n${err}`));
    });
  });
}
