/** Amazon CodeCatalyst event logs (`ListEventLogs`) as an archive source: the definition plus its client. */
import type { SourceModule } from '../types';
import { codecatalystDefinition } from './definition';

export const codecatalyst: SourceModule = {
  ...codecatalystDefinition,
  createClient: async (options) => (await import('./client')).createCodeCatalystClient(options),
};

export { codecatalystDefinition } from './definition';
