import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { encodePem } from '../../src/certs/pem.js';
import { openFileKeySource, type FileKeySourceIO } from '../../src/keys/file.js';
import { defaultSecretIO } from '../../src/keys/secret.js';
import type { FileKeySpec } from '../../src/keys/spec.js';
import { createOpensslPki, generateTestKey } from '../helpers/openssl-pki.js';

/** Every way opening a key file can fail, each with its exact code and one-line message. */
const PASSWORD = 'hunter2-Ünïcode-p4ss';
const WRONG = 'not-the-password-9Xq';

async function expectError(t: Test, promise: Promise<unknown>, code: string, message: string, secrets: readonly string[] = [PASSWORD, WRONG]): Promise<void> {
  let caught: unknown;
  try {
    await promise;
  } catch (error) {
    caught = error;
  }
  const error = caught as { code?: string; message?: string } | undefined;
  t.equal(error?.code, code, `code ${code}`);
  t.equal(error?.message, message, 'message');
  t.notOk(message.includes('\n'), 'one line');
  let text = '';
  for (let current: unknown = caught; current instanceof Error; current = current.cause) text += `${current.message}\n${current.stack ?? ''}\n`;
  for (const secret of secrets) t.notOk(text.includes(secret), 'no secret in the error or its causes');
}

