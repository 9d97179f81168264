/** The customer-managed keys: the one that encrypts the archive, and the one that signs the digests. */
import { boolean, ConfigError, kmsKeyArn, type Section } from './checks';
import type { ArchiveConfig } from './types';

/** `encryption`: absent or `kmsKey: false` for managed encryption, `kmsKey: true` or `kmsKeyArn`. */
export function encryptionSettings(root: Section): ArchiveConfig['encryption'] {
  const encryption = root.optionalSection('encryption', ['kmsKey', 'kmsKeyArn']);
  if (!encryption) return undefined;
  const create = encryption.optional('kmsKey', boolean);
  if (encryption.get('kmsKeyArn') !== undefined) {
    if (create === true) {
      throw new ConfigError(
        encryption.at('kmsKey'),
        create,
        'must not be true together with kmsKeyArn (set one: kmsKey creates a key, kmsKeyArn uses yours)',
      );
    }
    return { kmsKeyArn: encryption.require('kmsKeyArn', kmsKeyArn) };
  }
  return create === true ? {} : undefined;
}

/** `integrity`: `{}` for a signing key this app creates, `{ signingKeyArn }` for your own. */
export function integritySettings(root: Section): ArchiveConfig['integrity'] {
  const integrity = root.optionalSection('integrity', ['signingKeyArn']);
  if (!integrity) return undefined;
  const signingKeyArn = integrity.optional('signingKeyArn', kmsKeyArn);
  return signingKeyArn === undefined ? {} : { signingKeyArn };
}
