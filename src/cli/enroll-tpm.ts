import { SignerError } from '../errors.js';
import { debugFor } from './io.js';
import { printEnrollOutcome } from './enroll-output.js';

/** The flags `enroll --tpm` reads (declared in enroll.ts with the PKCS#11 ones). */
export interface TpmEnrollFlags {
  privateKey?: string;
  keyType: string;
  subject?: string;
  out?: string;
  persistentHandle?: string;
  parentHandle?: string;
  tpmKeyPassword?: string | false;
  tpmTcti?: string;
  pkcs11Lib?: string;
  importCertificate?: string;
  withChain?: boolean;
  intermediates?: string;
  json?: boolean;
  debug?: boolean;
}

/** The flags that only mean something with --tpm, for the refusal without it. */
export const TPM_ONLY_ENROLL_FLAGS: ReadonlyArray<readonly [keyof TpmEnrollFlags, string]> = [
  ['persistentHandle', '--persistent-handle'],
  ['parentHandle', '--parent-handle'],
  ['tpmKeyPassword', '--tpm-key-password/--no-tpm-key-password'],
  ['tpmTcti', '--tpm-tcti'],
];

/** `enroll --tpm`: parse flags -> options -> enrollTpmKey -> report. */
export async function runTpmEnroll(flags: TpmEnrollFlags): Promise<void> {
  if (flags.pkcs11Lib !== undefined) throw new SignerError('USAGE', '--pkcs11-lib is for PKCS#11 tokens: leave it out with --tpm');
  if (flags.importCertificate !== undefined || flags.withChain === true || flags.intermediates !== undefined) {
    const flag = flags.importCertificate !== undefined ? '--import-certificate' : flags.withChain === true ? '--with-chain' : '--intermediates';
    throw new SignerError('USAGE', `${flag} is for PKCS#11 tokens: a TPM key file takes no certificate; pass the issued certificate to credential-process with --certificate (and its CAs with --intermediates)`);
  }
  const privateKey = flags.privateKey;
  if (privateKey === undefined || privateKey === '') {
    throw new SignerError('USAGE', 'enroll --tpm needs --private-key FILE (the new TSS2 key file to create) or --private-key handle:0x81000010 (a persistent handle)');
  }
  if (flags.subject === undefined || flags.subject === '') {
    throw new SignerError('USAGE', 'enroll needs --subject "CN=name,O=Organisation" for the certificate request');
  }
  const inHandle = privateKey.startsWith('handle:');
  if (inHandle && flags.persistentHandle !== undefined) {
    throw new SignerError('USAGE', '--private-key handle:... already names the persistent handle: leave out --persistent-handle (or give a key file as --private-key to have both)');
  }
  const persistentHandle = inHandle ? parseHandle(privateKey, '--private-key') : flags.persistentHandle === undefined ? undefined : parseHandle(flags.persistentHandle, '--persistent-handle');
  const parentHandle = flags.parentHandle === undefined ? undefined : parseHandle(flags.parentHandle, '--parent-handle');
  const { parseEnrollKeyType } = await import('../enroll/key-types.js');
  const keyType = parseEnrollKeyType(flags.keyType);
  const report = await import('../enroll/report-tpm.js');
  const { assertOutputIsNew, writeNewRequestFile } = await import('../enroll/report.js');
  // Refuse an existing --out before the TPM is touched, so a rerun never strands a key.
  if (flags.out !== undefined) assertOutputIsNew(flags.out);
  const { enrollTpmKey } = await import('../enroll/enroll-tpm.js');
  const result = await enrollTpmKey({
    ...(inHandle ? {} : { keyFile: privateKey }),
    ...(persistentHandle !== undefined ? { persistentHandle } : {}),
    ...(parentHandle !== undefined ? { parentHandle } : {}),
    keyType,
    subject: flags.subject,
    ...(typeof flags.tpmKeyPassword === 'string' ? { password: { value: flags.tpmKeyPassword } } : {}),
    noPassword: flags.tpmKeyPassword === false,
    ...(flags.tpmTcti !== undefined && flags.tpmTcti !== '' ? { tcti: flags.tpmTcti } : {}),
    debug: debugFor(flags),
    ...(flags.out !== undefined ? { deliver: (pem: string) => writeNewRequestFile(flags.out as string, pem, 'the new TPM key was removed again') } : {}),
  });
  await printEnrollOutcome({ json: flags.json === true, out: flags.out, csrPem: result.csrPem, summary: report.tpmEnrollReport(result, flags.out), format: report.formatTpmEnrollReport });
}

/** `0x81000010` or `handle:0x81000010`, 8 hex digits, as credential-process writes handles. */
function parseHandle(text: string, flag: string): number {
  const digits = text.startsWith('handle:') ? text.slice('handle:'.length) : text;
  if (!/^0x[0-9a-f]{8}$/i.test(digits)) {
    throw new SignerError('USAGE', `${flag} ${text} is not a TPM persistent handle: write 0x81000010 (8 hex digits; handle:0x81000010 in --private-key)`);
  }
  return Number.parseInt(digits, 16);
}
