import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pkcs11js from 'pkcs11js';
import type { Test } from 'tap';
import { repoRoot } from '../../helpers/paths.js';

/** One key the fixture generated on the token, with its certificate. */
export interface FixtureKey {
  readonly name: string;
  /** CKA_ID as hex, e.g. "01". */
  readonly id: string;
  readonly label: string;
  readonly keyType: 'EC' | 'RSA' | 'Ed25519';
  readonly certificate: Uint8Array;
}

/** What scripts/fixtures/softhsm-token.sh built, read back from its fixture.json. */
export interface SoftHsmFixture {
  readonly dir: string;
  readonly conf: string;
  readonly module: string;
  readonly tokenLabel: string;
  readonly tokenSerial: string;
  /** The token part of every URI our code prints for this token. */
  readonly tokenUri: string;
  readonly otherTokenLabel: string;
  readonly otherTokenSerial: string;
  readonly otherTokenUri: string;
  readonly pin: string;
  readonly soPin: string;
  readonly rootCa: Uint8Array;
  readonly intermediateCa: Uint8Array;
  readonly unrelatedCa: Uint8Array;
  readonly orphanCertificate: Uint8Array;
  readonly keys: readonly FixtureKey[];
  key(name: string): FixtureKey;
}

interface FixtureJson {
  module: string;
  conf: string;
  tokenLabel: string;
  tokenSerial: string;
  otherTokenLabel: string;
  otherTokenSerial: string;
  pin: string;
  soPin: string;
  rootCa: string;
  intermediateCa: string;
  unrelatedCa: string;
  orphanCertificate: string;
  keys: { name: string; id: string; label: string; keyType: FixtureKey['keyType']; certificate: string }[];
}

/**
 * Builds a fresh SoftHSM token in its own temp directory (removed on teardown) and points
 * SOFTHSM2_CONF at it: SoftHSM reads that variable at C_Initialize, so every source this test
 * opens afterwards sees only this token. `keys` limits which keys are generated (faster).
 */
export async function buildSoftHsmFixture(t: Test, keys?: readonly string[]): Promise<SoftHsmFixture> {
  const dir = await mkdtemp(join(tmpdir(), 'ras-softhsm-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const env = { ...process.env, ...(keys !== undefined ? { FIXTURE_KEYS: keys.join(' ') } : {}) };
  await promisify(execFile)('bash', [join(repoRoot, 'scripts', 'fixtures', 'softhsm-token.sh'), dir], { env, timeout: 60_000 });
  const json = JSON.parse(await readFile(join(dir, 'fixture.json'), 'utf8')) as FixtureJson;
  const der = async (path: string): Promise<Uint8Array> => new Uint8Array(await readFile(join(dir, path)));
  process.env['SOFTHSM2_CONF'] = json.conf;
  const fixtureKeys: FixtureKey[] = [];
  for (const key of json.keys) fixtureKeys.push({ ...key, certificate: await der(key.certificate) });
  return {
    dir,
    conf: json.conf,
    module: json.module,
    tokenLabel: json.tokenLabel,
    tokenSerial: json.tokenSerial,
    tokenUri: `pkcs11:token=${json.tokenLabel};manufacturer=SoftHSM%20project;model=SoftHSM%20v2;serial=${json.tokenSerial}`,
    otherTokenLabel: json.otherTokenLabel,
    otherTokenSerial: json.otherTokenSerial,
    otherTokenUri: `pkcs11:token=${json.otherTokenLabel};manufacturer=SoftHSM%20project;model=SoftHSM%20v2;serial=${json.otherTokenSerial}`,
    pin: json.pin,
    soPin: json.soPin,
    rootCa: await der(json.rootCa),
    intermediateCa: await der(json.intermediateCa),
    unrelatedCa: await der(json.unrelatedCa),
    orphanCertificate: await der(json.orphanCertificate),
    keys: fixtureKeys,
    key(name) {
      const found = fixtureKeys.find((k) => k.name === name);
      if (found === undefined) throw new Error(`the fixture has no key ${name}`);
      return found;
    },
  };
}

/**
 * Stores a certificate object whose value is `value` as it is, as a token may hold odd objects.
 * pkcs11-tool refuses a value that is no certificate, so the bare binding writes it.
 */
export function storeRawCertificate(fixture: SoftHsmFixture, tokenLabel: string, object: { label: string; id: string; value: Uint8Array }): void {
  const lib = new pkcs11js.PKCS11();
  lib.load(fixture.module);
  let initializedHere = true;
  try {
    lib.C_Initialize();
  } catch {
    // CKR_CRYPTOKI_ALREADY_INITIALIZED: a key source of this process holds the module
    initializedHere = false;
  }
  try {
    const slot = lib.C_GetSlotList(true).find((s) => lib.C_GetTokenInfo(s).label.trim() === tokenLabel);
    if (slot === undefined) throw new Error(`the fixture has no token ${tokenLabel}`);
    const session = lib.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION);
    try {
      lib.C_CreateObject(session, [
        { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_CERTIFICATE },
        { type: pkcs11js.CKA_CERTIFICATE_TYPE, value: pkcs11js.CKC_X_509 },
        { type: pkcs11js.CKA_TOKEN, value: true },
        { type: pkcs11js.CKA_PRIVATE, value: false },
        { type: pkcs11js.CKA_LABEL, value: object.label },
        { type: pkcs11js.CKA_ID, value: Buffer.from(object.id, 'hex') },
        { type: pkcs11js.CKA_SUBJECT, value: Buffer.from('3000', 'hex') },
        { type: pkcs11js.CKA_VALUE, value: Buffer.from(object.value) },
      ]);
    } finally {
      lib.C_CloseSession(session);
    }
  } finally {
    if (initializedHere) lib.C_Finalize();
    lib.close();
  }
}

/**
 * Removes the certificate objects labelled `label` from the token labelled exactly
 * `tokenLabel` (pkcs11-tool --token-label matches a prefix, and the other token's label starts
 * with this one's). Returns how many were removed.
 */
export function removeCertificates(fixture: SoftHsmFixture, tokenLabel: string, label: string): number {
  const lib = new pkcs11js.PKCS11();
  lib.load(fixture.module);
  let initializedHere = true;
  try {
    lib.C_Initialize();
  } catch {
    // CKR_CRYPTOKI_ALREADY_INITIALIZED: a key source of this process holds the module
    initializedHere = false;
  }
  try {
    const slot = lib.C_GetSlotList(true).find((s) => lib.C_GetTokenInfo(s).label.trim() === tokenLabel);
    if (slot === undefined) throw new Error(`the fixture has no token ${tokenLabel}`);
    const session = lib.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION);
    try {
      lib.C_FindObjectsInit(session, [{ type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_CERTIFICATE }, { type: pkcs11js.CKA_LABEL, value: label }]);
      const found = lib.C_FindObjects(session, 16);
      lib.C_FindObjectsFinal(session);
      for (const object of found) lib.C_DestroyObject(session, object);
      return found.length;
    } finally {
      lib.C_CloseSession(session);
    }
  } finally {
    if (initializedHere) lib.C_Finalize();
    lib.close();
  }
}
