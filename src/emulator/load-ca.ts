/**
 * Loading a certificate authority that already exists on disk (the one `emulate --init DIR`
 * writes, or any CA whose certificate and unencrypted key are PEM files). The check of an
 * `issuer` argument (requireCertificateAuthority) lives in pki.ts, beside the functions that take one.
 */
import { X509Certificate, createPrivateKey, createPublicKey, timingSafeEqual, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { X509Certificate as PeculiarCertificate } from './x509.js';
import { SignerError } from '../errors.js';
import { mlDsaPublicKeyOfPem } from './mldsa.js';
import { certificateSpki } from '../certs/spki.js';
import type { CertificateAuthority, KeyAlgorithm } from './pki.js';

export interface LoadCertificateAuthorityOptions {
  /** File names inside the directory; default `ca.pem` and `ca.key`, as `emulate --init` writes them. */
  readonly certificateFile?: string;
  readonly privateKeyFile?: string;
}

/**
 * The CA in `dir` (`ca.pem` + `ca.key` by default) as a CertificateAuthority, ready to be the
 * `issuer` of issueLeafCertificate() or createCertificateAuthority().
 */
export async function loadCertificateAuthority(dir: string, options: LoadCertificateAuthorityOptions = {}): Promise<CertificateAuthority> {
  const certificatePath = join(dir, options.certificateFile ?? 'ca.pem');
  const keyPath = join(dir, options.privateKeyFile ?? 'ca.key');
  const certificateText = await readPem(certificatePath, 'CA certificate');
  const keyText = await readPem(keyPath, 'CA private key');

  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(certificateText);
  } catch (error) {
    throw new SignerError('CERT_INVALID', `${certificatePath} is not a PEM or DER certificate: pass the CA certificate (ca.pem from emulate --init)`, { cause: error });
  }
  if (!certificate.ca) {
    throw new SignerError('CERT_INVALID', `${certificatePath} is not a CA certificate (basicConstraints CA is not true): pass the certificate of the issuing CA`);
  }
  const certificateDer = new Uint8Array(certificate.raw);
  // node:crypto on Node 20 cannot load ML-DSA keys: an ML-DSA CA (emulate --init --key-type
  // ml-dsa-*) is matched by its SubjectPublicKeyInfo bytes instead.
  const mlDsa = await mlDsaPublicKeyOfPem(keyText);
  if (mlDsa !== undefined) {
    const spki = certificateSpki(certificateDer);
    if (spki === undefined || !timingSafeEqualBytes(spki, mlDsa.spki)) {
      throw new SignerError('CERT_KEY_MISMATCH', `${keyPath} is not the private key of ${certificatePath}: pass the key that belongs to this CA certificate`);
    }
    return authorityOf(certificate, certificateDer, mlDsa.name, keyText.trim() + '\n');
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(keyText);
  } catch (error) {
    throw new SignerError('KEY_INVALID', `${keyPath} is not an unencrypted PEM private key: pass the CA key (ca.key from emulate --init)`, { cause: error });
  }
  if (!certificate.checkPrivateKey(privateKey)) {
    throw new SignerError('CERT_KEY_MISMATCH', `${keyPath} is not the private key of ${certificatePath}: pass the key that belongs to this CA certificate`);
  }
  return authorityOf(certificate, certificateDer, keyAlgorithmOf(createPublicKey(privateKey), keyPath), privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
}

function authorityOf(certificate: X509Certificate, certificateDer: Uint8Array, keyAlgorithm: KeyAlgorithm, privateKeyPem: string): CertificateAuthority {
  return {
    // RFC 4514 form, the same as createCertificateAuthority() takes and writes as issuer names.
    subject: new PeculiarCertificate(certificateDer).subject,
    keyAlgorithm,
    certificatePem: certificate.toString(),
    certificateDer,
    privateKeyPem,
    serialNumberHex: certificate.serialNumber.toLowerCase(),
    notBefore: new Date(certificate.validFrom),
    notAfter: new Date(certificate.validTo),
  };
}

function keyAlgorithmOf(publicKey: KeyObject, keyPath: string): KeyAlgorithm {
  const details = publicKey.asymmetricKeyDetails ?? {};
  if (publicKey.asymmetricKeyType === 'ec') {
    if (details.namedCurve === 'prime256v1') return 'EC-P256';
    if (details.namedCurve === 'secp384r1') return 'EC-P384';
  }
  if (publicKey.asymmetricKeyType === 'rsa') {
    if (details.modulusLength === 2048) return 'RSA-2048';
    if (details.modulusLength === 3072) return 'RSA-3072';
  }
  throw new SignerError('KEY_TYPE_UNSUPPORTED', `${keyPath}: the CA key must be EC P-256, EC P-384, RSA 2048 or RSA 3072`);
}

async function readPem(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    throw new SignerError(what === 'CA certificate' ? 'CERT_NOT_FOUND' : 'KEY_NOT_FOUND', `cannot read the ${what} ${path} (${code}): pass the directory emulate --init wrote`, { cause: error });
  }
}

function timingSafeEqualBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
