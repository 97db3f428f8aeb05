import { generateKeyPairSync } from 'node:crypto';
import t from 'tap';
import {
  checkIntermediateCertificate,
  checkLeafCertificate,
  checkTrustAnchor,
  describeSignatureAlgorithm,
  inspectCertificate,
  type RuleViolation,
} from '../../src/certs/rules.js';
import {
  createCertificateAuthority,
  generateKeyPair,
  issueLeafCertificate,
  type IssueLeafCertificateOptions,
} from '../../src/emulator/pki.js';

const now = new Date('2030-06-01T12:00:00Z');
const notBefore = new Date('2030-01-01T00:00:00Z');
const notAfter = new Date('2031-01-01T00:00:00Z');

const rsaRoot = await createCertificateAuthority({ subject: 'CN=Rules RSA Root', keyAlgorithm: 'RSA-2048', now });
const ecRoot = await createCertificateAuthority({ subject: 'CN=Rules EC Root', keyAlgorithm: 'EC-P256', now });
const leafKey = generateKeyPair('EC-P256');

function codes(violations: RuleViolation[]): string[] {
  return violations.map((violation) => violation.code);
}

async function leaf(overrides: Partial<IssueLeafCertificateOptions>): Promise<Uint8Array> {
  const issued = await issueLeafCertificate({
    issuer: ecRoot,
    subject: 'CN=rules-leaf',
    publicKey: leafKey.publicKey,
    notBefore,
    notAfter,
    ...overrides,
  });
  return issued.certificateDer;
}

t.test('checkLeafCertificate: one row per rule, exact codes and messages', async (t) => {
  const ed25519 = generateKeyPairSync('ed25519').publicKey;
  const rows: Array<{ name: string; der: Uint8Array; at?: Date; expected: RuleViolation[] }> = [
    { name: 'good EC leaf', der: await leaf({}), expected: [] },
    { name: 'good leaf from an RSA issuer, SHA-384', der: await leaf({ issuer: rsaRoot, signatureHash: 'SHA-384' }), expected: [] },
    { name: 'leaf without basicConstraints is still an end entity', der: await leaf({ basicConstraintsCA: null }), expected: [] },
    {
      name: 'CA:TRUE leaf',
      der: await leaf({ basicConstraintsCA: true }),
      expected: [{ code: 'CERT_IS_CA', message: 'certificate is a CA (basicConstraints CA:TRUE); IAM Roles Anywhere needs an end-entity certificate: issue a leaf' }],
    },
    {
      name: 'keyUsage without digitalSignature',
      der: await leaf({ keyUsage: ['keyEncipherment'] }),
      expected: [{ code: 'KEY_USAGE_NO_DIGITAL_SIGNATURE', message: 'certificate keyUsage lacks digitalSignature; IAM Roles Anywhere signs requests with this key: reissue it with keyUsage=digitalSignature' }],
    },
    {
      name: 'no keyUsage at all',
      der: await leaf({ keyUsage: null }),
      expected: [{ code: 'KEY_USAGE_MISSING', message: 'certificate has no keyUsage extension; IAM Roles Anywhere needs keyUsage with digitalSignature: reissue it with keyUsage=digitalSignature' }],
    },
    {
      name: 'SHA-1 ECDSA signature',
      der: await leaf({ signatureHash: 'SHA-1' }),
      expected: [{ code: 'SIGNATURE_ALGORITHM_WEAK', message: 'certificate is signed with ecdsa-with-SHA1; IAM Roles Anywhere rejects MD5 and SHA-1 (needs SHA-256 or stronger): reissue it signed with SHA-256' }],
    },
    {
      name: 'SHA-1 RSA signature',
      der: await leaf({ issuer: rsaRoot, signatureHash: 'SHA-1' }),
      expected: [{ code: 'SIGNATURE_ALGORITHM_WEAK', message: 'certificate is signed with sha1WithRSAEncryption; IAM Roles Anywhere rejects MD5 and SHA-1 (needs SHA-256 or stronger): reissue it signed with SHA-256' }],
    },
    {
      name: 'MD5 RSA signature',
      der: await leaf({ issuer: rsaRoot, signatureHash: 'MD5' }),
      expected: [{ code: 'SIGNATURE_ALGORITHM_WEAK', message: 'certificate is signed with md5WithRSAEncryption; IAM Roles Anywhere rejects MD5 and SHA-1 (needs SHA-256 or stronger): reissue it signed with SHA-256' }],
    },
    {
      name: 'empty subject',
      der: await leaf({ subject: '' }),
      expected: [{ code: 'SUBJECT_EMPTY', message: 'certificate subject is empty; IAM Roles Anywhere needs a subject (it maps it to session tags): reissue it with e.g. CN=<name>' }],
    },
    {
      name: 'X.509 v1 (no extensions: version is the only finding)',
      der: await leaf({ x509Version: 1 }),
      expected: [{ code: 'CERT_NOT_V3', message: 'certificate is X.509 v1; IAM Roles Anywhere needs X.509 v3 (with extensions): reissue it as v3' }],
    },
    {
      name: 'Ed25519 key',
      der: await leaf({ publicKey: ed25519 }),
      expected: [{ code: 'KEY_TYPE_UNSUPPORTED', message: 'certificate key is Ed25519; IAM Roles Anywhere accepts RSA, EC and ML-DSA keys: reissue it for such a key' }],
    },
    {
      name: 'expired',
      der: await leaf({}),
      at: new Date('2031-01-01T00:00:01Z'),
      expected: [{ code: 'CERT_EXPIRED', message: 'certificate expired at 2031-01-01T00:00:00Z (now 2031-01-01T00:00:01Z); renew it' }],
    },
    {
      name: 'not yet valid',
      der: await leaf({}),
      at: new Date('2029-12-31T23:59:59Z'),
      expected: [{ code: 'CERT_NOT_YET_VALID', message: 'certificate is not valid before 2030-01-01T00:00:00Z (now 2029-12-31T23:59:59Z); check the clock, or wait until it is valid' }],
    },
    {
      name: 'not a certificate',
      der: new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x01]),
      expected: [{ code: 'CERT_UNPARSABLE', message: 'certificate is not a DER X.509 certificate; pass a PEM or DER certificate file' }],
    },
  ];
  for (const row of rows) {
    t.same(checkLeafCertificate(row.der, row.at ?? now), row.expected, row.name);
  }
});

