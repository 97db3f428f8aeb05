import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { openFileKeySource } from '../../src/keys/file.js';
import type { FileKeySpec } from '../../src/keys/spec.js';
import { createOpensslPki, generateTestKey, type OpensslCa, type OpensslCertificate, type OpensslPki, type Pkcs12Scheme, type TestKeyKind, type TestKeyPair } from '../helpers/openssl-pki.js';
import { runKeySourceConformance } from './conformance.js';

/**
 * Every file form, for every key type the service accepts, through the shared conformance
 * suite; plus what each form must say about the certificate and chain it carries.
 */
const PASSWORD = 'correct horse ✓ 7Qz';
const KINDS: readonly TestKeyKind[] = ['RSA-2048', 'RSA-3072', 'EC-P256', 'EC-P384'];

interface Form {
  readonly name: string;
  readonly spec: FileKeySpec;
  /** The certificate the source must report, or undefined when the file holds none. */
  readonly certificate?: Uint8Array;
  readonly chain?: readonly Uint8Array[];
}

// One parent test owns the fixture directory: a top-level teardown could run while fixtures
// for the next key type are still being made.
await t.test('file key sources', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'filekeys-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const pki = await createOpensslPki(dir);
  const root = await pki.createCa({ subject: '/CN=File Conformance Root' });
  const intermediate = await pki.createCa({ subject: '/CN=File Conformance Intermediate', issuer: root });

  for (const kind of KINDS) {
    const key = generateTestKey(kind);
    const leaf = await pki.issueLeaf({ subject: `/CN=file ${kind}`, issuer: intermediate, publicKey: key.publicKey });
    const other = await pki.issueLeaf({ subject: `/CN=other ${kind}`, issuer: intermediate, publicKey: generateTestKey(kind).publicKey });
    const forms = await formsFor(pki, key, leaf, other, intermediate, root);
    for (const form of forms) {
      const label = `${kind} ${form.name}`;
      await runKeySourceConformance(t, label, () => openFileKeySource(form.spec), {
        keyType: kind.startsWith('RSA') ? 'RSA' : 'EC',
        certificateDer: leaf.certificateDer,
        otherCertificateDer: other.certificateDer,
        secrets: [PASSWORD],
      });
      await t.test(`${label}: certificate and chain`, async (t) => {
        const source = await openFileKeySource(form.spec);
        try {
          t.equal(source.description, form.spec.keyPath ?? form.spec.certificatePath, 'description is the file path');
          if (form.certificate === undefined) {
            t.equal(source.certificate, undefined, 'no certificate in the file');
            t.equal(source.chain, undefined, 'no chain without a certificate');
          } else {
            t.same(hex(source.certificate), hex(form.certificate), 'certificate is the one issued for the key');
            t.same((source.chain ?? []).map(hex), (form.chain ?? []).map(hex), 'chain holds the issuers only, nearest first, root left out');
          }
        } finally {
          await source.close();
        }
      });
    }
  }
});