await t.test('opening key files that cannot be used', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'filekeys-errors-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const pki = await createOpensslPki(dir);
  const root = await pki.createCa({ subject: '/CN=Errors Root' });
  const key = generateTestKey('EC-P256');
  const leaf = await pki.issueLeaf({ subject: '/CN=errors leaf', issuer: root, publicKey: key.publicKey });
  const write = async (name: string, data: string | Uint8Array): Promise<string> => {
    const path = join(dir, name);
    await writeFile(path, data);
    return path;
  };
  const withPassword = (keyPath: string, value = PASSWORD): FileKeySpec => ({ kind: 'file', keyPath, password: { value, promptLabel: 'Password for the private key' } });

  await t.test('missing files', async (t) => {
    const missing = join(dir, 'nope.pem');
    await expectError(t, openFileKeySource({ kind: 'file', keyPath: missing }), 'KEY_NOT_FOUND', `private key file ${missing} does not exist: check the --private-key path`);
    await expectError(t, openFileKeySource({ kind: 'file', certificatePath: missing }), 'KEY_NOT_FOUND', `certificate file ${missing} does not exist: check the --certificate path`);
    await expectError(t, openFileKeySource({ kind: 'file', keyPath: dir }), 'KEY_NOT_FOUND', `cannot read private key file ${dir} (EISDIR): check the --private-key path and its permissions`);
    await expectError(t, openFileKeySource({ kind: 'file' }), 'USAGE', 'no key file given: pass --private-key, or --certificate with a PKCS#12 file');
  });

  await t.test('not a key', async (t) => {
    const text = await write('hello.txt', 'hello world\n');
    await expectError(t, openFileKeySource({ kind: 'file', keyPath: text }), 'KEY_INVALID', `private key file ${text} is not a private key in a form this tool reads (PEM or DER: PKCS#8, encrypted PKCS#8, PKCS#1, SEC1; or PKCS#12): pass a private key file`);
    const random = await write('random.der', randomBytes(300));
    await expectError(t, openFileKeySource({ kind: 'file', keyPath: random }), 'KEY_INVALID', `private key file ${random} is not a private key in a form this tool reads (PEM or DER: PKCS#8, encrypted PKCS#8, PKCS#1, SEC1; or PKCS#12): pass a private key file`);
    const certPem = await write('cert.pem', leaf.certificatePem);
    await expectError(t, openFileKeySource({ kind: 'file', keyPath: certPem }), 'KEY_INVALID', `private key file ${certPem} holds certificates but no private key: pass the private key file with --private-key`);
    const certDer = await write('cert.der', leaf.certificateDer);
    await expectError(t, openFileKeySource({ kind: 'file', keyPath: certDer }), 'KEY_INVALID', `private key file ${certDer} holds a certificate, not a private key: pass the private key file with --private-key`);
    const publicPem = await write('public.pem', key.publicKey.export({ type: 'spki', format: 'pem' }));
    await expectError(t, openFileKeySource({ kind: 'file', keyPath: publicPem }), 'KEY_INVALID', `private key file ${publicPem} holds a public key, not a private key: pass the private key file`);
    const publicDer = await write('public.der', key.publicKey.export({ type: 'spki', format: 'der' }));
    await expectError(t, openFileKeySource({ kind: 'file', keyPath: publicDer }), 'KEY_INVALID', `private key file ${publicDer} holds a public key, not a private key: pass the private key file`);
    const tss2 = await write('tpm.pem', encodePem('TSS2 PRIVATE KEY', randomBytes(40)));
    await expectError(t, openFileKeySource({ kind: 'file', keyPath: tss2 }), 'KEY_INVALID', `private key file ${tss2} holds a TSS2 PRIVATE KEY, a key wrapped by a TPM: it needs the TPM key source, not a key file`);
    const openssh = await write('id_ecdsa', encodePem('OPENSSH PRIVATE KEY', randomBytes(40)));
    await expectError(t, openFileKeySource({ kind: 'file', keyPath: openssh }), 'KEY_INVALID', `private key file ${openssh} is an OpenSSH private key: convert it to PKCS#8 with \`ssh-keygen -p -m PKCS8 -f <file>\``);
    const two = await write('two.pem', key.pkcs8Pem + generateTestKey('EC-P256').pkcs8Pem);
    await expectError(t, openFileKeySource({ kind: 'file', keyPath: two }), 'KEY_INVALID', `private key file ${two} holds 2 private keys: keep only the key for your certificate`);
    const truncated = await write('truncated.pem', key.pkcs8Pem.slice(0, key.pkcs8Pem.indexOf('-----END')));
    await expectError(t, openFileKeySource({ kind: 'file', keyPath: truncated }), 'KEY_INVALID', `private key file ${truncated}: PEM block "PRIVATE KEY" that begins on line 1 has no END line: the file is truncated; get a fresh copy`);
    const garbage = await write('garbage.pem', encodePem('PRIVATE KEY', randomBytes(64)));
    await expectError(t, openFileKeySource({ kind: 'file', keyPath: garbage }), 'KEY_INVALID', `private key file ${garbage} holds a damaged PKCS8 private key: get a fresh copy of the file`);
    const badCert = await write('bad-cert.pem', key.pkcs8Pem + encodePem('CERTIFICATE', randomBytes(64)));
    await expectError(t, openFileKeySource({ kind: 'file', keyPath: badCert }), 'KEY_INVALID', `private key file ${badCert}: the CERTIFICATE block that begins on line 6 is not a valid X.509 certificate: the file is damaged; get a fresh copy`);
    await expectError(t, openFileKeySource({ kind: 'file', certificatePath: certPem }), 'USAGE', `certificate file ${certPem} is not a PKCS#12 file and no --private-key was given: pass --private-key with the key file, or a PKCS#12 file as --certificate`);
  });

  await t.test('unsupported key types name what they are', async (t) => {
    const cases: Array<[string, string]> = [
      ['secp256k1.pem', 'an EC key on curve secp256k1: IAM Roles Anywhere accepts P-256 and P-384; use a key on one of those curves'],
      ['p521.pem', 'an EC key on curve P-521: IAM Roles Anywhere accepts P-256 and P-384; use a key on one of those curves'],
      ['ed25519.pem', 'of type Ed25519: IAM Roles Anywhere accepts RSA, EC (P-256, P-384) and ML-DSA (44, 65, 87) keys'],
      ['rsa-pss.pem', 'an RSA-PSS key: IAM Roles Anywhere verifies PKCS#1 v1.5 signatures; use a plain RSA (rsaEncryption) key'],
    ];
    const keys = {
      'secp256k1.pem': generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).privateKey,
      'p521.pem': generateKeyPairSync('ec', { namedCurve: 'secp521r1' }).privateKey,
      'ed25519.pem': generateKeyPairSync('ed25519').privateKey,
      'rsa-pss.pem': generateKeyPairSync('rsa-pss', { modulusLength: 2048 }).privateKey,
    };
    for (const [name, detail] of cases) {
      const path = await write(name, keys[name as keyof typeof keys].export({ type: 'pkcs8', format: 'pem' }));
      await expectError(t, openFileKeySource({ kind: 'file', keyPath: path }), 'KEY_TYPE_UNSUPPORTED', `the private key ${path} is ${detail}`);
    }
    // A well-formed PKCS#8 whose algorithm neither OpenSSL nor this tool knows (SLH-DSA-SHA2-128s).
    // SEQUENCE { INTEGER 0, SEQUENCE { OID 2.16.840.1.101.3.4.3.20 }, OCTET STRING 00000000 }
    const unknown = Buffer.from('3016020100300b0609608648016503040314040400000000', 'hex');
    const path = await write('unknown.der', unknown);
    await expectError(t, openFileKeySource({ kind: 'file', keyPath: path }), 'KEY_TYPE_UNSUPPORTED', `private key file ${path} holds a key of algorithm 2.16.840.1.101.3.4.3.20, which this tool cannot use: IAM Roles Anywhere accepts RSA, EC (P-256, P-384) and ML-DSA (44, 65, 87) keys`);
  });

  await t.test('encrypted PKCS#8: password required, wrong, unsupported', async (t) => {
    const pem = await write('enc.pem', key.privateKey.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: PASSWORD }));
    const der = await write('enc.der', await pki.encryptPkcs8({ key, password: PASSWORD, v2: 'aes-256-cbc', outform: 'DER' }));
    const pbe = await write('enc-3des.pem', await pki.encryptPkcs8({ key, password: PASSWORD, v1: 'PBE-SHA1-3DES', outform: 'PEM' }));
    for (const path of [pem, der, pbe]) {
      await expectError(t, openFileKeySource({ kind: 'file', keyPath: path }), 'KEY_PASSWORD_REQUIRED', `private key file ${path} is encrypted: pass its password with --pkcs8-password or ROLES_ANYWHERE_PKCS8_PASSWORD`);
      await expectError(t, openFileKeySource(withPassword(path, WRONG)), 'KEY_PASSWORD_INCORRECT', `the password for private key file ${path} is incorrect: check the value of --pkcs8-password or ROLES_ANYWHERE_PKCS8_PASSWORD`);
    }
    const rc2 = await write('enc-rc2.pem', await pki.encryptPkcs8({ key, password: PASSWORD, v1: 'PBE-SHA1-RC2-40', outform: 'PEM' }));
    await expectError(t, openFileKeySource(withPassword(rc2)), 'KEY_INVALID', `private key file ${rc2} is encrypted with pbeWithSHAAnd40BitRC2-CBC, which this tool does not support: convert it with \`openssl pkcs8 -topk8 -v2 aes-256-cbc -in <file> -out key.pem\``);
    const scrypt = await write('enc-scrypt.pem', await pki.encryptPkcs8({ key, password: PASSWORD, scrypt: true, outform: 'PEM' }));
    await expectError(t, openFileKeySource(withPassword(scrypt)), 'KEY_INVALID', `private key file ${scrypt} is encrypted with PBES2 with scrypt key derivation, which this tool does not support: convert it with \`openssl pkcs8 -topk8 -v2 aes-256-cbc -in <file> -out key.pem\``);
    // EncryptedPrivateKeyInfo naming PBES2 with an empty parameter SEQUENCE.
    const malformed = await write('enc-malformed.der', Buffer.from(`3021300d06092a864886f70d01050d30000410${'00'.repeat(16)}`, 'hex'));
    await expectError(t, openFileKeySource(withPassword(malformed)), 'KEY_INVALID', `private key file ${malformed}: the encryption parameters are malformed: the file is damaged; get a fresh copy`);
    const legacy = await write('legacy.pem', generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs1', format: 'pem', cipher: 'aes-256-cbc', passphrase: PASSWORD }));
    await expectError(t, openFileKeySource(withPassword(legacy)), 'KEY_INVALID', `private key file ${legacy} uses legacy OpenSSL PEM encryption (DEK-Info), which this tool does not read: convert it with \`openssl pkcs8 -topk8 -v2 aes-256-cbc -in <file> -out key.pem\``);
    // Unencrypted keys never ask for the password, so a prompt cannot appear for nothing.
    const plain = await write('plain.pem', key.pkcs8Pem);
    let asked = false;
    const io: FileKeySourceIO = { readFile: (p) => defaultSecretIO.readFile(p), secretIO: { ...defaultSecretIO, promptTty: async () => { asked = true; return undefined; } } };
    const source = await openFileKeySource({ kind: 'file', keyPath: plain, password: { promptLabel: 'Password for the private key' } }, io);
    await source.close();
    t.notOk(asked, 'no password asked for an unencrypted key');
  });

  await t.test('password from a source the user named, with no terminal to fall back on', async (t) => {
    const pem = await write('enc2.pem', key.privateKey.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: PASSWORD }));
    const io: FileKeySourceIO = { readFile: (p) => defaultSecretIO.readFile(p), secretIO: { ...defaultSecretIO, env: {}, promptTty: async () => undefined } };
    await expectError(t, openFileKeySource({ kind: 'file', keyPath: pem, password: { envVar: 'KEY_PASSWORD', promptLabel: 'Password for the private key' } }, io),
      'KEY_PASSWORD_REQUIRED', 'Password for the private key is needed but there is no terminal to ask on: pass --pkcs8-password');
  });

  await t.test('the password buffer is zeroed after use', async (t) => {
    const pem = await write('enc3.pem', key.privateKey.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: PASSWORD }));
    const p12 = await write('zero.p12', await pki.exportPkcs12({ key, certificate: leaf, password: PASSWORD, scheme: 'legacy-3des' }));
    for (const path of [pem, p12]) {
      const handedOut: Buffer[] = [];
      const io: FileKeySourceIO = {
        readFile: (p) => defaultSecretIO.readFile(p),
        secretIO: { ...defaultSecretIO, readFile: () => { const secret = Buffer.from(PASSWORD, 'utf8'); handedOut.push(secret); return secret; } },
      };
      const spec: FileKeySpec = path === pem
        ? { kind: 'file', keyPath: path, password: { source: 'file:/run/secrets/pw', promptLabel: 'Password' } }
        : { kind: 'file', certificatePath: path, password: { source: 'file:/run/secrets/pw', promptLabel: 'Password' } };
      const source = await openFileKeySource(spec, io);
      await source.close();
      t.equal(handedOut.length, 1, 'password read once');
      t.ok(handedOut.every((b) => b.every((byte) => byte === 0)), `${path.endsWith('.p12') ? 'PKCS#12' : 'PKCS#8'}: password buffer is all zeros`);
    }
  });

  await t.test('PKCS#12: password required, wrong, unsupported, no key', async (t) => {
    const aes = await write('aes.p12', await pki.exportPkcs12({ key, certificate: leaf, password: PASSWORD, scheme: 'aes' }));
    const legacy = await write('3des.p12', await pki.exportPkcs12({ key, certificate: leaf, password: PASSWORD, scheme: 'legacy-3des' }));
    for (const path of [aes, legacy]) {
      await expectError(t, openFileKeySource({ kind: 'file', certificatePath: path }), 'KEY_PASSWORD_REQUIRED', `PKCS#12 file ${path} is protected by a password: pass it with --pkcs8-password or ROLES_ANYWHERE_PKCS8_PASSWORD`);
      await expectError(t, openFileKeySource({ kind: 'file', certificatePath: path, password: { value: WRONG, promptLabel: 'p' } }), 'KEY_PASSWORD_INCORRECT', `the password for PKCS#12 file ${path} is incorrect (MAC check failed): check the value of --pkcs8-password or ROLES_ANYWHERE_PKCS8_PASSWORD`);
    }
    const noMac = await write('nomac.p12', await pki.exportPkcs12({ key, certificate: leaf, password: PASSWORD, scheme: 'aes-nomac' }));
    await expectError(t, openFileKeySource({ kind: 'file', certificatePath: noMac, password: { value: WRONG, promptLabel: 'p' } }), 'KEY_PASSWORD_INCORRECT', `the password for PKCS#12 file ${noMac} is incorrect: check the value of --pkcs8-password or ROLES_ANYWHERE_PKCS8_PASSWORD`);
    await expectError(t, openFileKeySource({ kind: 'file', certificatePath: noMac }), 'KEY_PASSWORD_REQUIRED', `PKCS#12 file ${noMac} is protected by a password: pass it with --pkcs8-password or ROLES_ANYWHERE_PKCS8_PASSWORD`);

    const rc2 = await write('rc2.p12', await pki.exportPkcs12({ key, certificate: leaf, password: PASSWORD, scheme: 'legacy-rc2' }));
    await expectError(t, openFileKeySource({ kind: 'file', certificatePath: rc2, password: { value: PASSWORD, promptLabel: 'p' } }), 'KEY_INVALID', `PKCS#12 file ${rc2} encrypts its certificates with pbeWithSHAAnd40BitRC2-CBC, which this tool does not support: re-export it with \`openssl pkcs12 -export -keypbe AES-256-CBC -certpbe AES-256-CBC\``);

    // Unsupported contents are found before the MAC's key derivation: with a wrong password the
    // answer is still "RC2 unsupported", not "MAC check failed" (which would mean the KDF ran).
    await expectError(t, openFileKeySource({ kind: 'file', certificatePath: rc2, password: { value: WRONG, promptLabel: 'p' } }), 'KEY_INVALID', `PKCS#12 file ${rc2} encrypts its certificates with pbeWithSHAAnd40BitRC2-CBC, which this tool does not support: re-export it with \`openssl pkcs12 -export -keypbe AES-256-CBC -certpbe AES-256-CBC\``);

    // Iteration counts beyond what real files use are refused before any derivation.
    const keyPath = join(dir, 'iter.key.pem');
    await writeFile(keyPath, key.pkcs8Pem);
    const manyMac = join(dir, 'many-mac.p12');
    await pki.run(['pkcs12', '-export', '-inkey', keyPath, '-in', leaf.certificatePath, '-out', manyMac, '-passout', 'pass:x', '-iter', '100001']);
    await expectError(t, openFileKeySource({ kind: 'file', certificatePath: manyMac, password: { value: WRONG, promptLabel: 'p' } }), 'KEY_INVALID', `PKCS#12 file ${manyMac} asks for 100001 MAC iterations, more than the 100000 this tool allows (real files use a few thousand): re-export or convert it with the default settings of openssl`);
    const manyPbkdf2 = join(dir, 'many-pbkdf2.p12');
    await pki.run(['pkcs12', '-export', '-inkey', keyPath, '-in', leaf.certificatePath, '-out', manyPbkdf2, '-passout', 'pass:x', '-iter', '1000001', '-nomac']);
    await expectError(t, openFileKeySource({ kind: 'file', certificatePath: manyPbkdf2, password: { value: WRONG, promptLabel: 'p' } }), 'KEY_INVALID', `PKCS#12 file ${manyPbkdf2} asks for 1000001 PBKDF2 iterations, more than the 1000000 this tool allows (real files use a few thousand): re-export or convert it with the default settings of openssl`);

    const certOnlyPath = join(dir, 'cert-only.p12');
    await pki.run(['pkcs12', '-export', '-nokeys', '-in', leaf.certificatePath, '-out', certOnlyPath, '-passout', 'pass:']);
    await expectError(t, openFileKeySource({ kind: 'file', certificatePath: certOnlyPath }), 'KEY_INVALID', `PKCS#12 file ${certOnlyPath} holds no private key: export it with its key (openssl pkcs12 -export -inkey <key> -in <cert>)`);

    // One flipped bit inside the MAC-protected contents: the MAC catches it (and cannot tell
    // it from a wrong password, so the message is the wrong-password one).
    const damaged = Buffer.from(await readFile(aes));
    const middle = Math.floor(damaged.length / 2);
    damaged.writeUInt8(damaged.readUInt8(middle) ^ 0x01, middle);
    const damagedPath = await write('damaged.p12', damaged);
    await expectError(t, openFileKeySource({ kind: 'file', certificatePath: damagedPath, password: { value: PASSWORD, promptLabel: 'p' } }),
      'KEY_PASSWORD_INCORRECT', `the password for PKCS#12 file ${damagedPath} is incorrect (MAC check failed): check the value of --pkcs8-password or ROLES_ANYWHERE_PKCS8_PASSWORD`);
  });

  await t.test('combined PEM whose certificates do not fit the key', async (t) => {
    const stranger = generateTestKey('EC-P256');
    const path = await write('mismatched.pem', stranger.pkcs8Pem + leaf.certificatePem);
    const source = await openFileKeySource({ kind: 'file', keyPath: path });
    t.equal(source.certificate, undefined, 'no certificate claimed for a key it does not certify');
    t.equal(source.chain, undefined, 'no chain either');
    await source.close();
  });

  await t.test('sign refuses an unknown digest and a closed source', async (t) => {
    const path = await write('sign.pem', key.pkcs8Pem);
    const source = await openFileKeySource({ kind: 'file', keyPath: path });
    await expectError(t, source.sign(Buffer.from('x'), 'MD5' as 'SHA256'), 'USAGE', 'unknown digest MD5: use SHA256, SHA384 or SHA512');
    await source.close();
    await expectError(t, source.sign(Buffer.from('x')), 'INTERNAL', `the key source ${path} is closed: open it again before signing`);
  });
});
