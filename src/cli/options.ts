import type { Command } from 'commander';
import { Option } from './commander.js';
import { SignerError } from '../errors.js';
import { noticeOnTerminal } from './io.js';
import type { IdentityOptions } from '../keys/identity.js';
import type { SessionOptions } from '../rolesanywhere/session.js';

/** Raw commander values of the flags shared by credential-process, serve and update. */
export interface SigningFlags {
  certificate?: string;
  privateKey?: string;
  intermediates?: string;
  trustAnchorArn?: string;
  profileArn?: string;
  roleArn?: string;
  sessionDuration?: string;
  region?: string;
  endpoint?: string;
  verifySsl?: boolean;
  withProxy?: boolean;
  timeout?: string;
  debug?: boolean;
  roleSessionName?: string;
  pkcs11Lib?: string;
  reusePin?: boolean;
  tpmKeyPassword?: string | false;
  tpmTcti?: string;
  pkcs8Password?: string;
  certSelector?: string;
  systemStoreName?: string;
  useLatestExpiringCertificate?: boolean;
}

/**
 * Flag pairs the reference helper refuses together. Commander stores --tpm-key-password and
 * --no-tpm-key-password in one value (the last wins), so the flags seen are recorded as parsed.
 */
const CONFLICTING_PASSWORD_FLAGS: ReadonlyArray<readonly [string, string, string]> = [
  ['--tpm-key-password', '--no-tpm-key-password', 'give one of them'],
  ['--pkcs8-password', '--tpm-key-password', 'a key is either a PKCS#8/PKCS#12 file or a TPM key: give the password flag of yours'],
];

export function refuseConflictingPasswordFlags(command: Command): Command {
  const given = new Set<string>();
  for (const flag of new Set(CONFLICTING_PASSWORD_FLAGS.flatMap(([first, second]) => [first, second]))) {
    command.on(`option:${flag.slice(2)}`, () => given.add(flag));
  }
  command.hook('preAction', () => {
    const seen = [...given];
    given.clear();
    for (const [first, second, why] of CONFLICTING_PASSWORD_FLAGS) {
      if (seen.includes(first) && seen.includes(second)) throw new SignerError('USAGE', `${first} and ${second} cannot be used together: ${why}`);
    }
  });
  return command;
}

/** The key flags, shared with sign-string. */
export function addKeyOptions(command: Command): Command {
  refuseConflictingPasswordFlags(command);
  return command
    .option('--certificate <path|uri>', 'certificate: PEM/DER file, PKCS#12 file (with no --private-key), or pkcs11: URI')
    .option('--private-key <path|uri>', 'private key: PEM/DER file, pkcs11: URI, handle:0x81000001 (TPM), or a TSS2 PRIVATE KEY file')
    .option('--pkcs11-lib <path>', 'PKCS#11 module to load (default: module-path in the URI, else p11-kit-proxy)')
    .option('--reuse-pin', 'reuse the user PIN for keys that need a login before every signature (YubiKey slot 9c)')
    .option('--tpm-key-password <password>', 'TPM key password (visible in ps; prefer ROLES_ANYWHERE_TPM_KEY_PASSWORD)')
    .option('--no-tpm-key-password', 'the TPM key has no password: do not ask for one')
    .addOption(new Option('--tpm-tcti <tcti>', 'TPM to use: device:/dev/tpmrm0, swtpm:host=H,port=P or unix:/path (default: $ROLES_ANYWHERE_TPM_TCTI, $TPM2TOOLS_TCTI, /dev/tpmrm0)'))
    .option('--pkcs8-password <password>', 'password of an encrypted PKCS#8 key or PKCS#12 file (visible in ps; prefer ROLES_ANYWHERE_PKCS8_PASSWORD)')
    .option('--cert-selector <json|file://path>', 'select a certificate from an OS certificate store (not supported yet)')
    .option('--system-store-name <name>', 'Windows system store name (not supported: Windows only)')
    .option('--use-latest-expiring-certificate', 'pick the certificate that expires last from an OS store (not supported yet)')
    .option('--debug', 'explain each step on stderr (never prints secrets)');
}

