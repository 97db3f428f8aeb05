import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import pkcs11js from 'pkcs11js';
import { openPkcs11KeySource, type Pkcs11SourceOptions } from '../../../src/keys/pkcs11/source.js';
import type { SecretIO } from '../../../src/keys/secret.js';
import type { Pkcs11KeySpec } from '../../../src/keys/spec.js';
import type { KeySource } from '../../../src/keys/types.js';
import { runKeySourceConformance } from '../conformance.js';
import { buildSoftHsmFixture, storeRawCertificate } from './softhsm-fixture.js';
import { failure, recordingIO, verifiesWithCertificate } from './support.js';

const fixture = await buildSoftHsmFixture(t);
const { tokenUri, pin } = fixture;
const certUri = (name: string, id: string): string => `${tokenUri};object=${name};type=cert;id=%${id}`;
const keyUri = (name: string, id: string): string => `${tokenUri};object=${name};type=private;id=%${id}`;

function spec(overrides: Partial<Pkcs11KeySpec>): Pkcs11KeySpec {
  return { kind: 'pkcs11', modulePath: fixture.module, pin: { value: pin }, reusePin: false, ...overrides };
}

async function open(overrides: Partial<Pkcs11KeySpec>, options: Pkcs11SourceOptions = {}): Promise<KeySource> {
  return openPkcs11KeySource(spec(overrides), { secretIO: recordingIO().io, ...options });
}

const conformanceCases = [
  { name: 'ec-p256', keyType: 'EC', other: 'always-auth' },
  { name: 'ec-p384', keyType: 'EC', other: 'ec-p256' },
  { name: 'rsa-2048', keyType: 'RSA', other: 'rsa-3072' },
  { name: 'rsa-3072', keyType: 'RSA', other: 'rsa-2048' },
] as const;

for (const c of conformanceCases) {
  await runKeySourceConformance(t, `SoftHSM ${c.name}`, () => open({ certificateUri: `pkcs11:token=${fixture.tokenLabel};object=${c.name};type=cert` }), {
    keyType: c.keyType,
    certificateDer: fixture.key(c.name).certificate,
    otherCertificateDer: fixture.key(c.other).certificate,
    secrets: [pin],
  });
}

await runKeySourceConformance(t, 'SoftHSM always-authenticate key, --reuse-pin', () => open({ certificateUri: `pkcs11:token=${fixture.tokenLabel};object=always-auth`, reusePin: true }), {
  keyType: 'EC',
  certificateDer: fixture.key('always-auth').certificate,
  otherCertificateDer: fixture.key('ec-p256').certificate,
  secrets: [pin],
});

t.test('an always-authenticate key without --reuse-pin reads the PIN source before every signature', async (t) => {
  const { io, reads } = recordingIO({ ROLES_ANYWHERE_PIN: pin });
  const source = await openPkcs11KeySource(spec({ certificateUri: `pkcs11:token=${fixture.tokenLabel};object=always-auth`, pin: { envVar: 'ROLES_ANYWHERE_PIN' } }), { secretIO: io });
  const message = Buffer.from('two signatures, two context logins');
  for (let i = 0; i < 2; i++) {
    t.ok(verifiesWithCertificate(source.keyType, fixture.key('always-auth').certificate, message, await source.sign(message)), `signature ${i + 1} verifies`);
  }
  t.same(reads, [], 'the environment is no terminal, file or command: nothing else was read');
  // Closed, so that the next source needs a login of its own (logins are per token, per process).
  await source.close();

  const pinFile = join(fixture.dir, 'always-auth-pin');
  await writeFile(pinFile, pin);
  const fromUri = recordingIO();
  const viaUri = await openPkcs11KeySource(spec({ certificateUri: `pkcs11:token=${fixture.tokenLabel};object=always-auth?pin-source=file:${pinFile}`, pin: {} }), { secretIO: fromUri.io });
  t.teardown(() => viaUri.close());
  for (let i = 0; i < 2; i++) await viaUri.sign(message);
  t.same(fromUri.reads, [`file:${pinFile}`, `file:${pinFile}`, `file:${pinFile}`], 'the URI\'s pin-source: once for the login, once per signature');
});

