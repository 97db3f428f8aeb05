import { createHash } from 'node:crypto';
import type { SecretSpec } from '../secret.js';
import type { KeySourceDescriptor } from '../descriptor.js';
import { PKCS8_PASSWORD_ENV_VAR, type FileKeySpec } from '../spec.js';

/**
 * Software keys in files: any --private-key the other sources did not claim, or a PKCS#12
 * file given as --certificate alone. Last in the registry: it takes what is left.
 */
export const fileKeySource: KeySourceDescriptor<FileKeySpec> = {
  kind: 'file',
  claim(options) {
    const { certificate, privateKey } = options;
    if (privateKey === undefined) {
      if (certificate === undefined) return undefined;
      return { spec: { kind: 'file', certificatePath: certificate, ...passwordOf(options.pkcs8Password) } };
    }
    const spec: FileKeySpec = { kind: 'file', keyPath: privateKey, ...passwordOf(options.pkcs8Password) };
    return certificate === undefined ? { spec } : { spec, certificateFile: certificate };
  },
  async cacheIdentity(spec, readFile) {
    // A PKCS#12 file holds the certificate: the file's digest stands for it.
    if (spec.certificatePath === undefined) return undefined;
    return `pkcs12-sha256:${createHash('sha256').update(readFile(spec.certificatePath)).digest('hex')}`;
  },
  authenticationFailureCodes: ['KEY_PASSWORD_INCORRECT', 'KEY_PASSWORD_REQUIRED'],
  deviceLostCodes: [],
  async load() {
    const { openFileKeySource } = await import('../file.js');
    return { open: (spec) => openFileKeySource(spec) };
  },
};

/** A key file's password: the given source, else the environment variable, else a prompt. */
function passwordOf(password: Omit<SecretSpec, 'promptLabel'> | undefined): { password: SecretSpec } {
  return { password: { ...(password ?? { envVar: PKCS8_PASSWORD_ENV_VAR }), promptLabel: 'Password for the private key' } };
}
