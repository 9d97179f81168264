/**
 * The registry of sources with their clients (what the ingest runs). `lambdas/core/sources/index.ts`
 * lists the same sources without clients for the query side; a unit test keeps the two lists equal.
 */
import { codecatalyst } from './codecatalyst';
import { resiliencehub } from './resiliencehub';
import type { SourceModule } from './types';

export const SOURCES: Readonly<Record<string, SourceModule>> = { codecatalyst, resiliencehub };

export function sourceByName(name: string): SourceModule | undefined {
  return Object.hasOwn(SOURCES, name) ? SOURCES[name] : undefined;
}

export type { SourceModule } from './types';