t.test('with a key URI alone the key is found and signs; no certificate or chain is claimed', async (t) => {
  const source = await open({ keyUri: `pkcs11:token=${fixture.tokenLabel};object=rsa-2048` });
  t.teardown(() => source.close());
  t.equal(source.certificate, undefined);
  t.equal(source.chain, undefined);
  t.equal(source.keyType, 'RSA');
  t.equal(source.description, keyUri('rsa-2048', '03'));
  const message = Buffer.from('key only');
  t.ok(verifiesWithCertificate(source.keyType, fixture.key('rsa-2048').certificate, message, await source.sign(message)));
});

t.test('the chain holds the intermediate that issued the leaf, never the unrelated CA or the attestation certificate', async (t) => {
  const source = await open({ certificateUri: `pkcs11:token=${fixture.tokenLabel};object=ec-p256;type=cert` });
  t.teardown(() => source.close());
  t.same(source.certificate, fixture.key('ec-p256').certificate, 'the leaf is the one on the token');
  t.same(source.chain, [fixture.intermediateCa], 'exactly the intermediate');
  t.equal(source.description, keyUri('ec-p256', '01'), 'description is the key URI, without PIN');
});

t.test('PIN sources: URI pin-value, URI pin-source file and command, environment', async (t) => {
  const pinFile = join(fixture.dir, 'pin.txt');
  await writeFile(pinFile, `${pin}\n`, { mode: 0o600 });
  const cases: [string, Partial<Pkcs11KeySpec>, Record<string, string>, string[]][] = [
    ['pin-value', { certificateUri: `pkcs11:token=${fixture.tokenLabel};object=ec-p256;type=cert?pin-value=${pin}`, pin: {} }, {}, []],
    ['pin-source=file:', { certificateUri: `pkcs11:token=${fixture.tokenLabel};object=ec-p256;type=cert?pin-source=file:${pinFile}`, pin: {} }, {}, [`file:${pinFile}`]],
    ['pin-source=|command', { certificateUri: `pkcs11:token=${fixture.tokenLabel};object=ec-p256;type=cert?pin-source=%7Ccat%20${encodeURIComponent(pinFile)}`, pin: {} }, {}, [`command:cat ${pinFile}`]],
    ['ROLES_ANYWHERE_PIN (the default variable)', { certificateUri: `pkcs11:token=${fixture.tokenLabel};object=ec-p256;type=cert`, pin: {} }, { ROLES_ANYWHERE_PIN: pin }, []],
    ['the key URI\'s pin-source wins over the certificate URI\'s pin-value', {
      certificateUri: `pkcs11:token=${fixture.tokenLabel};object=ec-p256;type=cert?pin-value=000000`,
      keyUri: `pkcs11:token=${fixture.tokenLabel};object=ec-p256?pin-source=file:${pinFile}`,
      pin: {},
    }, {}, [`file:${pinFile}`]],
  ];
  for (const [name, overrides, env, expectedReads] of cases) {
    const { io, reads } = recordingIO(env);
    const source = await openPkcs11KeySource(spec(overrides), { secretIO: io });
    try {
      const message = Buffer.from(name);
      t.ok(verifiesWithCertificate(source.keyType, fixture.key('ec-p256').certificate, message, await source.sign(message)), `${name}: signs`);
      t.same(reads, expectedReads, `${name}: read exactly that source`);
      t.notOk(source.description.includes(pin), `${name}: description has no PIN`);
    } finally {
      await source.close();
    }
  }
});

t.test('a wrong PIN fails once, with what the token says, and is never retried', async (t) => {
  const { io, reads } = recordingIO();
  const error = await failure(openPkcs11KeySource(spec({ certificateUri: `pkcs11:token=${fixture.tokenLabel};object=ec-p256`, pin: { source: '|echo 999999' } }), { secretIO: io }));
  t.equal(error.code, 'PKCS11_PIN_INCORRECT');
  t.equal(error.message, `wrong PIN for token "${fixture.tokenLabel}" (serial ${fixture.tokenSerial}) (CKR_PIN_INCORRECT; the token reports few tries left): it was not retried; check the PIN and its source, then run again`);
  t.same(reads, ['command:echo 999999'], 'the PIN source was read exactly once: one login attempt');
  t.notMatch(error.message, /999999/);
  // The right PIN still works afterwards: nothing was left logged in or half-open.
  const source = await open({ certificateUri: `pkcs11:token=${fixture.tokenLabel};object=ec-p256` });
  await source.close();
});