t.test('checkLeafCertificate reports every violation at once', async (t) => {
  const der = await leaf({ basicConstraintsCA: true, keyUsage: ['keyCertSign'], signatureHash: 'SHA-1', subject: '' });
  t.same(codes(checkLeafCertificate(der, new Date('2032-01-01T00:00:00Z'))), [
    'CERT_IS_CA',
    'KEY_USAGE_NO_DIGITAL_SIGNATURE',
    'SIGNATURE_ALGORITHM_WEAK',
    'SUBJECT_EMPTY',
    'CERT_EXPIRED',
  ]);
});

t.test('checkTrustAnchor', async (t) => {
  const rows: Array<{ name: string; der: Uint8Array; expected: RuleViolation[] }> = [
    { name: 'root CA', der: rsaRoot.certificateDer, expected: [] },
    {
      name: 'intermediate as anchor',
      der: (await createCertificateAuthority({ subject: 'CN=Sub', keyAlgorithm: 'EC-P384', issuer: rsaRoot, pathLength: 0 })).certificateDer,
      expected: [],
    },
    {
      name: 'end-entity certificate as anchor',
      der: await leaf({}),
      expected: [
        { code: 'CERT_NOT_CA', message: "trust anchor is not a CA (basicConstraints CA:FALSE); it must have basicConstraints CA:TRUE: use the issuing CA's certificate" },
        { code: 'KEY_USAGE_NO_CERT_SIGN', message: 'trust anchor keyUsage lacks keyCertSign; a CA needs it to issue certificates: reissue the CA with keyUsage=keyCertSign,cRLSign' },
      ],
    },
    {
      name: 'CA without basicConstraints',
      der: (await createCertificateAuthority({ subject: 'CN=NoBC', keyAlgorithm: 'EC-P256', basicConstraintsCA: null })).certificateDer,
      expected: [{ code: 'CERT_NOT_CA', message: "trust anchor is not a CA (no basicConstraints); it must have basicConstraints CA:TRUE: use the issuing CA's certificate" }],
    },
    {
      name: 'CA without keyUsage',
      der: (await createCertificateAuthority({ subject: 'CN=NoKU', keyAlgorithm: 'EC-P256', keyUsage: null })).certificateDer,
      expected: [{ code: 'KEY_USAGE_MISSING', message: 'trust anchor has no keyUsage extension; a CA needs keyUsage with keyCertSign: reissue the CA with keyUsage=keyCertSign,cRLSign' }],
    },
    {
      name: 'X.509 v1 root',
      der: (await createCertificateAuthority({ subject: 'CN=V1', keyAlgorithm: 'RSA-2048', x509Version: 1 })).certificateDer,
      expected: [
        { code: 'CERT_NOT_V3', message: 'certificate is X.509 v1; IAM Roles Anywhere needs X.509 v3 (with extensions): reissue it as v3' },
        { code: 'CERT_NOT_CA', message: "trust anchor is not a CA (no basicConstraints); it must have basicConstraints CA:TRUE: use the issuing CA's certificate" },
      ],
    },
  ];
  for (const row of rows) t.same(checkTrustAnchor(row.der), row.expected, row.name);
});

