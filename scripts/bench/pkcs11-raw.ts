/**
 * The token's own limit, for comparison with the PKCS#11 KeySource: a bare pkcs11js loop of
 * C_SignInit + C_Sign on one logged-in session, no KeySource, no URI lookup, no DER conversion.
 * Run as a child by the bench (a second C_Initialize of the same module in the bench process
 * would collide with the KeySource's):
 *
 *   SOFTHSM2_CONF=... BENCH_PKCS11_PIN=... node pkcs11-raw.js '<RawSignConfig JSON>'
 *
 * Prints one JSON line: { sync: RateResult, async: RateResult }. The PIN comes from the
 * environment, never from argv (visible in ps).
 */
import { constants, createHash, verify, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import pkcs11js from 'pkcs11js';
import { SignerError } from '../../src/errors.js';
import { measureAsyncRate, measureSyncRate, type RateBounds } from './rate.js';

export interface RawSignConfig {
  readonly module: string;
  readonly tokenLabel: string;
  /** CKA_ID of the private key, hex. */
  readonly keyIdHex: string;
  readonly keyType: 'EC' | 'RSA';
  /** DER certificate of the key: the first signature is verified against it. */
  readonly certificatePath: string;
  readonly bounds: RateBounds;
}

const PIN_ENV = 'BENCH_PKCS11_PIN';
// Room for RSA-4096; ECDSA P-256 needs 64.
const SIGNATURE_BUFFER_BYTES = 512;

async function main(argv: readonly string[]): Promise<void> {
  const config = JSON.parse(argv[0] ?? '') as RawSignConfig;
  const pin = process.env[PIN_ENV];
  if (pin === undefined || pin === '') throw new SignerError('SECRET_UNAVAILABLE', `${PIN_ENV} is not set: the bench passes the fixture's PIN there`);
  const lib = new pkcs11js.PKCS11();
  lib.load(config.module);
  lib.C_Initialize({ flags: pkcs11js.CKF_OS_LOCKING_OK });
  try {
    const slot = lib.C_GetSlotList(true).find((candidate) => lib.C_GetTokenInfo(candidate).label.trim() === config.tokenLabel);
    if (slot === undefined) throw new SignerError('PKCS11_TOKEN_NOT_FOUND', `no token labelled ${config.tokenLabel}: check SOFTHSM2_CONF`);
    const session = lib.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION);
    try {
      lib.C_Login(session, pkcs11js.CKU_USER, pin);
      lib.C_FindObjectsInit(session, [
        { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PRIVATE_KEY },
        { type: pkcs11js.CKA_ID, value: Buffer.from(config.keyIdHex, 'hex') },
      ]);
      const [key] = lib.C_FindObjects(session, 2);
      lib.C_FindObjectsFinal(session);
      if (key === undefined) throw new SignerError('PKCS11_OBJECT_NOT_FOUND', `no private key with CKA_ID ${config.keyIdHex} on ${config.tokenLabel}`);

      const message = Buffer.from('AWS4-X509-ECDSA-SHA256\n20250101T000000Z\n20250101/us-east-1/rolesanywhere/aws4_request\n' + 'ab'.repeat(32));
      // SoftHSM has CKM_ECDSA but no CKM_ECDSA_SHA256: hash on the host, as the KeySource does.
      const mechanism = { mechanism: config.keyType === 'EC' ? pkcs11js.CKM_ECDSA : pkcs11js.CKM_SHA256_RSA_PKCS };
      const input = (): Buffer => (config.keyType === 'EC' ? createHash('sha256').update(message).digest() : message);
      const signSync = (): Buffer => {
        lib.C_SignInit(session, mechanism, key);
        return lib.C_Sign(session, input(), Buffer.alloc(SIGNATURE_BUFFER_BYTES));
      };
      const signAsync = (): Promise<Buffer> => {
        lib.C_SignInit(session, mechanism, key);
        return lib.C_SignAsync(session, input(), Buffer.alloc(SIGNATURE_BUFFER_BYTES));
      };

      const publicKey = new X509Certificate(readFileSync(config.certificatePath)).publicKey;
      const first = signSync();
      const valid = config.keyType === 'EC'
        ? verify('sha256', message, { key: publicKey, dsaEncoding: 'ieee-p1363' }, first)
        : verify('sha256', message, { key: publicKey, padding: constants.RSA_PKCS1_PADDING }, first);
      if (!valid) throw new SignerError('INTERNAL', 'the raw C_Sign signature does not verify with the certificate');

      const sync = measureSyncRate(signSync, config.bounds);
      const async = await measureAsyncRate(signAsync, config.bounds);
      process.stdout.write(`${JSON.stringify({ sync, async })}\n`);
    } finally {
      lib.C_CloseSession(session);
    }
  } finally {
    lib.C_Finalize();
  }
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    // pkcs11js messages name the CKR_ code and function only; no PIN reaches them.
    process.stderr.write(`pkcs11-raw: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
