/** AWS Resilience Hub (next generation) system events as an archive source: the definition plus its client. */
import type { SourceModule } from '../types';
import { resiliencehubDefinition } from './definition';

export const resiliencehub: SourceModule = {
  ...resiliencehubDefinition,
  createClient: async (options) => (await import('./client')).createResilienceHubClient(options),
};

export { parseSystemArn, type SystemArnParts, systemPartitionValue } from './arn';
export { RESILIENCEHUB_RETENTION_DAYS, resiliencehubDefinition } from './definition';
export { RESILIENCEHUB_FIELDS, RESILIENCEHUB_PARTITION_KEY, RESILIENCEHUB_TABLE } from './schema';
export type { ListSystemEventsInput, ListSystemEventsOutput, SystemEvent } from './wire';
