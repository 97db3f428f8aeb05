import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { AsnConvert } from '@peculiar/asn1-schema';
import { Certificate } from '@peculiar/asn1-x509';
import pkcs11js from 'pkcs11js';
import { silent, type DebugLog } from '../debug.js';
import { SignerError } from '../errors.js';
import { assembleChain } from '../certs/chain.js';
import { parseCertificates } from '../certs/load.js';
import type { SecretIO } from '../keys/secret.js';
import { PIN_ENV_VAR, type Pkcs11KeySpec } from '../keys/spec.js';
import { ecPublicKeyFromAttributes, rsaPublicKeyFromAttributes, samePublicKey } from '../keys/pkcs11/public-key.js';
import { formatPkcs11Uri, parsePkcs11Uri, redactPkcs11Uri } from '../keys/pkcs11/uri.js';
import { deviceError, findObjectHandles, openTokenSession, readAttribute, type TokenSession } from './pkcs11-device.js';

export interface CertificateImportOptions {
  /** pkcs11: URI of the private key the certificate belongs to (object= and/or id=). */
  readonly keyUri: string;
  readonly certificatePath: string;
  /** Also store the certificates after the first in `certificatePath` (the issuing chain of a bundle). */
  readonly withChain?: boolean;
  /** A PEM bundle of intermediate CA certificates to store too. */
  readonly intermediatesPath?: string;
  readonly modulePath?: string;
  readonly pin?: Pkcs11KeySpec['pin'];
  readonly secretIO?: SecretIO;
  readonly debug?: DebugLog;
  readonly readFile?: (path: string) => Buffer;
}

export interface CertificateImportResult {
  readonly certificateUri: string;
  readonly pkcs11Lib: string;
  readonly id: string;
  readonly subject: string;
  readonly serialHex: string;
  readonly notAfter: string;
  /** What became of each chain certificate offered (--with-chain, --intermediates), nearest issuer first. */
  readonly chain: readonly ChainCertificateOutcome[];
}

export interface ChainCertificateOutcome {
  readonly subject: string;
  /** stored: created now; present: the token held it already; skipped: not sent by credential-process, so not stored. */
  readonly outcome: 'stored' | 'present' | 'skipped';
  /** stored: the new object's URI; present and skipped: why nothing was stored. */
  readonly detail: string;
}

/**
 * Stores an issued certificate on the token under the same CKA_ID and label as its private
 * key, the pairing every PKCS#11 consumer (this tool, the reference helper, OpenSSL's pkcs11
 * provider) uses to find one from the other. Checked first: the certificate's public key must
 * be the key's, and the id must hold no certificate yet.
 */
