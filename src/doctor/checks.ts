import { X509Certificate } from 'node:crypto';
import { assembleChain, MAX_CHAIN_CERTIFICATES } from '../certs/chain.js';
import { checkLeafCertificate, checkTrustAnchor, inspectCertificate, type RuleViolationCode } from '../certs/rules.js';
import { validateCertificatePath } from '../emulator/path-validation.js';
import { SignerError } from '../errors.js';
import { parseArn, type ParsedArn } from '../rolesanywhere/arn.js';
import { assertRoleSessionName, assertSessionDuration, assertTimeout } from '../rolesanywhere/session.js';

/**
 * The checks of `doctor`, pure: certificates as DER, the clock and the flags come in, one result
 * per check goes out. The certificate and chain rules are the very functions the emulator
 * enforces (certs/rules.ts, emulator/path-validation.ts), so doctor and the emulator cannot
 * disagree about them.
 */
export type CheckStatus = 'ok' | 'warn' | 'fail';

export interface CheckResult {
  readonly check: string;
  readonly status: CheckStatus;
  /** What was found. */
  readonly detail: string;
  /** What to do, for warn and fail. */
  readonly fix?: string;
}

const DAY_MS = 24 * 60 * 60 * 1000;
/** Fewer days left than this is a warning: time to renew before credentials stop. */
export const RENEW_WARNING_DAYS = 14;

/** Which rule of certs/rules.ts each check line reports, in the order they are printed. */
const LEAF_RULES: ReadonlyArray<readonly [string, readonly RuleViolationCode[], string]> = [
  ['certificate version', ['CERT_NOT_V3', 'CERT_UNPARSABLE'], 'X.509 v3'],
  ['certificate basicConstraints', ['CERT_IS_CA'], 'not a CA'],
  ['certificate keyUsage', ['KEY_USAGE_MISSING', 'KEY_USAGE_NO_DIGITAL_SIGNATURE'], 'includes digitalSignature'],
  ['certificate signature algorithm', ['SIGNATURE_ALGORITHM_WEAK', 'SIGNATURE_ALGORITHM_UNKNOWN'], ''],
  ['certificate key', ['KEY_TYPE_UNSUPPORTED'], ''],
  ['certificate subject', ['SUBJECT_EMPTY'], ''],
];

/** A check that could not pass: a SignerError's message says what to do after its last colon. */
export function failedCheck(check: string, error: unknown): CheckResult {
  if (!(error instanceof SignerError)) throw error;
  const split = error.message.lastIndexOf(': ');
  return split === -1
    ? { check, status: 'fail', detail: error.message }
    : { check, status: 'fail', detail: error.message.slice(0, split), fix: error.message.slice(split + 2) };
}

/** The leaf: one line per service rule, then its validity window and days left. */
export function checkLeaf(leafDer: Uint8Array, now: Date): CheckResult[] {
  const violations = checkLeafCertificate(leafDer, now);
  const unparsable = violations.find((violation) => violation.code === 'CERT_UNPARSABLE');
  if (unparsable !== undefined) return [fromViolation('certificate', unparsable.message)];
  const profile = inspectCertificate(leafDer);
  const certificate = new X509Certificate(leafDer);
  const found: Record<string, string> = {
    'certificate version': `X.509 v${profile.version}`,
    'certificate basicConstraints': profile.isCA === undefined ? 'absent (an end-entity certificate)' : `CA:${String(profile.isCA).toUpperCase()}`,
    'certificate keyUsage': profile.keyUsage === undefined ? 'absent' : 'includes digitalSignature',
    'certificate signature algorithm': profile.signatureAlgorithm.name,
    'certificate key': certificateKeyDescription(certificate),
    'certificate subject': oneLine(certificate.subject) || '(empty)',
  };
  const results: CheckResult[] = LEAF_RULES.map(([check, codes]) => {
    const violation = violations.find((candidate) => codes.includes(candidate.code));
    return violation === undefined ? { check, status: 'ok', detail: found[check] ?? '' } : fromViolation(check, violation.message);
  });
  const validity = violations.find((violation) => violation.code === 'CERT_EXPIRED' || violation.code === 'CERT_NOT_YET_VALID');
  if (validity !== undefined) {
    results.push(fromViolation('certificate validity', validity.message));
  } else {
    const daysLeft = Math.floor((profile.notAfter.getTime() - now.getTime()) / DAY_MS);
    const detail = `valid ${iso(profile.notBefore)} to ${iso(profile.notAfter)} (${daysLeft} days left)`;
    results.push(daysLeft < RENEW_WARNING_DAYS
      ? { check: 'certificate validity', status: 'warn', detail, fix: 'renew the certificate before it expires (enroll a new key, or have your CA reissue it)' }
      : { check: 'certificate validity', status: 'ok', detail });
  }
  results.push({ check: 'certificate serial', status: 'ok', detail: `${BigInt(`0x${certificate.serialNumber}`).toString(10)} (0x${certificate.serialNumber.toLowerCase()})` });
  return results;
}

