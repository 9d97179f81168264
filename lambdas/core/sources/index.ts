/**
 * The registry of sources without their clients, for code that reads the archive but never pulls
 * from a source (the query Lambda, the CDK app, the CLI's read commands): importing this pulls in no
 * SDK client. Everything that iterates sources (Glue tables, IAM folders, schedules, routes, the
 * CLI's options, coverage and verify) reads this one list, so a source registered here is wired.
 */
import { codecatalystDefinition } from './codecatalyst/definition';
import { resiliencehubDefinition } from './resiliencehub/definition';
import type { SourceDefinition } from './types';

const registry: Record<string, SourceDefinition> = {
  codecatalyst: codecatalystDefinition,
  resiliencehub: resiliencehubDefinition,
};

/** Every registered source by name: the built-in ones, then any registered since, in that order. */
export const SOURCE_DEFINITIONS: Readonly<Record<string, SourceDefinition>> = registry;

/**
 * Adds a source (its definition; the ingest registers its client with `registerSource`). Names,
 * tables and instance options must be new, since they name folders, Glue tables and CLI options.
 */
export function registerSourceDefinition(definition: SourceDefinition): void {
  for (const existing of Object.values(registry)) {
    if (
      existing.name === definition.name ||
      existing.table === definition.table ||
      existing.instanceOption === definition.instanceOption
    )
      throw new Error(
        `source ${definition.name}: its name, table or instance option is taken by ${existing.name}`,
      );
  }
  registry[definition.name] = definition;
}

export type { SourceDefinition, SourceRoute } from './types';
export { codecatalystDefinition, resiliencehubDefinition };
