/**
 * The sources without their clients, for code that reads the archive but never pulls from a source
 * (the query Lambda, the CDK app): importing this pulls in no SDK client.
 */
import { codecatalystDefinition } from './codecatalyst/definition';
import { resiliencehubDefinition } from './resiliencehub/definition';
import type { SourceDefinition } from './types';

export const SOURCE_DEFINITIONS: Readonly<Record<string, SourceDefinition>> = {
  codecatalyst: codecatalystDefinition,
  resiliencehub: resiliencehubDefinition,
};

export type { SourceDefinition } from './types';
export { codecatalystDefinition, resiliencehubDefinition };
