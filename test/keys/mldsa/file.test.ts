import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { openFileKeySource } from '../../../src/keys/file.js';
import { defaultSecretIO } from '../../../src/keys/secret.js';
import { encryptPkcs8, mlDsaFixture, pem, pkcs8, tlv, PARAMETER_SETS, type ParameterSetName } from './fixtures.js';

const PASSWORD = 'pq-Pässword-7';

function seedOf(label: string): Uint8Array {
  return createHash('sha256').update(label).digest();
}

async function expectError(t: Test, promise: Promise<unknown>, code: string, message: string): Promise<void> {
  let caught: { code?: string; message?: string } | undefined;
  try {
    await promise;
  } catch (error) {
    caught = error as { code?: string; message?: string };
  }
  t.equal(caught?.code, code, `code ${code}`);
  t.equal(caught?.message, message, 'exact message');
}

const dir = await mkdtemp(join(tmpdir(), 'mldsa-file-'));
t.teardown(() => rm(dir, { recursive: true, force: true }));
const write = async (name: string, data: string | Uint8Array): Promise<string> => {
  const path = join(dir, name);
  await writeFile(path, data, { mode: 0o600 });
  return path;
};

for (const name of Object.keys(PARAMETER_SETS) as ParameterSetName[]) {
  await t.test(`${name}: seed, expandedKey and both forms, PEM, DER and encrypted, sign alike`, async (t) => {
    const fixture = mlDsaFixture(name, seedOf(name));
    const message = Buffer.from(`AWS4-X509-MLDSA\n20260101T000000Z\nstring to sign for ${name}`);
    const expected = Buffer.from(PARAMETER_SETS[name].dsa.sign(message, fixture.expandedKey, { extraEntropy: false }));
    const files: Array<[string, string, string | undefined]> = [
      ['seed PEM', await write(`${name}-seed.pem`, pem('PRIVATE KEY', fixture.seedForm)), undefined],
      ['seed DER', await write(`${name}-seed.der`, fixture.seedForm), undefined],
      ['expandedKey PEM', await write(`${name}-expanded.pem`, pem('PRIVATE KEY', fixture.expandedForm)), undefined],
      ['both PEM', await write(`${name}-both.pem`, pem('PRIVATE KEY', fixture.bothForm)), undefined],
      ['both, encrypted PEM', await write(`${name}-both-enc.pem`, pem('ENCRYPTED PRIVATE KEY', encryptPkcs8(fixture.bothForm, PASSWORD))), PASSWORD],
      ['seed, encrypted DER', await write(`${name}-seed-enc.der`, encryptPkcs8(fixture.seedForm, PASSWORD)), PASSWORD],
    ];
    for (const [form, path, password] of files) {
      const source = await openFileKeySource({
        kind: 'file',
        keyPath: path,
        ...(password === undefined ? {} : { password: { value: password, promptLabel: 'Password for the private key' } }),
      });
      t.equal(source.keyType, 'ML-DSA', `${form}: keyType`);
      t.equal(Buffer.from(source.publicKey.spki).toString('hex'), fixture.spki.toString('hex'), `${form}: publicKey.spki is the key's SubjectPublicKeyInfo`);
      t.equal(source.publicKey.keyObject, undefined, `${form}: no KeyObject on a Node.js without ML-DSA handling`);
      const signature = Buffer.from(await source.sign(message));
      t.equal(signature.length, PARAMETER_SETS[name].dsa.lengths.signature, `${form}: signature length`);
      t.ok(signature.equals(expected), `${form}: the deterministic signature, byte for byte`);
      t.ok(PARAMETER_SETS[name].dsa.verify(signature, message, fixture.publicKey), `${form}: verifies`);
      t.ok(Buffer.from(await source.sign(message, 'SHA512')).equals(expected), `${form}: the digest argument does not apply`);
      await source.close();
      await expectError(t, source.sign(message), 'INTERNAL', `the key source ${path} is closed: open it again before signing`);
    }
  });
}

await t.test('the key file bytes are zeroed once the key is read', async (t) => {
  const fixture = mlDsaFixture('ML-DSA-65', seedOf('zeroing'));
  const bytes = Buffer.from(pem('PRIVATE KEY', fixture.bothForm));
  const source = await openFileKeySource({ kind: 'file', keyPath: '/virtual/key.pem' }, { readFile: () => bytes, secretIO: defaultSecretIO });
  t.ok(bytes.every((byte) => byte === 0), 'every byte of the file buffer is zero');
  await source.close();
});