t.test('checkIntermediateCertificate adds weak signatures and validity', async (t) => {
  const weak = await createCertificateAuthority({ subject: 'CN=Weak', keyAlgorithm: 'EC-P256', issuer: rsaRoot, signatureHash: 'SHA-1', notBefore, notAfter });
  t.same(codes(checkIntermediateCertificate(weak.certificateDer, now)), ['SIGNATURE_ALGORITHM_WEAK']);
  t.same(codes(checkIntermediateCertificate(weak.certificateDer, new Date('2032-01-01T00:00:00Z'))), ['SIGNATURE_ALGORITHM_WEAK', 'CERT_EXPIRED']);
  t.same(codes(checkIntermediateCertificate(await leaf({}), now)), ['CERT_NOT_CA', 'KEY_USAGE_NO_CERT_SIGN']);
});

t.test('inspectCertificate reads what path validation needs', async (t) => {
  const sub = await createCertificateAuthority({ subject: 'CN=Sub', keyAlgorithm: 'EC-P384', issuer: rsaRoot, pathLength: 2 });
  const profile = inspectCertificate(sub.certificateDer);
  t.equal(profile.isCA, true);
  t.equal(profile.pathLength, 2);
  t.equal(profile.keyType, 'EC');
  t.equal(profile.signatureAlgorithm.name, 'sha256WithRSAEncryption');
  t.equal(inspectCertificate(rsaRoot.certificateDer).keyType, 'RSA');
  t.equal(inspectCertificate(rsaRoot.certificateDer).pathLength, undefined);
});

t.test('describeSignatureAlgorithm: RSASSA-PSS hash comes from its parameters, SHA-1 by default', async (t) => {
  t.same(describeSignatureAlgorithm('1.2.840.113549.1.1.10'), { oid: '1.2.840.113549.1.1.10', name: 'RSASSA-PSS with SHA-1', strength: 'weak' });
  // RSASSA-PSS-params { hashAlgorithm [0] sha256 } (other fields default).
  const sha256Params = Buffer.from('3011a00f300d06096086480165030402010500', 'hex');
  t.same(describeSignatureAlgorithm('1.2.840.113549.1.1.10', new Uint8Array(sha256Params).buffer), {
    oid: '1.2.840.113549.1.1.10',
    name: 'RSASSA-PSS with SHA-256',
    strength: 'strong',
  });
  t.same(describeSignatureAlgorithm('1.2.3.4'), { oid: '1.2.3.4', name: '1.2.3.4', strength: 'unknown' });
  t.equal(describeSignatureAlgorithm('constructor').strength, 'unknown');
});