t.test('no PIN and no terminal: a clear error at once, never a hang', async (t) => {
  const { io, reads } = recordingIO();
  const error = await failure(openPkcs11KeySource(spec({ certificateUri: `pkcs11:token=${fixture.tokenLabel};object=ec-p256`, pin: { envVar: 'ROLES_ANYWHERE_PIN' } }), { secretIO: io }));
  t.equal(error.code, 'PKCS11_PIN_REQUIRED');
  t.equal(error.message, `PIN for token "${fixture.tokenLabel}" (serial ${fixture.tokenSerial}) is needed but there is no terminal to ask on: set ROLES_ANYWHERE_PIN, add pin-source=file:/path (or pin-source=|command) to the URI, or run from a terminal`);
  t.same(reads, [`prompt:PIN for token "${fixture.tokenLabel}" (serial ${fixture.tokenSerial})`], 'the terminal was tried once');
});

t.test('bad input: one clear line naming the URI without its PIN', async (t) => {
  const notAModule = join(fixture.dir, 'not-a-module.so');
  await writeFile(notAModule, 'this is text, not a shared library\n'.repeat(100));
  const nativeAddon = createRequire(import.meta.url).resolve('pkcs11js/build/Release/pkcs11.node');
  const missing = join(fixture.dir, 'missing.so');
  const cases: [string, Partial<Pkcs11KeySpec>, string, string][] = [
    ['a module that does not exist', { certificateUri: 'pkcs11:object=ec-p256', modulePath: missing }, 'PKCS11_MODULE_LOAD_FAILED',
      `cannot load the PKCS#11 module ${missing} (from --pkcs11-lib): cannot open shared object file: No such file or directory; the file does not exist: check the path`],
    ['a file that is no library', { certificateUri: 'pkcs11:object=ec-p256', modulePath: notAModule }, 'PKCS11_MODULE_LOAD_FAILED',
      `cannot load the PKCS#11 module ${notAModule} (from --pkcs11-lib): invalid ELF header; it is not a loadable PKCS#11 module for this system: check the path and the architecture`],
    ['a library that is not a PKCS#11 module', { certificateUri: 'pkcs11:object=ec-p256', modulePath: nativeAddon }, 'PKCS11_MODULE_LOAD_FAILED',
      `cannot load the PKCS#11 module ${nativeAddon} (from --pkcs11-lib): undefined symbol: C_GetFunctionList; the file is a library but not a PKCS#11 module: pass the vendor's PKCS#11 module (e.g. libykcs11.so, opensc-pkcs11.so, libsofthsm2.so)`],
    ['a malformed URI', { certificateUri: 'pkcs11:object=ec-p256;colour=blue?pin-value=123456' }, 'PKCS11_URI_INVALID',
      '--certificate pkcs11:object=ec-p256;colour=blue?...: invalid pkcs11: URI at position 22: unknown path attribute "colour" (known: token, manufacturer, model, serial, slot-description, slot-manufacturer, slot-id, library-manufacturer, library-description, library-version, object, type, id)'],
    ['a pin-value written in the path', { certificateUri: 'pkcs11:object=ec-p256;pin-value=123456' }, 'PKCS11_URI_INVALID',
      '--certificate pkcs11:object=ec-p256;...: invalid pkcs11: URI at position 22: "pin-value" belongs in the query, after "?" and separated by "&"'],
    ['"&" typed for "?" before a pin-value', { keyUri: `pkcs11:token=${fixture.tokenLabel};object=ec-p256&pin-value=123456` }, 'PKCS11_URI_INVALID',
      `--private-key pkcs11:token=${fixture.tokenLabel};object=ec-p256&...: invalid pkcs11: URI at position ${`pkcs11:token=${fixture.tokenLabel};object=ec-p256&`.length}: "pin-value" belongs in the query, after "?" and separated by "&"`],
    ['a missing token', { certificateUri: 'pkcs11:token=no-such-token;object=ec-p256?pin-value=123456' }, 'PKCS11_TOKEN_NOT_FOUND',
      `no token matches pkcs11:token=no-such-token;object=ec-p256 in ${fixture.module} (present: ${fixture.tokenUri}, ${fixture.otherTokenUri}): plug the token in, or fix token=/serial= in the URI`],
    ['a URI that matches no certificate', { certificateUri: `pkcs11:token=${fixture.tokenLabel};object=nothing-here` }, 'PKCS11_OBJECT_NOT_FOUND',
      `no certificate matches pkcs11:token=${fixture.tokenLabel};object=nothing-here: run \`roles-anywhere-signer list\` to see the certificates on your tokens as URIs`],
    ['a URI that matches two certificates', { certificateUri: `pkcs11:token=${fixture.tokenLabel};id=%01` }, 'PKCS11_OBJECT_AMBIGUOUS',
      `pkcs11:token=${fixture.tokenLabel};id=%01 matches 2 certificates: use one of ${certUri('ec-p256', '01')} or ${certUri('ec-p256-attestation', '01')}`],
    ['a certificate without a key', { certificateUri: `pkcs11:token=${fixture.tokenLabel};object=orphan` }, 'PKCS11_OBJECT_NOT_FOUND',
      `the certificate ${certUri('orphan', '07')} has no private key beside it (no private key with its CKA_ID): pass --private-key pkcs11:... naming its key`],
    ['a key type IAM Roles Anywhere cannot use', { certificateUri: `pkcs11:token=${fixture.tokenLabel};object=ed25519` }, 'KEY_TYPE_UNSUPPORTED',
      `the key ${keyUri('ed25519', '06')} has key type EdDSA (Ed25519/Ed448); IAM Roles Anywhere signs with RSA or EC (ECDSA) keys: use one of those`],
    ['a key URI naming a secret key', { keyUri: `pkcs11:token=${fixture.tokenLabel};object=k;type=secret-key?pin-value=123456` }, 'KEY_TYPE_UNSUPPORTED',
      `--private-key pkcs11:token=${fixture.tokenLabel};object=k;type=secret-key names a secret-key object; signing needs a private key: use type=private, or leave type out`],
    ['a certificate URI naming a private key', { certificateUri: `pkcs11:token=${fixture.tokenLabel};object=ec-p256;type=private` }, 'USAGE',
      `--certificate pkcs11:token=${fixture.tokenLabel};object=ec-p256;type=private names type=private: use type=cert, or leave type out`],
    ['a key that is not the certificate\'s', { certificateUri: `pkcs11:token=${fixture.tokenLabel};object=ec-p256;type=cert`, keyUri: `pkcs11:token=${fixture.tokenLabel};object=rsa-2048` }, 'CERT_KEY_MISMATCH',
      `the private key ${keyUri('rsa-2048', '03')} does not belong to the certificate ${certUri('ec-p256', '01')} (their public keys differ): pass the key that was certified`],
    ['a key URI that matches no key', { keyUri: `pkcs11:token=${fixture.tokenLabel};object=nothing-here` }, 'PKCS11_OBJECT_NOT_FOUND',
      `no private key matches pkcs11:token=${fixture.tokenLabel};object=nothing-here on token "${fixture.tokenLabel}" (serial ${fixture.tokenSerial}) (searched after login): run \`roles-anywhere-signer list --login\` to see the keys as URIs`],
    ['a key URI that names no key, on a token that also holds a key of an unusable type', { keyUri: `pkcs11:token=${fixture.tokenLabel}` }, 'PKCS11_OBJECT_AMBIGUOUS',
      `pkcs11:token=${fixture.tokenLabel} matches 6 private keys: use one of ${([['ec-p256', '01'], ['ec-p384', '02'], ['rsa-2048', '03'], ['rsa-3072', '04'], ['always-auth', '05'], ['ed25519', '06']] as const).map(([name, id]) => keyUri(name, id)).join(' or ')}`],
    ['a key URI that matches two tokens', { keyUri: 'pkcs11:object=ec-p256?pin-value=123456' }, 'PKCS11_OBJECT_AMBIGUOUS',
      `--private-key pkcs11:object=ec-p256 matches 2 tokens, and a PIN is only tried on one: add one of ${fixture.tokenUri} or ${fixture.otherTokenUri}`],
    ['no URI at all', {}, 'USAGE',
      'a PKCS#11 key needs --private-key pkcs11:... or --certificate pkcs11:... (the key is then found by the certificate\'s id)'],
  ];
  for (const [name, overrides, code, message] of cases) {
    const error = await failure(open(overrides));
    t.equal(error.code, code, `${name}: code`);
    t.equal(error.message, message, `${name}: message`);
    t.notMatch(error.message, /123456/, `${name}: no PIN in the message`);
  }
});

