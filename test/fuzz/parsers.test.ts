import t from 'tap';
import fc from 'fast-check';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignerError } from '../../src/errors.js';
import { createOpensslPki, generateTestKey } from '../helpers/openssl-pki.js';
import { tpm2OpensslEcP256KeyPem } from '../keys/tpm/vectors.js';
import { fuzzTargets, type FuzzSeeds } from './targets.js';

/**
 * Seeded property runs over every parser and handler that meets hostile input: whatever the
 * bytes, only a SignerError escapes, and no single call runs past a generous bound (a hang
 * detector, not a speed measurement: the bound is seconds, the calls take milliseconds).
 * The suite runs FUZZ_RUNS (default 2000) inputs per target with a fixed seed, so a failure
 * reproduces; `npm run fuzz` runs the same targets much longer with a fresh seed
 * (FUZZ_SEED to replay one).
 */
const RUNS = Number.parseInt(process.env['FUZZ_RUNS'] ?? '2000', 10);
const SEED = Number.parseInt(process.env['FUZZ_SEED'] ?? '20261202', 10);
const CALL_BOUND_MS = 5_000;

const dir = await mkdtemp(join(tmpdir(), 'ras-fuzz-'));
t.teardown(() => rm(dir, { recursive: true, force: true }));

async function makeSeeds(): Promise<FuzzSeeds> {
  const pki = await createOpensslPki(dir);
  const root = await pki.createCa({ subject: '/CN=Fuzz Root' });
  const key = generateTestKey('EC-P256');
  const leaf = await pki.issueLeaf({ subject: '/CN=fuzz leaf', issuer: root, publicKey: key.publicKey });
  // The empty password: each PKCS#12 run then reaches the MAC and the decryption.
  const pkcs12 = await pki.exportPkcs12({ key, certificate: leaf, chain: [root], password: '', scheme: 'aes' });
  const encryptedPkcs8Der = await pki.encryptPkcs8({ key, password: 'fuzz-password', v2: 'aes-256-cbc', outform: 'DER' });
  const tss2Body = tpm2OpensslEcP256KeyPem.split('\n').filter((line) => !line.startsWith('-----')).join('');
  return {
    certificateDer: leaf.certificateDer,
    certificatePem: `${leaf.certificatePem}${root.certificatePem}`,
    pkcs8Pem: key.pkcs8Pem,
    encryptedPkcs8Der,
    pkcs12,
    tss2Der: Buffer.from(tss2Body, 'base64'),
  };
}

const seeds = await makeSeeds();

for (const target of fuzzTargets(seeds)) {
  t.test(`fuzz ${target.name}: only SignerError escapes, every call bounded`, async (t) => {
    let refused = 0;
    let accepted = 0;
    const details = await fc.check(
      fc.asyncProperty(target.input, async (input) => {
        const started = performance.now();
        let complaint: string | undefined;
        try {
          complaint = await target.run(input);
          accepted++;
        } catch (error) {
          if (!(error instanceof SignerError)) throw error;
          refused++;
          if (error.message.includes('\n')) throw new Error(`a multi-line message: ${JSON.stringify(error.message)}`);
        }
        const elapsed = performance.now() - started;
        if (elapsed > CALL_BOUND_MS) throw new Error(`one call ran ${Math.round(elapsed)} ms, past the ${CALL_BOUND_MS} ms bound`);
        if (complaint !== undefined) throw new Error(complaint);
      }),
      { numRuns: RUNS, seed: SEED, endOnFailure: true },
    );
    if (details.failed) {
      const error = details.errorInstance;
      t.fail(`seed ${SEED}, path ${details.counterexamplePath ?? '?'}: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}; input ${JSON.stringify(details.counterexample)?.slice(0, 400)}`);
      return;
    }
    t.equal(refused + accepted, RUNS, `${RUNS} inputs: ${refused} refused with a SignerError, ${accepted} accepted`);
  });
}
