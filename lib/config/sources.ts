/** The instances to archive: CodeCatalyst spaces (and the PAT secret) and Resilience Hub systems. */
import { checkSpaceName, checkSystemArn } from '../../lambdas/shared/src/validation';
import { ConfigError, compact, distinct, kmsKeyArn, type Reader, type Section } from './checks';
import { DEFAULT_CONFIG, MAX_SPACES } from './defaults';
import type { ArchiveConfig } from './types';

// Secrets Manager secret names: 1 to 512 of these characters.
const SECRET_NAME = /^[A-Za-z0-9/_+=.@-]{1,512}$/;

/** `codecatalyst` and `resiliencehub`: at most MAX_SPACES instances between them. */
export function sourcesSettings(root: Section): Pick<ArchiveConfig, 'codecatalyst' | 'resiliencehub'> {
  const defaults = DEFAULT_CONFIG;
  const cc = root.section('codecatalyst', ['spaces', 'tokenSecretName', 'tokenSecretKmsKeyArn']);
  const spaces = cc.read('spaces', spaceList, defaults.codecatalyst.spaces);
  const tokenSecretName = cc.read('tokenSecretName', secretName, defaults.codecatalyst.tokenSecretName);
  const tokenSecretKmsKeyArn = cc.optional('tokenSecretKmsKeyArn', kmsKeyArn);

  const rh = root.section('resiliencehub', ['systemArns']);
  const systemArns = rh.read(
    'systemArns',
    systemArnList(MAX_SPACES - spaces.length),
    defaults.resiliencehub.systemArns,
  );
  return {
    codecatalyst: compact({ spaces, tokenSecretName, tokenSecretKmsKeyArn }),
    resiliencehub: { systemArns },
  };
}

const spaceList: Reader<string[]> = (value, path) => {
  if (!Array.isArray(value)) throw new ConfigError(path, value, 'must be an array of space names');
  if (value.length > MAX_SPACES) {
    throw new ConfigError(
      path,
      undefined,
      `must list at most ${MAX_SPACES} spaces (got ${value.length}): each has a schedule whose permission counts against the function's 20 KB resource policy`,
    );
  }
  return distinct(value, path, checkSpaceName);
};

/** The systems, at most `room` of them: what the spaces leave of MAX_SPACES. */
function systemArnList(room: number): Reader<string[]> {
  return (value, path) => {
    if (!Array.isArray(value)) throw new ConfigError(path, value, 'must be an array of system ARNs');
    if (value.length > room) {
      throw new ConfigError(
        path,
        undefined,
        `must list at most ${room} systems (got ${value.length}): spaces and systems together are at most ${MAX_SPACES}, each has a schedule whose permission counts against the function's 20 KB resource policy`,
      );
    }
    return distinct(value, path, checkSystemArn);
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
