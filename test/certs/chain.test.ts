import { randomBytes, X509Certificate } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { assembleChain, MAX_CHAIN_CERTIFICATES } from '../../src/certs/chain.js';
import { createOpensslPki, generateTestKey, type OpensslCertificate } from '../helpers/openssl-pki.js';

const hex = (c: Uint8Array | OpensslCertificate): string => Buffer.from(c instanceof Uint8Array ? c : c.certificateDer).toString('hex');
const names = (chain: readonly Uint8Array[]): string[] => chain.map((der) => new X509Certificate(der).subject);

await t.test('assembleChain', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'certs-chain-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const pki = await createOpensslPki(dir);
  const leafKey = generateTestKey('EC-P256');

  const root = await pki.createCa({ subject: '/CN=Chain Root' });
  const upper = await pki.createCa({ subject: '/CN=Chain Upper', issuer: root, key: generateTestKey('RSA-2048') });
  const lower = await pki.createCa({ subject: '/CN=Chain Lower', issuer: upper, key: generateTestKey('EC-P384') });
  const leaf = await pki.issueLeaf({ subject: '/CN=chain leaf', issuer: lower, publicKey: leafKey.publicKey });
  const otherRoot = await pki.createCa({ subject: '/CN=Other Root' });
  const unrelated = await pki.createCa({ subject: '/CN=Other Intermediate', issuer: otherRoot });
  const unrelatedLeaf = await pki.issueLeaf({ subject: '/CN=token neighbour', issuer: unrelated, publicKey: generateTestKey('EC-P256').publicKey });

  await t.test('issuers only, nearest first, root left out, whatever the input order', async (t) => {
    const chain = assembleChain(leaf.certificateDer, [root, unrelatedLeaf, upper, otherRoot, lower, unrelated].map((c) => c.certificateDer));
    t.same(chain.map(hex), [lower, upper].map(hex));
    t.same(names(chain), ['CN=Chain Lower', 'CN=Chain Upper']);
  });

  await t.test('unrelated certificates are never included', async (t) => {
    t.same(assembleChain(leaf.certificateDer, [unrelatedLeaf, unrelated, otherRoot].map((c) => c.certificateDer)), []);
    t.same(assembleChain(leaf.certificateDer, []), []);
  });

  await t.test('a gap ends the chain', async (t) => {
    t.same(assembleChain(leaf.certificateDer, [upper.certificateDer, root.certificateDer]), [], 'without the direct issuer nothing is sent');
    t.same(assembleChain(leaf.certificateDer, [lower.certificateDer, root.certificateDer]).map(hex), [hex(lower)], 'the part that connects is sent');
  });

  await t.test('an impostor with the issuer\'s name and key identifier but another key is refused', async (t) => {
    const skid = (await pki.run(['x509', '-in', lower.certificatePath, '-noout', '-ext', 'subjectKeyIdentifier'])).toString().split('\n')[1]?.trim().replace(/:/g, '') ?? '';
    t.match(skid, /^[0-9A-F]{40}$/, 'read the real subjectKeyIdentifier');
    const impostor = await pki.createCa({ subject: '/CN=Chain Lower', issuer: upper, key: generateTestKey('EC-P384'), subjectKeyIdentifierHex: skid });
    t.ok(new X509Certificate(leaf.certificateDer).checkIssued(new X509Certificate(impostor.certificateDer)), 'names and key identifiers alone say the impostor issued the leaf');
    t.same(assembleChain(leaf.certificateDer, [impostor.certificateDer, upper.certificateDer]), [], 'the signature says it did not');
    t.same(assembleChain(leaf.certificateDer, [impostor, lower, upper].map((c) => c.certificateDer)).map(hex), [lower, upper].map(hex), 'the real issuer wins even listed after the impostor');
  });

  await t.test('the leaf itself, duplicates and unparseable candidates are left out', async (t) => {
    const candidates = [leaf.certificateDer, lower.certificateDer, randomBytes(50), lower.certificateDer, new Uint8Array(0), upper.certificateDer];
    t.same(assembleChain(leaf.certificateDer, candidates).map(hex), [lower, upper].map(hex));
  });

  await t.test('a self-signed leaf, or a leaf issued by the root, has an empty chain', async (t) => {
    t.same(assembleChain(root.certificateDer, [root, upper, lower].map((c) => c.certificateDer)), []);
    const direct = await pki.issueLeaf({ subject: '/CN=direct', issuer: root, publicKey: leafKey.publicKey });
    t.same(assembleChain(direct.certificateDer, [root.certificateDer]), []);
  });

  await t.test(`at most ${MAX_CHAIN_CERTIFICATES} certificates, the nearest ones`, async (t) => {
    let issuer = await pki.createCa({ subject: '/CN=Deep Root' });
    const intermediates = [];
    for (let depth = 1; depth <= 7; depth++) {
      issuer = await pki.createCa({ subject: `/CN=Deep ${depth}`, issuer });
      intermediates.push(issuer);
    }
    const deepLeaf = await pki.issueLeaf({ subject: '/CN=deep leaf', issuer, publicKey: leafKey.publicKey });
    const chain = assembleChain(deepLeaf.certificateDer, intermediates.map((c) => c.certificateDer));
    t.equal(MAX_CHAIN_CERTIFICATES, 5);
    t.same(names(chain), ['CN=Deep 7', 'CN=Deep 6', 'CN=Deep 5', 'CN=Deep 4', 'CN=Deep 3']);
  });

  await t.test('cross-certificates: no loop, and the cross-signed form is preferred to the self-signed one', async (t) => {
    const keyA = generateTestKey('EC-P256');
    const keyB = generateTestKey('EC-P256');
    const rootA = await pki.createCa({ subject: '/CN=Cross A', key: keyA });
    const rootB = await pki.createCa({ subject: '/CN=Cross B', key: keyB });
    const aByB = await pki.createCa({ subject: '/CN=Cross A', key: keyA, issuer: rootB });
    const bByA = await pki.createCa({ subject: '/CN=Cross B', key: keyB, issuer: rootA });
    const crossLeaf = await pki.issueLeaf({ subject: '/CN=cross leaf', issuer: rootA, publicKey: leafKey.publicKey });
    t.same(assembleChain(crossLeaf.certificateDer, [aByB, bByA].map((c) => c.certificateDer)).map(hex), [aByB, bByA].map(hex), 'A by B, then B by A, then stop');
    t.same(assembleChain(crossLeaf.certificateDer, [rootA, aByB, rootB].map((c) => c.certificateDer)).map(hex), [hex(aByB)], 'A by B rather than root A; root B left out');
    t.same(assembleChain(crossLeaf.certificateDer, [rootA.certificateDer]), [], 'only the self-signed root: nothing to send');
  });

  await t.test('an unparseable leaf is an error', async (t) => {
    let caught: { code?: string; message?: string } = {};
    try {
      assembleChain(randomBytes(30), [lower.certificateDer]);
    } catch (error) {
      caught = error as typeof caught;
    }
    t.equal(caught.code, 'CERT_INVALID');
    t.equal(caught.message, 'the leaf certificate is not a valid X.509 certificate: pass a PEM or DER certificate');
  });
});