t.test('every PIN read is zeroed: after the login, after a wrong PIN even with --reuse-pin, and at close when kept', async (t) => {
  // Files without a final newline: readSecret then hands over the very Buffer readFile returned.
  const read: Buffer[] = [];
  const io: SecretIO = {
    ...recordingIO().io,
    readFile: (path) => {
      const buffer = readFileSync(path);
      read.push(buffer);
      return buffer;
    },
  };
  const rightPin = join(fixture.dir, 'pin-to-zero');
  const wrongPin = join(fixture.dir, 'wrong-pin-to-zero');
  await writeFile(rightPin, pin);
  await writeFile(wrongPin, '999999');
  const zeroed = (buffer: Buffer | undefined): boolean => buffer !== undefined && buffer.length > 0 && buffer.every((byte) => byte === 0);
  const certificateUri = `pkcs11:token=${fixture.tokenLabel};object=ec-p256`;

  const wrong = await failure(openPkcs11KeySource(spec({ certificateUri, pin: { source: `file:${wrongPin}` }, reusePin: true }), { secretIO: io }));
  t.equal(wrong.code, 'PKCS11_PIN_INCORRECT');
  t.ok(zeroed(read[0]), 'a wrong PIN read to be kept for --reuse-pin is zeroed when the login fails');

  const once = await openPkcs11KeySource(spec({ certificateUri, pin: { source: `file:${rightPin}` } }), { secretIO: io });
  t.ok(zeroed(read[1]), 'without --reuse-pin the PIN is zeroed right after the login');
  await once.close();

  const kept = await openPkcs11KeySource(spec({ certificateUri, pin: { source: `file:${rightPin}` }, reusePin: true }), { secretIO: io });
  await kept.sign(Buffer.from('signed while the PIN is kept'));
  await kept.close();
  t.ok(zeroed(read[2]), 'the PIN kept for --reuse-pin is zeroed at close');
  t.equal(read.length, 3, 'one read per open');
});

