import { readUserFile } from '../files/read-user-file.js';
import { SignerError } from '../errors.js';
import type { DebugLog } from '../debug.js';
import type { SecretSpec } from './secret.js';
import { PIN_ENV_VAR, PKCS8_PASSWORD_ENV_VAR, TPM_KEY_PASSWORD_ENV_VAR, type FileKeySpec, type KeySpec, type Pkcs11KeySpec, type TpmKeySpec } from './spec.js';
import type { KeySource } from './types.js';

export type { KeySource, KeyType, SignDigest } from './types.js';
export type { KeySpec, FileKeySpec, Pkcs11KeySpec, TpmKeySpec } from './spec.js';

/**
 * The one place that picks a key source. Each kind is imported lazily, so a file-key user
 * never loads the PKCS#11 binding and a PKCS#11 user never loads the TPM layer.
 */
export async function openKeySource(spec: KeySpec, options: { readonly debug?: DebugLog } = {}): Promise<KeySource> {
  switch (spec.kind) {
    case 'file':
      return (await import('./file.js')).openFileKeySource(spec);
    case 'pkcs11':
      return (await import('./pkcs11/source.js')).openPkcs11KeySource(spec, options.debug === undefined ? {} : { debug: options.debug });
    case 'tpm':
      return (await import('./tpm/source.js')).openTpmKeySource(spec);
  }
}

/** The key- and certificate-related flags, as the reference helper names them. */
export interface KeyOptions {
  readonly certificate?: string;
  readonly privateKey?: string;
  readonly pkcs11Lib?: string;
  readonly reusePin?: boolean;
  readonly pin?: Omit<SecretSpec, 'promptLabel'>;
  readonly tpmKeyPassword?: Omit<SecretSpec, 'promptLabel'>;
  readonly noTpmKeyPassword?: boolean;
  readonly tpmTcti?: string;
  readonly pkcs8Password?: Omit<SecretSpec, 'promptLabel'>;
  readonly touchNotice?: (message: string) => void;
}

export interface ResolvedKeyOptions {
  readonly spec: KeySpec;
  /** A certificate file the source does not read itself; undefined when the source provides it. */
  readonly certificateFile?: string;
}

const TSS2_PEM_LABEL = '-----BEGIN TSS2 PRIVATE KEY-----';

/**
 * Decides the key kind from the flags exactly as the reference helper does:
 * `pkcs11:` URIs (key or certificate) -> PKCS#11; `handle:0x81...` or a PEM file holding a TSS2
 * PRIVATE KEY -> TPM; any other file -> file key; no key but a certificate -> PKCS#12 file.
 */
export function resolveKeyOptions(options: KeyOptions, readFile: (path: string) => Buffer = readUserFile): ResolvedKeyOptions {
  const { certificate, privateKey } = options;
  const certificateIsUri = certificate !== undefined && isPkcs11Uri(certificate);

  if ((privateKey !== undefined && isPkcs11Uri(privateKey)) || certificateIsUri) {
    const spec: Pkcs11KeySpec = {
      kind: 'pkcs11',
      ...(privateKey !== undefined ? { keyUri: privateKey } : {}),
      ...(certificateIsUri ? { certificateUri: certificate } : {}),
      ...(options.pkcs11Lib !== undefined ? { modulePath: options.pkcs11Lib } : {}),
      pin: options.pin ?? { envVar: PIN_ENV_VAR },
      reusePin: options.reusePin === true,
      ...(options.touchNotice !== undefined ? { touchNotice: options.touchNotice } : {}),
    };
    if (privateKey !== undefined && !isPkcs11Uri(privateKey)) {
      throw new SignerError('USAGE', '--certificate is a pkcs11: URI but --private-key is not: give a pkcs11: URI for the key too, or leave --private-key out to use the key with the certificate\'s id');
    }
    return certificateIsUri || certificate === undefined ? { spec } : { spec, certificateFile: certificate };
  }

  if (privateKey === undefined) {
    if (certificate === undefined) {
      throw new SignerError('USAGE', 'no key given: pass --private-key (a key file, a pkcs11: URI or handle:0x81...) and --certificate, or --certificate with a PKCS#12 file');
    }
    const spec: FileKeySpec = { kind: 'file', certificatePath: certificate, ...passwordOf(options.pkcs8Password) };
    return { spec };
  }

  if (privateKey.startsWith('handle:')) {
    return tpmResolution(options, { handle: parseHandle(privateKey) }, certificate);
  }
  if (looksLikeTss2KeyFile(privateKey, readFile)) {
    return tpmResolution(options, { keyFile: privateKey }, certificate);
  }
  const spec: FileKeySpec = { kind: 'file', keyPath: privateKey, ...passwordOf(options.pkcs8Password) };
  return certificate === undefined ? { spec } : { spec, certificateFile: certificate };
}

/** A key file's password: the given source, else the environment variable, else a prompt. */
function passwordOf(password: Omit<SecretSpec, 'promptLabel'> | undefined): { password: SecretSpec } {
  return { password: { ...(password ?? { envVar: PKCS8_PASSWORD_ENV_VAR }), promptLabel: 'Password for the private key' } };
}

function tpmResolution(options: KeyOptions, key: { handle?: number; keyFile?: string }, certificate: string | undefined): ResolvedKeyOptions {
  const spec: TpmKeySpec = {
    kind: 'tpm',
    ...key,
    password: options.tpmKeyPassword ?? { envVar: TPM_KEY_PASSWORD_ENV_VAR },
    noPassword: options.noTpmKeyPassword === true,
    ...(options.tpmTcti !== undefined ? { tcti: options.tpmTcti } : {}),
  };
  return certificate === undefined ? { spec } : { spec, certificateFile: certificate };
}

/** RFC 3986 schemes are case-insensitive: `PKCS11:` is a URI too, never a file name. */
export function isPkcs11Uri(value: string): boolean {
  return /^pkcs11:/i.test(value);
}

function parseHandle(value: string): number {
  const text = value.slice('handle:'.length);
  if (!/^0x[0-9a-f]{8}$/i.test(text)) {
    throw new SignerError('USAGE', `--private-key ${value} is not a TPM persistent handle: write handle:0x81000001 (8 hex digits)`);
  }
  const handle = Number.parseInt(text, 16);
  if (handle < 0x81000000 || handle > 0x81ffffff) {
    throw new SignerError('USAGE', `--private-key ${value} is not in the persistent range 0x81000000-0x81FFFFFF`);
  }
  return handle;
}

/** Only the PEM label is read; a missing file is left for the file source to report. */
function looksLikeTss2KeyFile(path: string, readFile: (path: string) => Buffer): boolean {
  let head: string;
  try {
    head = readFile(path).subarray(0, 64 * 1024).toString('latin1');
  } catch {
    return false;
  }
  return head.includes(TSS2_PEM_LABEL);
}
