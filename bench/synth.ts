/**
 * The synth section: the CDK app with the most spaces and systems the settings allow (400 spaces and
 * 100 Resilience Hub systems, every optional feature on), synthesized as bin/app.ts does, with cdk-nag,
 * without bundling (the bundles section measures that, and it does not grow with the instances).
 * Reports the synth time and, per template (nested stacks included), its resources and bytes against
 * CloudFormation's 500 resources and 1 MB; test/lib/scale.test.ts asserts the limits, this times it.
 */
import { MAX_INSTANCES } from '../lib/config';
import { ALL_FEATURES, spaceNames, synthesizeApp, systemArns, templateFigures } from './synth-app';
import { type Check, check, fmt, heading, printTable } from './util';

const SYNTH_TARGET_MS = 60_000;
const RESOURCES_LIMIT = 500;
const BYTES_LIMIT = 1_000_000;

export interface SynthFigures {
  instances: number;
  synthMs: number;
  templates: { file: string; resources: number; bytes: number }[];
}

export function synthSection(): { figures: SynthFigures; checks: Check[] } {
  heading(`Synth: ${MAX_INSTANCES} instances (400 spaces, 100 systems), every option on, cdk-nag`);
  const settings = {
    ...ALL_FEATURES,
    codecatalyst: { ...ALL_FEATURES.codecatalyst, spaces: spaceNames(400) },
    resiliencehub: { systemArns: systemArns(100) },
  };
  const started = performance.now();
  const { assembly } = synthesizeApp(settings);
  const synthMs = performance.now() - started;
  const templates = templateFigures(assembly).map(({ file, resources, bytes }) => ({
    file,
    resources,
    bytes,
  }));

  printTable(
    ['template', 'resources', 'bytes'],
    templates.map((t) => [t.file, String(t.resources), fmt.int(t.bytes)]),
  );
  const largest = templates.reduce((a, b) => (b.bytes > a.bytes ? b : a));
  const mostResources = Math.max(...templates.map((t) => t.resources));
  console.log(
    `\nsynth ${fmt.s(synthMs)}; largest template ${largest.file}: ${fmt.int(largest.bytes)} bytes, ${largest.resources} resources`,
  );
  return {
    figures: { instances: MAX_INSTANCES, synthMs, templates },
    checks: [
      check(
        `Synth of ${MAX_INSTANCES} instances with cdk-nag`,
        fmt.s(synthMs),
        '< 60 s',
        synthMs < SYNTH_TARGET_MS,
      ),
      check(
        'Most resources in one template',
        String(mostResources),
        `≤ ${RESOURCES_LIMIT}`,
        mostResources <= RESOURCES_LIMIT,
      ),
      check('Largest template', `${fmt.int(largest.bytes)} B`, '≤ 1,000,000 B', largest.bytes <= BYTES_LIMIT),
    ],
  };
}