t.test('a certificate object that holds no X.509 certificate is named, with what to do', async (t) => {
  storeRawCertificate(fixture, fixture.otherTokenLabel, { label: 'not-a-certificate', id: '0b', value: Buffer.from('not DER at all') });
  const error = await failure(open({ certificateUri: `pkcs11:token=${fixture.otherTokenLabel};object=not-a-certificate` }));
  t.equal(error.code, 'CERT_INVALID');
  t.equal(error.message, `the certificate object ${fixture.otherTokenUri};object=not-a-certificate;type=cert;id=%0B does not hold a valid X.509 certificate: replace it on the token`);
});

t.test('two sources on one module share it: closing one leaves the other working', async (t) => {
  const first = await open({ certificateUri: `pkcs11:token=${fixture.tokenLabel};object=ec-p256;type=cert` });
  const second = await open({ certificateUri: `pkcs11:token=${fixture.tokenLabel};object=rsa-2048;type=cert` });
  await first.close();
  const message = Buffer.from('still initialized');
  t.ok(verifiesWithCertificate(second.keyType, fixture.key('rsa-2048').certificate, message, await second.sign(message)));
  await second.close();
  const third = await open({ certificateUri: `pkcs11:token=${fixture.tokenLabel};object=ec-p256;type=cert` });
  t.ok(verifiesWithCertificate(third.keyType, fixture.key('ec-p256').certificate, message, await third.sign(message)), 'finalized and initialized again');
  await third.close();
});

