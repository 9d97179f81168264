/** The registry of sources: the only place that lists them. */
import { codecatalyst } from './codecatalyst';
import { resiliencehub } from './resiliencehub';
import type { SourceModule } from './types';

export const SOURCES: Readonly<Record<string, SourceModule>> = { codecatalyst, resiliencehub };

export function sourceByName(name: string): SourceModule | undefined {
  return Object.hasOwn(SOURCES, name) ? SOURCES[name] : undefined;
}

export type { SourceModule } from './types';
