/**
 * OCSF 1.1.0 (https://schema.ocsf.io/1.1.0/) for the archive's sources: the event types, the shared
 * constants and value helpers of the mappings (lambdas/core/sources/<source>/ocsf.ts), the compiled
 * schema and the validator. Mappings and rules: docs/ocsf.md.
 */
export * from './classification';
export * from './compiled-schema';
export * from './types';
export { validateOcsf } from './validate';
