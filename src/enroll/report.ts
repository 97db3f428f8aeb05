import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { SignerError } from '../errors.js';
import { describeEnrollKeyType, type EnrollKeyType } from './key-types.js';
import type { Pkcs11EnrollResult } from './enroll-pkcs11.js';
import type { CertificateImportResult } from './pkcs11-import.js';

/** What `enroll` tells the user (and scripts, as JSON): where the key is and what to do next. */
export interface EnrollReport {
  readonly keyUri: string;
  readonly pkcs11Lib: string;
  readonly keyType: EnrollKeyType;
  readonly label: string;
  readonly id: string;
  readonly sensitive: boolean | undefined;
  readonly extractable: boolean | undefined;
  readonly csrFile?: string;
  readonly csrPem?: string;
  readonly nextSteps: readonly string[];
}

export function enrollReport(result: Pkcs11EnrollResult, csrFile: string | undefined): EnrollReport {
  const csr = csrFile ?? 'request.pem';
  const lib = shellQuote(result.modulePath);
  return {
    keyUri: result.keyUri,
    pkcs11Lib: result.modulePath,
    keyType: result.keyType,
    label: result.label,
    id: result.idHex,
    sensitive: result.attributes.sensitive,
    extractable: result.attributes.extractable,
    ...(csrFile !== undefined ? { csrFile } : { csrPem: result.csrPem }),
    nextSteps: [
      `Have your CA issue a certificate for ${csr} (AWS Private CA: aws acm-pca issue-certificate --csr fileb://${csr} ...; a CA that is a Roles Anywhere trust anchor)`,
      `Store it next to the key: roles-anywhere-signer enroll --import-certificate cert.pem --private-key ${shellQuote(result.keyUri)} --pkcs11-lib ${lib}`,
      `In ~/.aws/config: credential_process = roles-anywhere-signer credential-process --certificate ${shellQuote(result.keyUri.replace(';type=private', ';type=cert'))} --pkcs11-lib ${lib} --trust-anchor-arn ... --profile-arn ... --role-arn ...`,
    ],
  };
}

export function formatEnrollReport(report: EnrollReport): string {
  return [
    `Generated ${describeEnrollKeyType(report.keyType)} key "${report.label}" (id ${report.id}) inside the token: sensitive ${String(report.sensitive)}, extractable ${String(report.extractable)}`,
    `  key: ${report.keyUri}`,
    report.csrFile !== undefined ? `Certificate request written to ${report.csrFile}` : 'Certificate request printed on stdout',
    'Next steps:',
    ...report.nextSteps.map((step, index) => `  ${index + 1}. ${step}`),
    '',
  ].join('\n');
}

export function formatImportResult(result: CertificateImportResult): string {
  return [
    `Stored the certificate for ${result.subject} (serial ${result.serialHex}, valid until ${result.notAfter}) next to its key, id ${result.id}`,
    `  certificate: ${result.certificateUri}`,
    ...result.chain.map((member) => `  issuing CA ${member.subject}: ${member.outcome === 'stored' ? `stored as ${member.detail}` : member.outcome === 'present' ? member.detail : `not stored: ${member.detail}`}`),
    `Use it: roles-anywhere-signer credential-process --certificate ${shellQuote(result.certificateUri)} --pkcs11-lib ${shellQuote(result.pkcs11Lib)} --trust-anchor-arn ... --profile-arn ... --role-arn ...`,
    '',
  ].join('\n');
}

export function assertOutputIsNew(path: string): void {
  if (existsSync(path)) {
    throw new SignerError('USAGE', `--out ${path} already exists: remove it or name a new file (nothing was generated)`);
  }
}

/**
 * Writes the certificate request whole, or leaves no file: a half-written request would confuse
 * a CA. `undone` says what the caller rolls back when this throws (the new key is removed).
 * A file that appeared meanwhile (EEXIST) is someone else's and is left alone.
 */
export function writeNewRequestFile(path: string, text: string, undone: string): void {
  try {
    writeFileSync(path, text, { flag: 'wx', mode: 0o644 });
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code !== 'EEXIST') rmSync(path, { force: true });
    throw new SignerError('USAGE', `cannot write the certificate request to ${path} (${(cause as NodeJS.ErrnoException).code ?? 'error'}): ${undone}; choose a writable --out and run enroll again`, { cause });
  }
}

/** A word as a shell reads it back: bare when it is safe, else in single quotes. */
export function shellQuote(text: string): string {
  return /^[A-Za-z0-9_./:=%,-]+$/.test(text) ? text : `'${text.replaceAll("'", "'\\''")}'`;
}
