import { execFile } from 'node:child_process';
import { createPrivateKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { openPkcs11KeySource } from '../../../src/keys/pkcs11/source.js';
import type { Pkcs11KeySpec } from '../../../src/keys/spec.js';
import type { ApduRecord, VirtualPivCardOptions } from '../../helpers/virtual-piv-card.js';
import { startVirtualReader, whyVirtualReaderUnavailable, type RemoteCard } from '../../helpers/vpcd-rig.js';
import { runKeySourceConformance } from '../conformance.js';
import { isolatedEnv, runCli } from '../../helpers/cli.js';
import { failure, noTerminal, verifiesWithCertificate } from './support.js';

/**
 * The real libykcs11.so and opensc-pkcs11.so against a virtual YubiKey (test/helpers). One
 * pcscd serves the whole file; opening a session costs seconds (every APDU crosses vpcd's
 * socket), so the tests here are few and share what they can.
 */

function findModule(names: readonly string[]): string | undefined {
  const dirs = ['/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib64', '/usr/lib', '/usr/local/lib'];
  return dirs.flatMap((dir) => names.map((name) => join(dir, name))).find((path) => existsSync(path));
}

interface Identity {
  readonly privateKey: KeyObject;
  readonly certificate: Uint8Array;
}

/** A key and a self-signed certificate for it: PIV only cares that they belong together. */
async function makeIdentity(dir: string, name: string, kind: 'ec' | 'rsa'): Promise<Identity> {
  const { privateKey } = kind === 'ec' ? generateKeyPairSync('ec', { namedCurve: 'prime256v1' }) : generateKeyPairSync('rsa', { modulusLength: 2048 });
  const keyFile = join(dir, `${name}.key`);
  await writeFile(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }));
  const certFile = join(dir, `${name}.der`);
  await promisify(execFile)('openssl', ['req', '-x509', '-new', '-key', keyFile, '-subj', `/CN=${name}`, '-days', '30', '-outform', 'DER', '-out', certFile]);
  return { privateKey: createPrivateKey(await readFile(keyFile)), certificate: new Uint8Array(await readFile(certFile)) };
}

// About 50 s alone (every APDU crosses vpcd's socket), more under a loaded machine or while
// another process holds the one pcscd: more than the suite's default 120 s must be allowed.
t.setTimeout(300_000);

const PIN = '123456';
const pinVerifications = (log: readonly ApduRecord[]): number => log.filter((r) => r.ins === 0x20 && r.dataLength > 0).length;