/** The credential flags of credential-process, serve and update, as the reference helper has them. */
export function addSigningOptions(command: Command): Command {
  return addKeyOptions(command)
    .option('--intermediates <path>', 'PEM bundle of intermediate CA certificates (only those that issue the leaf are sent)')
    .option('--trust-anchor-arn <arn>', 'ARN of the trust anchor')
    .option('--profile-arn <arn>', 'ARN of the profile')
    .option('--role-arn <arn>', 'ARN of the role to assume')
    .option('--session-duration <seconds>', 'credential lifetime in seconds, 900 to 43200', '3600')
    .option('--region <region>', 'region of the endpoint (default: from the trust anchor ARN)')
    .option('--endpoint <url>', 'CreateSession endpoint (default: https://rolesanywhere.<region>.amazonaws.com)')
    .option('--no-verify-ssl', 'do not verify the endpoint\'s TLS certificate (testing only)')
    .option('--with-proxy', 'send requests through HTTPS_PROXY/HTTP_PROXY (NO_PROXY honoured)')
    .option('--timeout <seconds>', 'most seconds one CreateSession call may take, retries included, 1 to 300 (default 20)')
    .option('--role-session-name <name>', 'role session name (the profile must allow it)');
}

/**
 * Flag values only: the environment defaults (ROLES_ANYWHERE_PIN, the password variables, the
 * TCTI variables) are applied by the library, once, so that library users get them too and
 * messages can name the variable a value came from.
 */
export function identityOptionsFrom(flags: SigningFlags): IdentityOptions {
  rejectUnsupportedStoreFlags(flags);
  return {
    ...(flags.certificate !== undefined ? { certificate: flags.certificate } : {}),
    ...(flags.privateKey !== undefined ? { privateKey: flags.privateKey } : {}),
    ...(flags.intermediates !== undefined ? { intermediates: flags.intermediates } : {}),
    ...(flags.pkcs11Lib !== undefined ? { pkcs11Lib: flags.pkcs11Lib } : {}),
    reusePin: flags.reusePin === true,
    ...(flags.pkcs8Password !== undefined ? { pkcs8Password: { value: flags.pkcs8Password } } : {}),
    ...(typeof flags.tpmKeyPassword === 'string' ? { tpmKeyPassword: { value: flags.tpmKeyPassword } } : {}),
    noTpmKeyPassword: flags.tpmKeyPassword === false,
    ...(flags.tpmTcti !== undefined && flags.tpmTcti !== '' ? { tpmTcti: flags.tpmTcti } : {}),
    touchNotice: noticeOnTerminal,
  };
}

/** A missing ARN flag arrives as '': prepareSession (rolesanywhere/session.ts) refuses it, for library callers too. */
export function sessionOptionsFrom(flags: SigningFlags): SessionOptions {
  return {
    trustAnchorArn: flags.trustAnchorArn ?? '',
    profileArn: flags.profileArn ?? '',
    roleArn: flags.roleArn ?? '',
    durationSeconds: parseDuration(flags.sessionDuration ?? '3600'),
    ...(flags.roleSessionName !== undefined ? { roleSessionName: flags.roleSessionName } : {}),
    ...(flags.region !== undefined ? { region: flags.region } : {}),
    ...(flags.endpoint !== undefined ? { endpoint: flags.endpoint } : {}),
    insecureSkipVerify: flags.verifySsl === false,
    withProxy: flags.withProxy === true,
    ...(flags.timeout !== undefined ? { timeoutSeconds: parseTimeout(flags.timeout) } : {}),
  };
}

export function parseTimeout(text: string): number {
  if (!/^\d+(\.\d+)?$/.test(text)) {
    throw new SignerError('USAGE', `--timeout ${JSON.stringify(text)} is not a number of seconds (1 to 300)`);
  }
  return Number(text);
}

export function parseDuration(text: string): number {
  if (!/^\d+$/.test(text)) {
    throw new SignerError('USAGE', `--session-duration ${JSON.stringify(text)} is not a whole number of seconds (900 to 43200)`);
  }
  return Number.parseInt(text, 10);
}

function rejectUnsupportedStoreFlags(flags: SigningFlags): void {
  if (flags.certSelector !== undefined || flags.useLatestExpiringCertificate === true) {
    throw new SignerError('NOT_SUPPORTED', 'OS certificate stores (--cert-selector, --use-latest-expiring-certificate) are not supported yet: pass --certificate and --private-key (a file, pkcs11: URI or TPM key)');
  }
  if (flags.systemStoreName !== undefined) {
    throw new SignerError('NOT_SUPPORTED', '--system-store-name applies to the Windows certificate store, which this tool does not support: pass --certificate and --private-key');
  }
}
