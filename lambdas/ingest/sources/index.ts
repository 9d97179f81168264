/**
 * The registry of sources with their clients (what the ingest runs). `lambdas/core/sources/index.ts`
 * lists the same sources without clients for the query side and the CDK app; `registerSource` adds
 * to both, and a unit test keeps the two lists equal.
 */
import { registerSourceDefinition } from '../../core/sources';
import { codecatalyst } from './codecatalyst';
import { resiliencehub } from './resiliencehub';
import type { SourceModule } from './types';

const registry: Record<string, SourceModule> = { codecatalyst, resiliencehub };

export const SOURCES: Readonly<Record<string, SourceModule>> = registry;

export function sourceByName(name: string): SourceModule | undefined {
  return Object.hasOwn(registry, name) ? registry[name] : undefined;
}

/** Adds a source with its client; its definition (the module without `createClient`) to core's list. */
export function registerSource(module: SourceModule): void {
  const { createClient: _client, ...definition } = module;
  registerSourceDefinition(definition);
  registry[module.name] = module;
}

export type { SourceModule } from './types';
