/** AWS Resilience Hub (next generation) system events as an archive source: the definition plus its client. */

import { resiliencehubDefinition } from '../../../core/sources/resiliencehub/definition';
import type { SourceModule } from '../types';

export const resiliencehub: SourceModule = {
  ...resiliencehubDefinition,
  createClient: async (options) => (await import('./client')).createResilienceHubClient(options),
};

export {
  parseSystemArn,
  type SystemArnParts,
  systemPartitionValue,
} from '../../../core/sources/resiliencehub/arn';
export {
  RESILIENCEHUB_RETENTION_DAYS,
  resiliencehubDefinition,
} from '../../../core/sources/resiliencehub/definition';
export {
  RESILIENCEHUB_FIELDS,
  RESILIENCEHUB_PARTITION_KEY,
  RESILIENCEHUB_TABLE,
} from '../../../core/sources/resiliencehub/schema';
export type { ListSystemEventsInput, ListSystemEventsOutput, SystemEvent } from './wire';