export async function importCertificateToToken(options: CertificateImportOptions): Promise<CertificateImportResult> {
  const debug = options.debug ?? silent;
  const uri = parsePkcs11Uri(options.keyUri);
  if (uri.object === undefined && uri.id === undefined) {
    throw new SignerError('USAGE', `${redactPkcs11Uri(uri)} names no key: add object=NAME or id=%01 (the URI enroll printed)`);
  }
  const read = options.readFile ?? readFileSync;
  const certificates = parseCertificates(read(options.certificatePath), options.certificatePath);
  const der = certificates[0];
  if (der === undefined || (certificates.length > 1 && options.withChain !== true)) {
    throw new SignerError('CERT_INVALID', `${options.certificatePath} holds ${certificates.length} certificates: give a file with only the issued certificate, or add --with-chain to store the rest of the bundle (its issuing CAs) too`);
  }
  const offered = [...certificates.slice(1), ...(options.intermediatesPath === undefined ? [] : parseCertificates(read(options.intermediatesPath), options.intermediatesPath))];
  const certificate = new X509Certificate(der);
  // Only what credential-process would send (certs/chain.ts): the rest is said, not stored.
  const chain = assembleChain(der, offered);
  const skipped = offered.filter((candidate) => !chain.some((member) => Buffer.from(member).equals(candidate)) && !Buffer.from(candidate).equals(der));
  const token = await openTokenSession({
    uri,
    ...(options.modulePath !== undefined ? { modulePath: options.modulePath } : {}),
    pin: options.pin ?? { envVar: PIN_ENV_VAR },
    ...(options.secretIO !== undefined ? { secretIO: options.secretIO } : {}),
  });
  try {
    const key = findPrivateKey(token, uri.object, uri.id);
    debug(`found the private key "${key.label}" (id ${key.id.toString('hex')})`);
    const keyPublic = publicKeyOf(token, key);
    if (!samePublicKey(keyPublic, certificate.publicKey)) {
      const order = certificates.length > 1 ? ' (with --with-chain, the issued certificate comes first in the file)' : '';
      throw new SignerError('CERT_KEY_MISMATCH', `the certificate in ${options.certificatePath} (${rfc4514Subject(certificate)}) is not for the key ${redactPkcs11Uri(uri)}: its public key differs; import the certificate issued for this key's request${order}`);
    }
    const existing = findObjectHandles(token, [{ type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_CERTIFICATE }, { type: pkcs11js.CKA_ID, value: key.id }]);
    if (existing.length > 0) {
      throw new SignerError('PKCS11_OBJECT_EXISTS', `token "${token.token.label}" already holds a certificate with the key's id ${key.id.toString('hex')}: delete it first (pkcs11-tool --delete-object --type cert --id ${key.id.toString('hex')}) if it is to be replaced`);
    }
    // The chain first: should the certificate then fail to store, a rerun finds the CAs present.
    const outcomes: ChainCertificateOutcome[] = chain.map((issuer) => storeChainCertificate(token, issuer, debug));
    storeCertificate(token, der, key.label, key.id, 'storing the certificate');
    for (const other of skipped) {
      const named = describeCandidate(other);
      outcomes.push({ subject: named.subject, outcome: 'skipped', detail: named.selfSigned ? 'a self-signed root: the trust anchor holds it, credential-process never sends it' : 'it does not issue the certificate (or a CA above it)' });
    }
    return {
      certificateUri: formatPkcs11Uri({ ...token.tokenUri, ...(key.label !== '' ? { object: key.label } : {}), type: 'cert', id: key.id }),
      pkcs11Lib: token.modulePath,
      id: key.id.toString('hex'),
      subject: rfc4514Subject(certificate),
      serialHex: certificate.serialNumber.toLowerCase(),
      notAfter: new Date(certificate.validTo).toISOString(),
      chain: outcomes,
    };
  } finally {
    token.close();
  }
}

interface PrivateKeyOnToken {
  readonly handle: Buffer;
  readonly id: Buffer;
  readonly label: string;
  readonly keyType: number;
}

function findPrivateKey(token: TokenSession, label: string | undefined, id: Uint8Array | undefined): PrivateKeyOnToken {
  const template: pkcs11js.Template = [{ type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PRIVATE_KEY }];
  if (label !== undefined) template.push({ type: pkcs11js.CKA_LABEL, value: label });
  if (id !== undefined) template.push({ type: pkcs11js.CKA_ID, value: Buffer.from(id) });
  const found = findObjectHandles(token, template);
  if (found.length !== 1) {
    throw new SignerError(
      found.length === 0 ? 'PKCS11_OBJECT_NOT_FOUND' : 'PKCS11_OBJECT_AMBIGUOUS',
      `${found.length === 0 ? 'no' : found.length} private key${found.length === 1 ? '' : 's'} on token "${token.token.label}" match ${token.where}: give the key URI enroll printed (see \`roles-anywhere-signer list --login\`)`,
    );
  }
  const handle = found[0] as Buffer;
  const keyId = readAttribute(token, handle, pkcs11js.CKA_ID) ?? Buffer.alloc(0);
  if (keyId.length === 0) {
    throw new SignerError('PKCS11_OBJECT_NOT_FOUND', `the private key matching ${token.where} has no CKA_ID, so a certificate cannot be paired with it: enroll a new key`);
  }
  const keyTypeBytes = readAttribute(token, handle, pkcs11js.CKA_KEY_TYPE) ?? Buffer.alloc(4);
  return {
    handle,
    id: keyId,
    label: readAttribute(token, handle, pkcs11js.CKA_LABEL)?.toString('utf8') ?? '',
    keyType: keyTypeBytes.length >= 8 ? Number(keyTypeBytes.readBigUInt64LE(0)) : keyTypeBytes.readUInt32LE(0),
  };
}

