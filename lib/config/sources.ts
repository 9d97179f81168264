/** The instances to archive: CodeCatalyst spaces (and the PAT secret) and Resilience Hub systems. */
import { checkSpaceName, checkSystemArn } from '../../lambdas/shared/src/validation';
import { ConfigError, compact, distinct, kmsKeyArn, type Reader, type Section } from './checks';
import { DEFAULT_CONFIG, MAX_INSTANCES, MAX_SYSTEM_ARN_CHARACTERS } from './defaults';
import type { ArchiveConfig } from './types';

// Secrets Manager secret names: 1 to 512 of these characters.
const SECRET_NAME = /^[A-Za-z0-9/_+=.@-]{1,512}$/;

/** `codecatalyst` and `resiliencehub`: at most MAX_INSTANCES instances between them. */
export function sourcesSettings(root: Section): Pick<ArchiveConfig, 'codecatalyst' | 'resiliencehub'> {
  const defaults = DEFAULT_CONFIG;
  const cc = root.section('codecatalyst', ['spaces', 'tokenSecretName', 'tokenSecretKmsKeyArn']);
  const spaces = cc.read('spaces', spaceList, defaults.codecatalyst.spaces);
  const tokenSecretName = cc.read('tokenSecretName', secretName, defaults.codecatalyst.tokenSecretName);
  const tokenSecretKmsKeyArn = cc.optional('tokenSecretKmsKeyArn', kmsKeyArn);

  const rh = root.section('resiliencehub', ['systemArns']);
  const systemArns = rh.read(
    'systemArns',
    systemArnList(MAX_INSTANCES - spaces.length),
    defaults.resiliencehub.systemArns,
  );
  return {
    codecatalyst: compact({ spaces, tokenSecretName, tokenSecretKmsKeyArn }),
    resiliencehub: { systemArns },
  };
}

// Why these limits: lib/config/defaults.ts.
const INSTANCES_RULE = `each has its own schedule and alarms, and the dashboard's per-instance graphs show at most ${MAX_INSTANCES}`;

const spaceList: Reader<string[]> = (value, path) => {
  if (!Array.isArray(value)) throw new ConfigError(path, value, 'must be an array of space names');
  if (value.length > MAX_INSTANCES) {
    throw new ConfigError(
      path,
      undefined,
      `must list at most ${MAX_INSTANCES} spaces (got ${value.length}): ${INSTANCES_RULE}`,
    );
  }
  return distinct(value, path, checkSpaceName);
};

/** The systems, at most `room` of them (what the spaces leave of MAX_INSTANCES), within the IAM budget. */
function systemArnList(room: number): Reader<string[]> {
  return (value, path) => {
    if (!Array.isArray(value)) throw new ConfigError(path, value, 'must be an array of system ARNs');
    if (value.length > room) {
      throw new ConfigError(
        path,
        undefined,
        `must list at most ${room} systems (got ${value.length}): spaces and systems together are at most ${MAX_INSTANCES}, ${INSTANCES_RULE}`,
      );
    }
    const arns = distinct(value, path, checkSystemArn);
    const characters = arns.reduce((sum, arn) => sum + arn.length, 0);
    if (characters > MAX_SYSTEM_ARN_CHARACTERS) {
      throw new ConfigError(
        path,
        undefined,
        `must total at most ${MAX_SYSTEM_ARN_CHARACTERS} characters (got ${characters}): the ingest function's IAM role grants resiliencehub:ListSystemEvents on each ARN, and IAM limits the size of a role's policies`,
      );
    }
    return arns;
  };
}

const secretName: Reader<string> = (value, path) => {
  if (typeof value !== 'string' || !SECRET_NAME.test(value)) {
    throw new ConfigError(
      path,
      value,
      'must be a Secrets Manager secret name: 1 to 512 of A-Z a-z 0-9 /_+=.@-',
    );
  }
  // The function gets the secret as a partial ARN (imported by name); Secrets Manager reads a name
  // ending in '-' and six characters as a complete ARN's random suffix and would not find it.
  if (/-[A-Za-z0-9]{6}$/.test(value)) {
    throw new ConfigError(
      path,
      value,
      'must not end with a hyphen and six characters (Secrets Manager would take them for the ARN suffix)',
    );
  }
  return value;
};
