/** Amazon CodeCatalyst event logs (`ListEventLogs`) as an archive source: the definition plus its client. */

import { codecatalystDefinition } from '../../../core/sources/codecatalyst/definition';
import type { SourceModule } from '../types';

export const codecatalyst: SourceModule = {
  ...codecatalystDefinition,
  createClient: async (options) => (await import('./client')).createCodeCatalystClient(options),
};

export { codecatalystDefinition } from '../../../core/sources/codecatalyst/definition';