/** The key's public half: from its public-key object (same id), else from RSA private attributes. */
function publicKeyOf(token: TokenSession, key: PrivateKeyOnToken): ReturnType<typeof ecPublicKeyFromAttributes> {
  const publicObjects = findObjectHandles(token, [{ type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PUBLIC_KEY }, { type: pkcs11js.CKA_ID, value: key.id }]);
  const holder = publicObjects[0] ?? key.handle;
  if (key.keyType === pkcs11js.CKK_EC) {
    const params = readAttribute(token, holder, pkcs11js.CKA_EC_PARAMS);
    const point = readAttribute(token, holder, pkcs11js.CKA_EC_POINT);
    if (params !== undefined && point !== undefined) return ecPublicKeyFromAttributes(params, point);
  } else if (key.keyType === pkcs11js.CKK_RSA) {
    const modulus = readAttribute(token, holder, pkcs11js.CKA_MODULUS);
    const exponent = readAttribute(token, holder, pkcs11js.CKA_PUBLIC_EXPONENT);
    if (modulus !== undefined && exponent !== undefined) return rsaPublicKeyFromAttributes(modulus, exponent);
  }
  throw new SignerError('PKCS11_OBJECT_NOT_FOUND', `the token does not show the public key of "${key.label}" (id ${key.id.toString('hex')}), so the certificate cannot be checked against it: enroll a new key`);
}

/**
 * A certificate object with the attributes PKCS#11 consumers search by: CKA_SUBJECT (the chain
 * search of credential-process looks issuers up by it, keys/pkcs11/lookup.ts), CKA_ISSUER and
 * CKA_SERIAL_NUMBER; public, so it is found without a login.
 */
function storeCertificate(token: TokenSession, der: Uint8Array, label: string, id: Buffer | undefined, action: string): void {
  const parsed = AsnConvert.parse(der, Certificate);
  try {
    token.lib.C_CreateObject(token.session, [
      { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_CERTIFICATE },
      { type: pkcs11js.CKA_CERTIFICATE_TYPE, value: pkcs11js.CKC_X_509 },
      { type: pkcs11js.CKA_TOKEN, value: true },
      { type: pkcs11js.CKA_PRIVATE, value: false },
      { type: pkcs11js.CKA_LABEL, value: label },
      ...(id !== undefined ? [{ type: pkcs11js.CKA_ID, value: id }] : []),
      { type: pkcs11js.CKA_SUBJECT, value: Buffer.from(AsnConvert.serialize(parsed.tbsCertificate.subject)) },
      { type: pkcs11js.CKA_ISSUER, value: Buffer.from(AsnConvert.serialize(parsed.tbsCertificate.issuer)) },
      { type: pkcs11js.CKA_SERIAL_NUMBER, value: serialNumberDer(parsed.tbsCertificate.serialNumber) },
      { type: pkcs11js.CKA_VALUE, value: Buffer.from(der) },
    ]);
  } catch (cause) {
    throw deviceError(action, token.where, cause);
  }
}

/**
 * An issuing CA certificate, labelled with its CN and stored without a CKA_ID (no key of the
 * token belongs to it), unless the token already holds the very same certificate.
 */
function storeChainCertificate(token: TokenSession, der: Uint8Array, debug: DebugLog): ChainCertificateOutcome {
  const { subject, label } = describeCandidate(der);
  const subjectDer = Buffer.from(AsnConvert.serialize(AsnConvert.parse(der, Certificate).tbsCertificate.subject));
  const sameName = findObjectHandles(token, [{ type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_CERTIFICATE }, { type: pkcs11js.CKA_SUBJECT, value: subjectDer }]);
  const uri = formatPkcs11Uri({ ...token.tokenUri, object: label, type: 'cert' });
  if (sameName.some((handle) => readAttribute(token, handle, pkcs11js.CKA_VALUE)?.equals(der) === true)) {
    debug(`${subject} is on the token already`);
    return { subject, outcome: 'present', detail: 'already on the token' };
  }
  storeCertificate(token, der, label, undefined, `storing the CA certificate ${subject}`);
  debug(`stored ${subject} as ${uri}`);
  return { subject, outcome: 'stored', detail: uri };
}

function describeCandidate(der: Uint8Array): { subject: string; label: string; selfSigned: boolean } {
  const certificate = new X509Certificate(der);
  const subject = rfc4514Subject(certificate);
  const commonName = /(?:^|,)CN=([^,]+)/.exec(subject)?.[1];
  return { subject, label: commonName ?? subject, selfSigned: certificate.subject === certificate.issuer && certificate.verify(certificate.publicKey) };
}

/** CKA_SERIAL_NUMBER is the DER INTEGER of the serial (PKCS#11 2.40 section 4.6.3). */
function serialNumberDer(serial: ArrayBuffer): Buffer {
  const bytes = Buffer.from(serial);
  return Buffer.concat([Buffer.from([0x02, bytes.length]), bytes]);
}

/** Most specific first, as read-certificate-data prints names (node lists them least specific first). */
function rfc4514Subject(certificate: X509Certificate): string {
  return ((certificate.subject as string | undefined) ?? '').split('\n').reverse().join(',');
}