t.test('a session that dies is reopened once, with a new login, and the signature goes through', async (t) => {
  const { io, reads } = recordingIO();
  const pinFile = join(fixture.dir, 'pin-for-reopen.txt');
  await writeFile(pinFile, pin);
  const source = await openPkcs11KeySource(spec({ certificateUri: `pkcs11:token=${fixture.tokenLabel};object=ec-p256`, pin: { source: `file:${pinFile}` } }), { secretIO: io });
  t.teardown(() => source.close());
  t.same(reads, [`file:${pinFile}`], 'one PIN read at open');
  const message = Buffer.from('before');
  t.ok(verifiesWithCertificate(source.keyType, fixture.key('ec-p256').certificate, message, await source.sign(message)));
  t.same(reads, [`file:${pinFile}`], 'signing reuses the login');

  // Another handle on the same library (SoftHSM state is per process) closes every session,
  // as a token reset or a card pulled and pushed back would.
  const other = new pkcs11js.PKCS11();
  other.load(fixture.module);
  try {
    other.C_Initialize();
  } catch {
    // CKR_CRYPTOKI_ALREADY_INITIALIZED: the source initialized it
  }
  const slot = other.C_GetSlotList(true).find((s) => other.C_GetTokenInfo(s).label.trim() === fixture.tokenLabel);
  if (slot === undefined) throw new Error('fixture token not found');
  other.C_CloseAllSessions(slot);

  const after = Buffer.from('after the sessions were closed');
  t.ok(verifiesWithCertificate(source.keyType, fixture.key('ec-p256').certificate, after, await source.sign(after)), 'signs after reopening');
  t.same(reads, [`file:${pinFile}`, `file:${pinFile}`], 'one more PIN read, for the new session\'s login');
});

t.test('a URI that names nothing on the token says so without asking for a PIN (a key by its id; a label alone still needs the login)', async (t) => {
  const token = `token "${fixture.tokenLabel}" (serial ${fixture.tokenSerial})`;
  const cases: [string, Partial<Pkcs11KeySpec>, string][] = [
    ['certificate URI', { certificateUri: `pkcs11:token=${fixture.tokenLabel};object=nope` },
      `no certificate matches pkcs11:token=${fixture.tokenLabel};object=nope: run \`roles-anywhere-signer list\` to see the certificates on your tokens as URIs`],
    ['key URI by id', { keyUri: `pkcs11:token=${fixture.tokenLabel};id=%7f` },
      `no key matches pkcs11:token=${fixture.tokenLabel};id=%7F on ${token}: the token shows no certificate or public key with that id, so no PIN was asked; run \`roles-anywhere-signer list\` to see its objects as URIs`],
  ];
  for (const [name, overrides, message] of cases) {
    const { io, reads } = recordingIO();
    const error = await failure(openPkcs11KeySource(spec({ ...overrides, pin: {} }), { secretIO: io }));
    t.equal(error.code, 'PKCS11_OBJECT_NOT_FOUND', `${name}: code`);
    t.equal(error.message, message, `${name}: message`);
    t.same(reads, [], `${name}: no PIN source was read, no prompt shown`);
  }
});

t.test('an empty PIN is refused before it reaches the token', async (t) => {
  const emptyFile = join(fixture.dir, 'empty-pin');
  await writeFile(emptyFile, '\n');
  const token = `token "${fixture.tokenLabel}" (serial ${fixture.tokenSerial})`;
  const typedNothing: SecretIO = { ...recordingIO().io, promptTty: async () => Buffer.alloc(0) };
  const cases: [string, Partial<Pkcs11KeySpec>, SecretIO, string][] = [
    ['Enter at the prompt', { pin: {} }, typedNothing, `the PIN for ${token} is empty (nothing was typed): it was not sent to the token, so no try was used; enter the PIN, or fix the PIN source`],
    ['an empty PIN file', { pin: { source: `file:${emptyFile}` } }, recordingIO().io, `the PIN for ${token} is empty (its source (a file) gave nothing): it was not sent to the token, so no try was used; enter the PIN, or fix the PIN source`],
  ];
  for (const [name, overrides, io, message] of cases) {
    const error = await failure(openPkcs11KeySource(spec({ certificateUri: `pkcs11:token=${fixture.tokenLabel};object=ec-p256`, ...overrides }), { secretIO: io }));
    t.equal(error.code, 'PKCS11_PIN_REQUIRED', `${name}: code`);
    t.equal(error.message, message, `${name}: message`);
  }
  // A wrong PIN would have raised CKF_USER_PIN_COUNT_LOW on SoftHSM; an empty one never got there.
  const source = await open({ certificateUri: `pkcs11:token=${fixture.tokenLabel};object=ec-p256` });
  await source.close();
});
