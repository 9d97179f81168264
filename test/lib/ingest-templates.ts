/** The ingest stack's templates: its own and those of the nested stacks that hold each instance's schedule and alarms. */
import { Template } from 'aws-cdk-lib/assertions';
import type { BuiltApp } from './helpers';

const nested = new WeakMap<BuiltApp, Template[]>();

/** The templates of the ingest stack's nested stacks, in stack-number order (synthesized once per app). */
export function instanceTemplates(built: BuiltApp): Template[] {
  let templates = nested.get(built);
  if (!templates) {
    templates = [...built.ingest.instanceStacks.entries()]
      .sort(([a], [b]) => a - b)
      .map(([, stack]) => Template.fromStack(stack));
    nested.set(built, templates);
  }
  return templates;
}

/** The ingest stack's template and those of its nested stacks. */
export function ingestTemplates(built: BuiltApp): Template[] {
  return [built.ingestTemplate, ...instanceTemplates(built)];
}

/** Every resource of `type` in the ingest stack and its nested stacks, by logical id (ids are unique per template only). */
export function ingestResources(
  built: BuiltApp,
  type: string,
): [string, { Properties: Record<string, unknown>; [key: string]: unknown }][] {
  return ingestTemplates(built).flatMap(
    (template) =>
      Object.entries(template.findResources(type)) as [
        string,
        { Properties: Record<string, unknown>; [key: string]: unknown },
      ][],
  );
}
