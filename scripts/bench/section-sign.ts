import { constants, createPrivateKey, sign as cryptoSign, type SignKeyObjectInput } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { KeyAlgorithm } from '../../src/emulator/pki.js';
import { openFileKeySource } from '../../src/keys/file.js';
import type { Section } from './context.js';
import { measureAsyncRate, measureSyncRate, rateFigure, type RateBounds, type RateResult } from './rate.js';
import type { Figure } from './report.js';
import { formatNumber } from './stats.js';
import { assertSignsVerifiably, signCreateSession } from './signing.js';

const KEYS: readonly { readonly algorithm: KeyAlgorithm; readonly name: string; readonly slug: string }[] = [
  { algorithm: 'EC-P256', name: 'EC P-256', slug: 'ec-p256' },
  { algorithm: 'RSA-2048', name: 'RSA-2048', slug: 'rsa-2048' },
];

// The default libuv thread pool: four signatures can really run at once (on 2 cores, two).
const IN_FLIGHT = 4;
const BOUNDS: RateBounds = { maxMs: 1200, maxOperations: 200_000, warmupOperations: 50 };

/**
 * The core's signing throughput with software keys: signRequest (canonical request, string to
 * sign, file KeySource, Authorization) against a bare node:crypto sign of the same string to
 * sign with the same key. The gap is what canonicalization and the KeySource layer cost.
 */
export const signSection: Section = {
  id: 'sign',
  title: 'signRequest with software keys vs node:crypto',
  estimateMs: 15_000,
  async run(context) {
    const figures: Figure[] = [];
    const signingDate = new Date();
    for (const key of KEYS) {
      context.progress(`sign: ${key.name}`);
      const identity = await context.pki.issueFileIdentity(`sign-${key.slug}`, key.algorithm);
      const chain = [context.pki.intermediate.certificateDer];
      const source = await openFileKeySource({ kind: 'file', keyPath: identity.keyPath });
      const close = context.cleanup.defer(`close ${source.description}`, () => source.close());
      try {
        // The bare signatures sign exactly what signRequest signs.
        const message = await assertSignsVerifiably(source, identity.certificateDer, chain, signingDate);
        const privateKey = createPrivateKey(readFileSync(identity.keyPath));
        const input: SignKeyObjectInput = source.keyType === 'RSA'
          ? { key: privateKey, padding: constants.RSA_PKCS1_PADDING }
          : { key: privateKey, dsaEncoding: 'der' };

        const sequential = await measureAsyncRate(() => signCreateSession(source, identity.certificateDer, chain, signingDate), BOUNDS);
        const parallel = await measureAsyncRate(() => signCreateSession(source, identity.certificateDer, chain, signingDate), { ...BOUNDS, concurrency: IN_FLIGHT });
        const bareCallback = await measureAsyncRate(
          () => new Promise<Buffer>((resolve, reject) => cryptoSign('sha256', message, input, (error, signature) => (error ? reject(error) : resolve(signature)))),
          BOUNDS,
        );
        const bareSync = measureSyncRate(() => cryptoSign('sha256', message, input), BOUNDS);

        const row = (id: string, label: string, result: RateResult, note?: string): Figure => rateFigure(`sign.${key.slug}.${id}`, label, result, note);
        figures.push(
          row('signRequest', `signRequest, file KeySource, ${key.name}, 1 in flight`, sequential, `${percentOf(sequential, bareCallback)} of bare callback sign`),
          row('signRequest-parallel', `signRequest, file KeySource, ${key.name}, ${IN_FLIGHT} in flight`, parallel),
          row('node-crypto-callback', `bare node:crypto sign (callback, thread pool), ${key.name}`, bareCallback),
          row('node-crypto-sync', `bare node:crypto sign (synchronous, main thread), ${key.name}`, bareSync),
        );
      } finally {
        await close();
      }
    }
    return {
      status: 'ran',
      figures,
      notes: [
        `each rate is bounded by ${BOUNDS.maxMs} ms or ${BOUNDS.maxOperations} operations after ${BOUNDS.warmupOperations} warm-up operations; the signed message is a real CreateSession string to sign`,
        'the file KeySource signs with the callback form of crypto.sign (thread pool) so serve keeps answering; the synchronous form shows the cost without that hop',
      ],
    };
  },
};

function percentOf(result: RateResult, reference: RateResult): string {
  return `${formatNumber((result.perSecond / reference.perSecond) * 100)}%`;
}