await t.test('ML-DSA keys that cannot be used: one clear message each', async (t) => {
  const fixture = mlDsaFixture('ML-DSA-65', seedOf('errors'));
  const other = mlDsaFixture('ML-DSA-65', seedOf('other'));
  const cases: Array<[string, Uint8Array, string, (path: string) => string]> = [
    ['seed of 31 bytes', pkcs8('ML-DSA-65', tlv(0x80, fixture.seed.subarray(1))), 'KEY_INVALID',
      (path) => `private key file ${path} holds an ML-DSA-65 seed of 31 bytes; a seed is 32 bytes: get a fresh copy of the file, or make a new key`],
    ['seed of 33 bytes in both', pkcs8('ML-DSA-65', tlv(0x30, Buffer.concat([tlv(0x04, Buffer.concat([fixture.seed, Buffer.from([0])])), tlv(0x04, fixture.expandedKey)]))), 'KEY_INVALID',
      (path) => `private key file ${path} holds an ML-DSA-65 seed of 33 bytes; a seed is 32 bytes: get a fresh copy of the file, or make a new key`],
    ['expanded key of another seed', pkcs8('ML-DSA-65', tlv(0x30, Buffer.concat([tlv(0x04, fixture.seed), tlv(0x04, other.expandedKey)]))), 'KEY_INVALID',
      (path) => `private key file ${path} holds an ML-DSA-65 seed and an expanded key that do not match: the file is damaged or was edited; make a new key`],
    ['expanded key cut short', pkcs8('ML-DSA-65', tlv(0x04, fixture.expandedKey.subarray(0, 4000))), 'KEY_INVALID',
      (path) => `private key file ${path} holds an ML-DSA-65 expanded key of 4000 bytes; it must be 4032: get a fresh copy of the file, or make a new key`],
    ['an ML-DSA-44 expanded key labelled ML-DSA-65', pkcs8('ML-DSA-65', tlv(0x04, mlDsaFixture('ML-DSA-44', seedOf('44')).expandedKey)), 'KEY_INVALID',
      (path) => `private key file ${path} holds an ML-DSA-65 expanded key of 2560 bytes; it must be 4032: get a fresh copy of the file, or make a new key`],
    ['an unknown privateKey CHOICE', pkcs8('ML-DSA-65', tlv(0x02, fixture.seed)), 'KEY_INVALID',
      (path) => `private key file ${path} holds a damaged ML-DSA private key (the privateKey is none of seed, expandedKey or both (tag 0x2)): get a fresh copy of the file, or make a new key`],
    ['parameters in the algorithm identifier', tlv(0x30, Buffer.concat([Buffer.from([0x02, 0x01, 0x00]), tlv(0x30, Buffer.concat([tlv(0x06, Buffer.from(PARAMETER_SETS['ML-DSA-65'].oid)), Buffer.from([0x05, 0x00])])), tlv(0x04, tlv(0x80, fixture.seed))])), 'KEY_INVALID',
      (path) => `private key file ${path} holds a damaged ML-DSA private key (the algorithm identifier has parameters, which ML-DSA forbids): get a fresh copy of the file, or make a new key`],
  ];
  for (const [label, der, code, message] of cases) {
    const path = await write(`bad-${label.replace(/\W+/g, '-')}.pem`, pem('PRIVATE KEY', der));
    await t.test(label, (t) => expectError(t, openFileKeySource({ kind: 'file', keyPath: path }), code, message(path)));
  }
  const truncated = await write('truncated.pem', pem('PRIVATE KEY', fixture.bothForm.subarray(0, 900)));
  await t.test('a truncated file', (t) => expectError(t, openFileKeySource({ kind: 'file', keyPath: truncated }), 'KEY_INVALID',
    `private key file ${truncated} holds a damaged PKCS8 private key: get a fresh copy of the file`));
});

await t.test('the PKI builder reads back the public key of the seed-form keys it writes', async (t) => {
  const { generateMlDsaKeyPair } = await import('../../../src/emulator/pki.js');
  const { mlDsaPublicKeyOfPem } = await import('../../../src/emulator/mldsa.js');
  const pair = await generateMlDsaKeyPair('ML-DSA-44', seedOf('builder'));
  const fixture = mlDsaFixture('ML-DSA-44', seedOf('builder'));
  t.equal(Buffer.from(pair.publicKey).toString('hex'), fixture.spki.toString('hex'), 'the builder\'s SPKI is the one noble derives from the seed');
  const read = await mlDsaPublicKeyOfPem(pair.privateKeyPem);
  t.equal(read?.name, 'ML-DSA-44');
  t.equal(Buffer.from(read?.spki ?? []).toString('hex'), fixture.spki.toString('hex'), 'and it reads the same key back');
  t.equal(await mlDsaPublicKeyOfPem(pem('PRIVATE KEY', fixture.expandedForm)), undefined, 'only the seed form it writes');
  const path = await write('builder.pem', pair.privateKeyPem);
  const source = await openFileKeySource({ kind: 'file', keyPath: path });
  t.equal(Buffer.from(source.publicKey.spki).toString('hex'), fixture.spki.toString('hex'), 'the signer reads the builder\'s key file');
  await source.close();
});