async function formsFor(
  pki: OpensslPki,
  key: TestKeyPair,
  leaf: OpensslCertificate,
  other: OpensslCertificate,
  intermediate: OpensslCa,
  root: OpensslCa,
): Promise<Form[]> {
  const stem = join(pki.dir, `${key.kind}`);
  const write = async (name: string, data: string | Uint8Array): Promise<string> => {
    const path = `${stem}-${name}`;
    await writeFile(path, data, { mode: 0o600 });
    return path;
  };
  const withPassword = (keyPath: string): FileKeySpec => ({ kind: 'file', keyPath, password: { value: PASSWORD, promptLabel: 'Password for the private key' } });
  const forms: Form[] = [
    { name: 'PKCS#8 PEM', spec: { kind: 'file', keyPath: await write('pkcs8.pem', key.pkcs8Pem) } },
    { name: 'PKCS#8 DER', spec: { kind: 'file', keyPath: await write('pkcs8.der', key.privateKey.export({ type: 'pkcs8', format: 'der' })) } },
    {
      name: 'encrypted PKCS#8 PEM (node, PBES2 AES-256-CBC)',
      spec: withPassword(await write('enc-node.pem', key.privateKey.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: PASSWORD }))),
    },
    {
      name: 'encrypted PKCS#8 DER (openssl -v2 aes-256-cbc)',
      spec: withPassword(await write('enc-aes.der', await pki.encryptPkcs8({ key, password: PASSWORD, v2: 'aes-256-cbc', outform: 'DER' }))),
    },
    {
      name: 'encrypted PKCS#8 PEM (openssl -v2 des3 -v2prf hmacWithSHA512)',
      spec: withPassword(await write('enc-des3.pem', await pki.encryptPkcs8({ key, password: PASSWORD, v2: 'des3', v2prf: 'hmacWithSHA512', outform: 'PEM' }))),
    },
    {
      name: 'encrypted PKCS#8 PEM (openssl -v1 PBE-SHA1-3DES)',
      spec: withPassword(await write('enc-pbe3des.pem', await pki.encryptPkcs8({ key, password: PASSWORD, v1: 'PBE-SHA1-3DES', outform: 'PEM' }))),
    },
  ];
  if (key.kind.startsWith('RSA')) {
    forms.push(
      { name: 'PKCS#1 PEM', spec: { kind: 'file', keyPath: await write('pkcs1.pem', key.privateKey.export({ type: 'pkcs1', format: 'pem' })) } },
      { name: 'PKCS#1 DER', spec: { kind: 'file', keyPath: await write('pkcs1.der', key.privateKey.export({ type: 'pkcs1', format: 'der' })) } },
    );
  } else {
    forms.push(
      { name: 'SEC1 PEM', spec: { kind: 'file', keyPath: await write('sec1.pem', key.privateKey.export({ type: 'sec1', format: 'pem' })) } },
      { name: 'SEC1 DER', spec: { kind: 'file', keyPath: await write('sec1.der', key.privateKey.export({ type: 'sec1', format: 'der' })) } },
    );
  }

  // What `openssl pkcs12 -nodes` and hand-made bundles look like: explanatory text, CRLF, the
  // leaf not first, an unrelated certificate that must not reach the chain, the root at the end.
  const combined = [
    'Bag Attributes\n    localKeyId: 01\nsubject=/CN=other\n',
    other.certificatePem,
    key.pkcs8Pem,
    leaf.certificatePem,
    intermediate.certificatePem,
    root.certificatePem,
  ].join('').replace(/\n/g, '\r\n');
  forms.push({
    name: 'combined PEM (key + certificates, CRLF)',
    spec: { kind: 'file', keyPath: await write('combined.pem', combined) },
    certificate: leaf.certificateDer,
    chain: [intermediate.certificateDer],
  });
  const encryptedCombined = `${new TextDecoder().decode(await pki.encryptPkcs8({ key, password: PASSWORD, v2: 'aes-256-cbc', outform: 'PEM' }))}${leaf.certificatePem}${intermediate.certificatePem}`;
  forms.push({
    name: 'combined PEM (encrypted key + certificates)',
    spec: withPassword(await write('combined-enc.pem', encryptedCombined)),
    certificate: leaf.certificateDer,
    chain: [intermediate.certificateDer],
  });

  const pkcs12 = async (name: string, password: string, scheme: Pkcs12Scheme): Promise<string> =>
    write(name, await pki.exportPkcs12({ key, certificate: leaf, chain: [intermediate, root], password, scheme }));
  const pkcs12Spec = (certificatePath: string, password?: string): FileKeySpec => ({
    kind: 'file',
    certificatePath,
    ...(password === undefined ? {} : { password: { value: password, promptLabel: 'Password for the PKCS#12 file' } }),
  });
  forms.push(
    { name: 'PKCS#12 AES-256 (OpenSSL 3 default)', spec: pkcs12Spec(await pkcs12('aes.p12', PASSWORD, 'aes'), PASSWORD), certificate: leaf.certificateDer, chain: [intermediate.certificateDer] },
    { name: 'PKCS#12 AES-256, empty password, none given', spec: pkcs12Spec(await pkcs12('aes-empty.p12', '', 'aes')), certificate: leaf.certificateDer, chain: [intermediate.certificateDer] },
    { name: 'PKCS#12 -legacy 3DES', spec: pkcs12Spec(await pkcs12('3des.p12', PASSWORD, 'legacy-3des'), PASSWORD), certificate: leaf.certificateDer, chain: [intermediate.certificateDer] },
    { name: 'PKCS#12 -legacy 3DES, empty password, none given', spec: pkcs12Spec(await pkcs12('3des-empty.p12', '', 'legacy-3des')), certificate: leaf.certificateDer, chain: [intermediate.certificateDer] },
    { name: 'PKCS#12 unencrypted, no MAC', spec: pkcs12Spec(await pkcs12('plain.p12', '', 'unencrypted')), certificate: leaf.certificateDer, chain: [intermediate.certificateDer] },
    { name: 'PKCS#12 without MAC', spec: pkcs12Spec(await pkcs12('nomac.p12', PASSWORD, 'aes-nomac'), PASSWORD), certificate: leaf.certificateDer, chain: [intermediate.certificateDer] },
    {
      name: 'PKCS#12 given as the key path',
      spec: { kind: 'file', keyPath: await pkcs12('as-key.p12', PASSWORD, 'aes'), password: { value: PASSWORD, promptLabel: 'Password' } },
      certificate: leaf.certificateDer,
      chain: [intermediate.certificateDer],
    },
  );
  return forms;
}

function hex(bytes: Uint8Array | undefined): string | undefined {
  return bytes === undefined ? undefined : Buffer.from(bytes).toString('hex');
}