/**
 * The chain: what would be sent (only certificates that issue the leaf, at most 5) and, given
 * the trust anchor's certificates, whether the path reaches one, by the emulator's own path
 * validation.
 */
export function checkChain(leafDer: Uint8Array, candidates: readonly Uint8Array[], anchors: readonly Uint8Array[] | undefined, now: Date): CheckResult[] {
  const leaf = new X509Certificate(leafDer);
  const chain = assembleChain(leafDer, candidates);
  const results: CheckResult[] = [];
  const names = chain.map((der) => `"${oneLine(new X509Certificate(der).subject)}"`);
  results.push({
    check: 'chain sent',
    status: 'ok',
    detail: chain.length === 0
      ? `no intermediates (the leaf's issuer is "${oneLine(leaf.issuer)}")`
      : `${chain.length} of ${candidates.length} candidate(s), at most ${MAX_CHAIN_CERTIFICATES}: ${names.join(', ')}`,
  });
  if (anchors === undefined) {
    results.push({ check: 'chain trust', status: 'warn', detail: 'not checked: no trust anchor certificates given', fix: 'pass --trust-anchor-certificate with the CA bundle of your trust anchor' });
    return results;
  }
  for (const anchor of anchors) {
    const problems = checkTrustAnchor(anchor);
    if (problems.length > 0) {
      results.push(fromViolation('trust anchor', `"${oneLine(new X509Certificate(anchor).subject)}": ${problems.map((problem) => problem.message).join('; ')}`));
    }
  }
  const path = validateCertificatePath(leafDer, chain, anchors, now);
  if (path.ok) {
    results.push({ check: 'chain trust', status: 'ok', detail: `reaches the trust anchor "${oneLine(new X509Certificate(path.path.at(-1) as Uint8Array).subject)}" in ${path.path.length} step(s)` });
  } else if (path.reason === 'LEAF_REJECTED') {
    results.push({ check: 'chain trust', status: 'warn', detail: 'not checked: the certificate itself is refused (above)', fix: 'fix the certificate first' });
  } else if (path.reason === 'CHAIN_UNTRUSTED') {
    results.push({ check: 'chain trust', status: 'fail', detail: path.detail, fix: 'add the missing issuer to --intermediates (or to the token), or register its CA as the trust anchor' });
  } else {
    results.push(fromViolation('chain trust', path.detail));
  }
  return results;
}

export interface RequestFlags {
  readonly trustAnchorArn?: string;
  readonly profileArn?: string;
  readonly roleArn?: string;
  readonly region?: string;
  /** --session-duration */
  readonly durationSeconds?: number;
  readonly roleSessionName?: string;
  /** --timeout */
  readonly timeoutSeconds?: number;
  /** --no-verify-ssl */
  readonly insecureSkipVerify?: boolean;
}

/**
 * The flags that shape the request, by the rules prepareSession applies (rolesanywhere/session.ts):
 * each is a line, so that all of them are reported, not only the first that is wrong.
 */
export function checkSessionFlags(flags: RequestFlags): CheckResult[] {
  const results: CheckResult[] = [];
  if (flags.durationSeconds !== undefined) {
    const seconds = flags.durationSeconds;
    results.push(ruleCheck('session duration', () => assertSessionDuration(seconds),
      `${seconds} s requested; the profile's own durationSeconds caps it when shorter (credentials last the lesser of the two)`));
  }
  if (flags.roleSessionName !== undefined) {
    const name = flags.roleSessionName;
    results.push(ruleCheck('role session name', () => assertRoleSessionName(name),
      `"${name}"; the profile must accept a role session name (acceptRoleSessionName), else the service answers "Not authorized to set roleSessionName."`));
  }
  if (flags.timeoutSeconds !== undefined) {
    const seconds = flags.timeoutSeconds;
    results.push(ruleCheck('timeout', () => assertTimeout(seconds), `${seconds} s for the whole CreateSession call, retries included`));
  }
  if (flags.insecureSkipVerify === true) {
    results.push({ check: 'tls verification', status: 'warn', detail: 'off (--no-verify-ssl): any endpoint certificate is accepted', fix: 'for test endpoints only: drop --no-verify-ssl and trust the endpoint\'s CA with AWS_CA_BUNDLE instead' });
  }
  return results;
}

