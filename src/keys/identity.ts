import { SignerError, type SignerErrorCode } from '../errors.js';
import type { DebugLog } from '../debug.js';
import { loadLeafCertificate, loadIntermediates, describeCertificate } from '../certs/load.js';
import { assembleChain } from '../certs/chain.js';
import { checkLeafCertificate, type RuleViolationCode } from '../certs/rules.js';
import { assertPublicKeyMatchesCertificate } from './match.js';
import { refuseMlDsaCertificate } from './mldsa/hardware.js';
import { keySourceFor } from './registry.js';
import { openKeySource, resolveKeyOptions, type KeyOptions } from './index.js';
import type { KeySource } from './types.js';

/** A key together with the certificate and chain it signs under. */
export interface SigningIdentity {
  readonly source: KeySource;
  readonly certificate: Uint8Array;
  readonly chain: readonly Uint8Array[];
  close(): Promise<void>;
}

export interface IdentityOptions extends KeyOptions {
  /** --intermediates: a PEM bundle; only certificates that issue the leaf are sent. */
  readonly intermediates?: string;
}

/**
 * Opens the key, finds its certificate and chain, and checks, before any network call, what
 * the service would reject: the certificate rules, the validity period, and that the
 * certificate certifies the key's public key (requestCredentials then verifies every real
 * signature against the certificate before sending it). The key stays open (and logged in)
 * until `close`.
 */
export async function openSigningIdentity(options: IdentityOptions, now: Date, debug: DebugLog): Promise<SigningIdentity> {
  const resolved = resolveKeyOptions(options);
  // Certificate files are read before the key is opened: a typo should not cost a PIN entry.
  const leafFromFile = resolved.certificateFile === undefined ? undefined : loadLeafCertificate(resolved.certificateFile);
  const intermediates = options.intermediates === undefined ? [] : loadIntermediates(options.intermediates);

  const mlDsaRefusal = keySourceFor(resolved.spec).mlDsaRefusal;
  // Before the key opens: no PIN prompt or touch for a pairing that cannot work.
  if (mlDsaRefusal !== undefined && leafFromFile !== undefined && resolved.certificateFile !== undefined) refuseMlDsaCertificate(leafFromFile, mlDsaRefusal, resolved.certificateFile);
  debug(`opening ${resolved.spec.kind} key source`);
  const source = await openKeySource(resolved.spec, { debug });
  try {
    debug(`key source ${source.description} (${source.keyType})`);
    const certificate = leafFromFile ?? source.certificate;
    if (certificate === undefined) {
      throw new SignerError('CERT_NOT_FOUND', `no certificate for the key ${source.description}: pass --certificate (a PEM/DER file or a pkcs11: URI)`);
    }
    if (mlDsaRefusal !== undefined) refuseMlDsaCertificate(certificate, mlDsaRefusal, source.description);
    const about = describeCertificate(certificate);
    debug(`certificate ${about.subject}, serial ${about.serialNumberDecimal}, valid ${about.notBefore.toISOString()} to ${about.notAfter.toISOString()}`);
    const violations = checkLeafCertificate(certificate, now);
    const first = violations[0];
    if (first !== undefined) {
      throw new SignerError(errorCodeForViolation(first.code), `certificate ${about.subject} (serial ${about.serialNumberDecimal}) would be rejected by IAM Roles Anywhere: ${first.message}`);
    }
    assertPublicKeyMatchesCertificate(source, certificate);
    debug('public key matches the certificate (each signature is verified against it before it is sent)');
    const chain = assembleChain(certificate, [...intermediates, ...(source.chain ?? [])]);
    debug(`chain: ${chain.length} certificate(s) that issue the leaf`);
    return { source, certificate, chain, close: () => source.close() };
  } catch (error) {
    await source.close().catch(() => {});
    throw error;
  }
}

/** Validity problems keep their own codes (scripts may renew on them); the rest are rule violations. */
function errorCodeForViolation(code: RuleViolationCode): SignerErrorCode {
  switch (code) {
    case 'CERT_EXPIRED':
    case 'CERT_NOT_YET_VALID':
    case 'KEY_TYPE_UNSUPPORTED':
      return code;
    case 'CERT_UNPARSABLE':
      return 'CERT_INVALID';
    default:
      return 'CERT_REJECTED_BY_RULES';
  }
}
