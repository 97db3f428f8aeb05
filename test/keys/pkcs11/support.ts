import { constants, verify, X509Certificate } from 'node:crypto';
import { SignerError } from '../../../src/errors.js';
import { defaultSecretIO, type SecretIO } from '../../../src/keys/secret.js';
import type { KeyType } from '../../../src/keys/types.js';

/** Secret input with no terminal, as under credential_process; records what was read. */
export function recordingIO(env: Record<string, string> = {}): { io: SecretIO; reads: string[] } {
  const reads: string[] = [];
  return {
    reads,
    io: {
      env,
      promptTty: async (label) => {
        reads.push(`prompt:${label}`);
        return undefined;
      },
      readFile: (path) => {
        reads.push(`file:${path}`);
        return defaultSecretIO.readFile(path);
      },
      runCommand: (command) => {
        reads.push(`command:${command}`);
        return defaultSecretIO.runCommand(command);
      },
    },
  };
}

export function noTerminal(env: Record<string, string> = {}): SecretIO {
  return recordingIO(env).io;
}

/** The SignerError a promise rejects with; anything else fails the test. */
export async function failure(promise: Promise<unknown>): Promise<SignerError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof SignerError) return error;
    throw error;
  }
  throw new Error('expected a SignerError, but it resolved');
}

/** Verifies a SHA-256 signature the way the service does, with the certificate's key. */
export function verifiesWithCertificate(keyType: KeyType, certificate: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  const key = new X509Certificate(certificate).publicKey;
  return keyType === 'RSA'
    ? verify('sha256', message, { key, padding: constants.RSA_PKCS1_PADDING }, signature)
    : verify('sha256', message, { key, dsaEncoding: 'der' }, signature);
}