/** ok with `detail` when the rule holds; else the rule's own message, split into line and fix. */
function ruleCheck(check: string, assert: () => void, detail: string): CheckResult {
  try {
    assert();
    return { check, status: 'ok', detail };
  } catch (error) {
    if (!(error instanceof SignerError)) throw error;
    // A rule message without "what: what to do" is all advice; the value itself is not echoed.
    return error.message.includes(': ') ? fromViolation(check, error.message) : { check, status: 'fail', detail: 'refused by the service\'s rule', fix: error.message };
  }
}

/** The ARNs: syntax, and the consistency the service requires between them. */
export function checkRequest(flags: RequestFlags): CheckResult[] {
  const results: CheckResult[] = [];
  const parsed: Partial<Record<'trust-anchor' | 'profile' | 'role', ParsedArn>> = {};
  for (const [kind, value, flag] of [['trust-anchor', flags.trustAnchorArn, '--trust-anchor-arn'], ['profile', flags.profileArn, '--profile-arn'], ['role', flags.roleArn, '--role-arn']] as const) {
    if (value === undefined) {
      results.push({ check: `${kind} ARN`, status: 'warn', detail: 'not given', fix: `pass ${flag} to check it` });
      continue;
    }
    try {
      parsed[kind] = parseArn(value, kind);
      results.push({ check: `${kind} ARN`, status: 'ok', detail: value });
    } catch (error) {
      if (!(error instanceof SignerError)) throw error;
      results.push(fromViolation(`${kind} ARN`, error.message));
    }
  }
  const anchor = parsed['trust-anchor'];
  const profile = parsed.profile;
  const role = parsed.role;
  if (anchor !== undefined && profile !== undefined) {
    if (anchor.region !== profile.region) {
      results.push({ check: 'regions', status: 'fail', detail: `the trust anchor is in ${anchor.region} but the profile is in ${profile.region}`, fix: 'use a profile from the trust anchor\'s region' });
    } else if (flags.region !== undefined && flags.region !== anchor.region) {
      results.push({ check: 'regions', status: 'fail', detail: `--region ${flags.region} but the trust anchor and profile are in ${anchor.region}`, fix: `drop --region or set it to ${anchor.region}` });
    } else {
      results.push({ check: 'regions', status: 'ok', detail: `trust anchor and profile in ${anchor.region}` });
    }
  }
  const accounts = [anchor, profile, role].filter((arn): arn is ParsedArn => arn !== undefined);
  if (accounts.length > 1 && new Set(accounts.map((arn) => arn.accountId)).size > 1) {
    results.push({ check: 'accounts', status: 'warn', detail: `the ARNs name different accounts (${[...new Set(accounts.map((arn) => arn.accountId))].join(', ')})`, fix: 'the trust anchor, profile and role normally belong to one account: check you copied the right ARNs' });
  }
  return results;
}

/** Splits a rule message "what: what to do" into the line and its fix. */
function fromViolation(check: string, message: string): CheckResult {
  const split = message.lastIndexOf(': ');
  return split === -1
    ? { check, status: 'fail', detail: message }
    : { check, status: 'fail', detail: message.slice(0, split), fix: message.slice(split + 2) };
}

function certificateKeyDescription(certificate: X509Certificate): string {
  const key = certificate.publicKey;
  const details = key.asymmetricKeyDetails;
  if (key.asymmetricKeyType === 'ec') return `EC ${details?.namedCurve ?? ''}`.trim();
  if (key.asymmetricKeyType === 'rsa') return `RSA ${details?.modulusLength ?? ''}`.trim();
  return key.asymmetricKeyType ?? 'unknown';
}

/**
 * Node prints names one attribute per line, least specific first; RFC 4514 order is the
 * reverse. An empty name comes back as undefined (node 20), though the type says string.
 */
function oneLine(name: string | undefined): string {
  return (name ?? '').split('\n').reverse().join(',');
}

function iso(date: Date): string {
  return date.toISOString().replace(/\.000Z$/, 'Z');
}

/** Exit status: 0 only without a fail. */
export function doctorExitCode(results: readonly CheckResult[]): number {
  return results.some((result) => result.status === 'fail') ? 1 : 0;
}

export function formatCheckResults(results: readonly CheckResult[]): string {
  return results.map((result) => `${result.status.padEnd(4)}  ${result.check}: ${result.detail}${result.fix === undefined ? '' : ` -> ${result.fix}`}\n`).join('');
}
