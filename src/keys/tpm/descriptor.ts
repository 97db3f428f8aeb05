import { createHash, X509Certificate } from 'node:crypto';
import { SignerError } from '../../errors.js';
import type { KeyOptions, KeySourceDescriptor, ReadFile } from '../descriptor.js';
import { TPM_ML_DSA_REFUSAL } from '../mldsa/hardware.js';
import { TPM_KEY_PASSWORD_ENV_VAR, type TpmKeySpec } from '../spec.js';

const TSS2_PEM_LABEL = '-----BEGIN TSS2 PRIVATE KEY-----';

/**
 * TPM 2.0 keys: `--private-key handle:0x81...` (a persistent handle) or a PEM file holding a
 * TSS2 PRIVATE KEY (a key wrapped by the TPM). The TPM command layer loads only in `load()`.
 */
export const tpmKeySource: KeySourceDescriptor<TpmKeySpec> = {
  kind: 'tpm',
  claim(options, readFile) {
    const { privateKey } = options;
    if (privateKey === undefined) return undefined;
    if (privateKey.startsWith('handle:')) return resolution(options, { handle: parseHandle(privateKey) });
    if (looksLikeTss2KeyFile(privateKey, readFile)) return resolution(options, { keyFile: privateKey });
    return undefined;
  },
  async cacheIdentity(spec, readFile) {
    // A handle alone names no certificate: nothing safe to key the cache by.
    if (spec.keyFile === undefined) return undefined;
    const pem = /-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/.exec(readFile(spec.keyFile).toString('latin1'));
    if (pem === null) return undefined;
    return `sha256:${createHash('sha256').update(new X509Certificate(Buffer.from(pem[0], 'latin1')).raw).digest('hex')}`;
  },
  authenticationFailureCodes: ['TPM_AUTH_FAILED', 'TPM_LOCKOUT', 'KEY_PASSWORD_INCORRECT', 'KEY_PASSWORD_REQUIRED'],
  mlDsaRefusal: TPM_ML_DSA_REFUSAL,
  deviceLostCodes: ['TPM_TRANSPORT_FAILED'],
  async load() {
    const { openTpmKeySource } = await import('./source.js');
    return { open: (spec) => openTpmKeySource(spec) };
  },
};

function resolution(options: KeyOptions, key: { handle?: number; keyFile?: string }) {
  const spec: TpmKeySpec = {
    kind: 'tpm',
    ...key,
    password: options.tpmKeyPassword ?? { envVar: TPM_KEY_PASSWORD_ENV_VAR },
    noPassword: options.noTpmKeyPassword === true,
    ...(options.tpmTcti !== undefined ? { tcti: options.tpmTcti } : {}),
  };
  return options.certificate === undefined ? { spec } : { spec, certificateFile: options.certificate };
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
function looksLikeTss2KeyFile(path: string, readFile: ReadFile): boolean {
  let head: string;
  try {
    head = readFile(path).subarray(0, 64 * 1024).toString('latin1');
  } catch {
    return false;
  }
  return head.includes(TSS2_PEM_LABEL);
}
