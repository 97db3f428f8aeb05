import { TPM_KEY_PASSWORD_ENV_VAR } from '../keys/spec.js';
import { handleText, hex8 } from '../keys/tpm/errors.js';
import type { TpmEnrollResult, TpmKeyAttributes } from './enroll-tpm.js';
import { describeEnrollKeyType, type EnrollKeyType } from './key-types.js';
import { shellQuote } from './report.js';

/** What `enroll --tpm` tells the user (and scripts, as JSON): the key to name and what to do next. */
export interface TpmEnrollReport {
  /** What credential-process takes as --private-key: the key file, else handle:0x81... */
  readonly privateKey: string;
  readonly keyFile?: string;
  readonly persistentHandle?: string;
  readonly parent: string;
  readonly keyType: EnrollKeyType;
  readonly passwordProtected: boolean;
  readonly tpm: string;
  readonly attributes: TpmKeyAttributes;
  readonly csrFile?: string;
  readonly csrPem?: string;
  readonly nextSteps: readonly string[];
}

export function tpmEnrollReport(result: TpmEnrollResult, csrFile: string | undefined): TpmEnrollReport {
  const csr = csrFile ?? 'request.pem';
  const privateKey = result.keyFile ?? handleText(result.persistentHandle as number);
  const tcti = result.tcti !== undefined ? ` --tpm-tcti ${shellQuote(result.tcti)}` : '';
  const password = result.passwordProtected ? ` (with ${TPM_KEY_PASSWORD_ENV_VAR} set)` : '';
  const noPassword = result.passwordProtected || result.keyFile !== undefined ? '' : ' --no-tpm-key-password';
  return {
    privateKey,
    ...(result.keyFile !== undefined ? { keyFile: result.keyFile } : {}),
    ...(result.persistentHandle !== undefined ? { persistentHandle: handleText(result.persistentHandle) } : {}),
    parent: hex8(result.parent),
    keyType: result.keyType,
    passwordProtected: result.passwordProtected,
    tpm: result.tpm,
    attributes: result.attributes,
    ...(csrFile !== undefined ? { csrFile } : { csrPem: result.csrPem }),
    nextSteps: [
      `Have your CA issue a certificate for ${csr} (AWS Private CA: aws acm-pca issue-certificate --csr fileb://${csr} ...; a CA that is a Roles Anywhere trust anchor) and save it as cert.pem`,
      `In ~/.aws/config${password}: credential_process = roles-anywhere-signer credential-process --certificate cert.pem --private-key ${shellQuote(privateKey)}${tcti}${noPassword} --trust-anchor-arn ... --profile-arn ... --role-arn ...`,
    ],
  };
}

export function formatTpmEnrollReport(report: TpmEnrollReport): string {
  const where = [report.keyFile !== undefined ? `saved in ${report.keyFile} (mode 0600)` : undefined, report.persistentHandle !== undefined ? `persistent at ${report.persistentHandle}` : undefined]
    .filter((part) => part !== undefined)
    .join(', ');
  const attributes = report.attributes;
  return [
    `Created ${describeEnrollKeyType(report.keyType)} key inside the TPM at ${report.tpm}, ${where}; ${report.passwordProtected ? 'password protected' : 'no password'}`,
    `  fixedTPM ${String(attributes.fixedTPM)}, fixedParent ${String(attributes.fixedParent)} (it cannot be duplicated off this TPM); parent ${report.parent}`,
    `  key: ${report.privateKey}`,
    report.csrFile !== undefined ? `Certificate request written to ${report.csrFile}` : 'Certificate request printed on stdout',
    'Next steps:',
    ...report.nextSteps.map((step, index) => `  ${index + 1}. ${step}`),
    '',
  ].join('\n');
}