async function runVirtualYubiKeyTests(ykcs11Path: string): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'ras-vyubikey-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const authentication = await makeIdentity(dir, 'slot-9a', 'ec');
  const signature = await makeIdentity(dir, 'slot-9c', 'ec');
  const keyManagement = await makeIdentity(dir, 'slot-9d', 'rsa');
  const spare = await makeIdentity(dir, 'spare-9a', 'ec');

  const cards: [VirtualPivCardOptions, VirtualPivCardOptions] = [
    {
      serial: 19088743,
      pin: PIN,
      slots: [
        { slot: 0x9a, ...authentication },
        { slot: 0x9c, ...signature },
        { slot: 0x9d, ...keyManagement },
      ],
    },
    // A second YubiKey, there to have its PIN blocked without locking the first one.
    { serial: 19088744, pin: PIN, slots: [{ slot: 0x9a, ...spare }] },
  ];
  const rig = await startVirtualReader(cards);
  t.teardown(() => rig.stop());
  const [main, spareCard] = rig.cards as [RemoteCard, RemoteCard];

  const token = (serial: number): string => `pkcs11:token=YubiKey%20PIV%20%23${serial}`;
  const tokenUri = (serial: number): string => `${token(serial)};manufacturer=Yubico%20(www.yubico.com);model=YubiKey%20YK5;serial=${serial}`;
  const spec = (overrides: Partial<Pkcs11KeySpec>): Pkcs11KeySpec => ({ kind: 'pkcs11', modulePath: ykcs11Path, pin: { value: PIN }, reusePin: false, ...overrides });

  await runKeySourceConformance(t, 'ykcs11 slot 9a (PIN once)', () => openPkcs11KeySource(spec({ certificateUri: `${token(main.serial)};id=%01` }), { secretIO: noTerminal() }), {
    keyType: 'EC',
    certificateDer: authentication.certificate,
    otherCertificateDer: signature.certificate,
    secrets: [PIN],
  });

  await t.test('ykcs11 slot 9c: a VERIFY right before every signature, and a touch notice while the key waits', async (t) => {
    const notices: string[] = [];
    const source = await openPkcs11KeySource(spec({ certificateUri: `${token(main.serial)};id=%02`, reusePin: true, touchNotice: (message) => notices.push(message) }), { secretIO: noTerminal(), touchNoticeAfterMs: 500 });
    t.teardown(() => source.close());
    t.equal(source.description, `${tokenUri(main.serial)};object=Private%20key%20for%20Digital%20Signature;type=private;id=%02`);

    const before = (await main.log()).length;
    for (const text of ['first', 'second']) {
      const message = Buffer.from(text);
      t.ok(verifiesWithCertificate('EC', signature.certificate, message, await source.sign(message)), `${text} signature verifies`);
    }
    const exchanges = (await main.log()).slice(before);
    const signs = exchanges.map((record, index) => ({ record, index })).filter(({ record }) => record.ins === 0x87 && record.status === 0x9000);
    t.equal(signs.length, 2, 'two signatures on the card');
    for (const { index } of signs) {
      const previous = exchanges[index - 1];
      t.ok(previous?.ins === 0x20 && previous.dataLength === 8 && previous.status === 0x9000, 'the command before each signature is a successful VERIFY with the PIN');
    }
    t.same(notices, [], 'no notice for a quick signature');

    await main.setTouchDelay(1500);
    t.teardown(() => main.setTouchDelay(0));
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 50);
    const message = Buffer.from('touch me');
    const touched = await source.sign(message);
    clearInterval(ticker);
    t.ok(verifiesWithCertificate('EC', signature.certificate, message, touched), 'the slow signature verifies');
    t.same(notices, [`touch your key: token "YubiKey PIV #${main.serial}" (serial ${main.serial}) is waiting for a touch to sign`], 'one notice while waiting');
    t.ok(ticks >= 10, `the event loop kept running while the card waited (${ticks} ticks)`);
  });

  await t.test('ykcs11 slot 9d: RSA 2048, PKCS#1 v1.5', async (t) => {
    const source = await openPkcs11KeySource(spec({ certificateUri: `${token(main.serial)};id=%03` }), { secretIO: noTerminal() });
    t.teardown(() => source.close());
    t.equal(source.keyType, 'RSA');
    const before = (await main.log()).length;
    const message = Buffer.from('rsa on a virtual card');
    t.ok(verifiesWithCertificate('RSA', keyManagement.certificate, message, await source.sign(message)));
    t.ok((await main.log()).slice(before).some((r) => r.ins === 0x87 && r.p1 === 0x07 && r.p2 === 0x9d && (r.status === 0x9000 || r.status >> 8 === 0x61)), 'the card made an RSA 2048 signature with slot 9d (answered in parts: 61xx)');
  });

  await t.test('a wrong PIN costs one try per run, the tries left are reported, and a blocked PIN is never tried', async (t) => {
    const wrong = spec({ certificateUri: `${token(spareCard.serial)};id=%01`, pin: { value: '000000' } });
    const tokenName = `token "YubiKey PIV #${spareCard.serial}" (serial ${spareCard.serial})`;
    const expected = [
      ['PKCS11_PIN_INCORRECT', `wrong PIN for ${tokenName} (CKR_PIN_INCORRECT; the token reports few tries left): it was not retried; check the PIN and its source, then run again`],
      ['PKCS11_PIN_INCORRECT', `wrong PIN for ${tokenName} (CKR_PIN_INCORRECT; one try is left before the PIN blocks): it was not retried; check the PIN and its source, then run again`],
      ['PKCS11_PIN_LOCKED', `the user PIN of ${tokenName} is blocked (CKR_PIN_LOCKED), so ${token(spareCard.serial)};id=%01 cannot be used: unblock it with the PUK or SO PIN (YubiKey: ykman piv access unblock-pin), then try again`],
      ['PKCS11_PIN_LOCKED', `the user PIN of ${tokenName} is blocked (CKF_USER_PIN_LOCKED), so ${token(spareCard.serial)};id=%01 cannot be used: unblock it with the PUK or SO PIN (YubiKey: ykman piv access unblock-pin), then try again`],
    ] as const;
    for (const [attempt, [code, message]] of expected.entries()) {
      const verificationsBefore = pinVerifications(await spareCard.log());
      const error = await failure(openPkcs11KeySource(wrong, { secretIO: noTerminal() }));
      t.equal(error.code, code, `run ${attempt + 1}: code`);
      t.equal(error.message, message, `run ${attempt + 1}: message`);
      t.equal(pinVerifications(await spareCard.log()) - verificationsBefore, attempt < 3 ? 1 : 0, `run ${attempt + 1}: ${attempt < 3 ? 'exactly one VERIFY carried a PIN' : 'no PIN was sent to a blocked card'}`);
    }
    t.equal(await spareCard.pinTriesLeft(), 0);
    t.equal(await main.pinTriesLeft(), 3, 'the other YubiKey is untouched');
  });

  await t.test('doctor through ykcs11: the blocked card and a card that is not plugged in are named with the fix; no PIN is sent to either', async (t) => {
    const env = isolatedEnv({ ROLES_ANYWHERE_PIN: PIN });
    const verificationsBefore = pinVerifications(await spareCard.log());
    const blocked = await runCli(['doctor', '--offline', '--certificate', `${token(spareCard.serial)};id=%01;type=cert`, '--pkcs11-lib', ykcs11Path], { env });
    t.equal(blocked.code, 1);
    t.match(blocked.stdout, `fail  token: token "YubiKey PIV #${spareCard.serial}" (serial ${spareCard.serial}) in ${ykcs11Path}: the user PIN is blocked -> unblock it with the PUK or SO PIN (YubiKey: ykman piv access unblock-pin)\n`);
    t.equal(pinVerifications(await spareCard.log()), verificationsBefore, 'no PIN sent to the blocked card');

    const absent = await runCli(['doctor', '--offline', '--certificate', 'pkcs11:serial=99999999;id=%01;type=cert', '--pkcs11-lib', ykcs11Path], { env });
    t.equal(absent.code, 1);
    t.match(absent.stdout, `fail  token: no token matches pkcs11:serial=99999999;type=cert;id=%01 in ${ykcs11Path} (present: ${tokenUri(main.serial)}, ${tokenUri(spareCard.serial)}) -> plug the card or YubiKey in (\`pcsc_scan\` shows what the readers see), or fix token=/serial= in the URI\n`);
    t.match(absent.stdout, 'warn  key: not opened: the token is not reachable (above) -> fix the token line first\n');
  });

  await t.test('enroll through ykcs11 (issue 12): slot ids checked, used slots refused, and ykcs11\'s demand for the management key said plainly; nothing reaches the card', async (t) => {
    const env = isolatedEnv({ ROLES_ANYWHERE_PIN: PIN });
    const enroll = (id: string | undefined, keyType = 'ec-p256') => runCli(['enroll', '--private-key', `${token(main.serial)}${id === undefined ? '' : `;id=%${id}`}`, '--pkcs11-lib', ykcs11Path, '--key-type', keyType, '--subject', 'CN=piv-enroll'], { env });
    const generateApdus = async (): Promise<number> => (await main.log()).filter((record) => record.ins === 0x47).length;

    const noId = await enroll(undefined);
    t.equal(noId.code, 2);
    t.equal(noId.stderr, 'roles-anywhere-signer: ykcs11 names the PIV key slots by id: write id=%01 (slot 9a), %02 (9c), %03 (9d), %04 (9e), or %05 to %18 (retired slots 82 to 95) in the key URI; nothing was generated\n');
    const rsa3072 = await enroll('04', 'rsa-3072');
    t.equal(rsa3072.stderr, 'roles-anywhere-signer: a PIV slot holds EC P-256, EC P-384 or RSA 2048 keys, not RSA 3072: choose --key-type ec-p256, ec-p384 or rsa-2048; nothing was generated\n');
    // Slot 9a holds a key and certificate: ykcs11 shows 4 objects with id 01 (key pair, certificate, data object).
    const used = await enroll('01');
    t.equal(used.stderr, `roles-anywhere-signer: token "YubiKey PIV #${main.serial}" already holds 4 object(s) with id %01: choose another id= in the URI, or leave it out to have one chosen; nothing was generated\n`);
    // Slot 9e is empty: ykcs11 takes the template, then wants the management key (CKU_SO) before it sends GENERATE.
    const empty = await enroll('04');
    t.equal(empty.code, 1);
    t.equal(empty.stdout, '');
    t.equal(empty.stderr, 'roles-anywhere-signer: ykcs11 generates a PIV key only in a session logged in with the card\'s management key (CKU_SO), and enroll logs in with the PIN: nothing was generated; generate the key and its request with ykman instead (`ykman piv keys generate`, `ykman piv certificates request`, see docs/yubikey.md#enrolling-a-key-on-a-yubikey)\n');
    t.equal(await generateApdus(), 0, 'no GENERATE ASYMMETRIC KEY PAIR (INS 47) reached the card');
  });

  const openscPath = opensc;
  if (openscPath === undefined) {
    await t.test('OpenSC reads the same card', { skip: 'OpenSC\'s opensc-pkcs11.so is not installed (apt-get install opensc)' }, async () => {});
  } else {
    await t.test('OpenSC reads the same card: slot 9a, and slot 9c with a PIN before every signature', async (t) => {
      // OpenSC names a PIV token after the card holder (the CN of the first certificate).
      const opensc = (id: string): Pkcs11KeySpec => ({ kind: 'pkcs11', modulePath: openscPath, keyUri: `pkcs11:manufacturer=piv_II;token=slot-9a;id=%${id}?pin-value=${PIN}`, pin: {}, reusePin: true });
      const authenticationKey = await openPkcs11KeySource(opensc('01'), { secretIO: noTerminal() });
      const message = Buffer.from('opensc');
      try {
        t.ok(verifiesWithCertificate('EC', authentication.certificate, message, await authenticationKey.sign(message)), '9a signs');
      } finally {
        await authenticationKey.close();
      }
      const signatureKey = await openPkcs11KeySource(opensc('02'), { secretIO: noTerminal() });
      t.teardown(() => signatureKey.close());
      const before = (await main.log()).length;
      for (const text of ['one', 'two']) {
        t.ok(verifiesWithCertificate('EC', signature.certificate, Buffer.from(text), await signatureKey.sign(Buffer.from(text))), `9c signs (${text})`);
      }
      const exchanges = await main.log();
      const signs = exchanges.slice(before).map((record, index) => ({ record, index: before + index })).filter(({ record }) => record.ins === 0x87 && record.status === 0x9000);
      t.equal(signs.length, 2);
      t.ok(signs.every(({ index }) => exchanges[index - 1]?.ins === 0x20 && exchanges[index - 1]?.dataLength === 8), 'a VERIFY with the PIN right before each');
    });

    await t.test('enroll through OpenSC: a used slot is refused, an empty one is read-only to OpenSC, said plainly; nothing reaches the card', async (t) => {
      const env = isolatedEnv({ ROLES_ANYWHERE_PIN: PIN });
      const enroll = (id: string) => runCli(['enroll', '--private-key', `pkcs11:manufacturer=piv_II;token=slot-9a;id=%${id}`, '--pkcs11-lib', openscPath, '--subject', 'CN=piv-enroll'], { env });
      const used = await enroll('01');
      t.equal(used.stderr, 'roles-anywhere-signer: token "slot-9a" already holds 3 object(s) with id %01: choose another id= in the URI, or leave it out to have one chosen; nothing was generated\n');
      const empty = await enroll('04');
      t.equal(empty.code, 1);
      t.equal(empty.stderr, `roles-anywhere-signer: ${openscPath} does not generate keys on token "slot-9a" (CKR_FUNCTION_NOT_SUPPORTED; OpenSC, for one, shows PIV cards read-only): nothing was generated; generate the key with the card's own tool (YubiKey: \`ykman piv keys generate\`, see docs/yubikey.md#enrolling-a-key-on-a-yubikey)\n`);
      t.equal((await main.log()).filter((record) => record.ins === 0x47).length, 0, 'no GENERATE ASYMMETRIC KEY PAIR (INS 47) reached the card');
    });
  }
}

const unavailable = await whyVirtualReaderUnavailable();
const ykcs11 = findModule(['libykcs11.so', 'libykcs11.so.2']);
const opensc = findModule(['opensc-pkcs11.so', 'pkcs11/opensc-pkcs11.so']);
if (unavailable !== undefined || ykcs11 === undefined) {
  t.plan(0, unavailable ?? 'libykcs11.so is not installed (apt-get install ykcs11)');
} else {
  await runVirtualYubiKeyTests(ykcs11);
}
