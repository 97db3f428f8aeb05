import { ml_dsa44, ml_dsa65, ml_dsa87 } from '@noble/post-quantum/ml-dsa.js';
import { readFileSync } from 'node:fs';
import { SignerError } from '../../src/errors.js';
import type { MlDsaName } from '../../src/emulator/mldsa.js';
import { openFileKeySource } from '../../src/keys/file.js';
import type { SignedRequest } from '../../src/sigv4x509/index.js';
import type { Section } from './context.js';
import { measureAsyncRate, measureSyncRate, rateFigure, type RateBounds } from './rate.js';
import type { Figure } from './report.js';
import { formatNumber } from './stats.js';
import { signCreateSession } from './signing.js';

const SETS: readonly { readonly name: MlDsaName; readonly slug: string; readonly dsa: typeof ml_dsa44 }[] = [
  { name: 'ML-DSA-44', slug: 'ml-dsa-44', dsa: ml_dsa44 },
  { name: 'ML-DSA-65', slug: 'ml-dsa-65', dsa: ml_dsa65 },
  { name: 'ML-DSA-87', slug: 'ml-dsa-87', dsa: ml_dsa87 },
];

// ML-DSA in pure JavaScript is far slower than node:crypto's ECDSA: fewer warm-up rounds do.
const BOUNDS: RateBounds = { maxMs: 1500, maxOperations: 20_000, warmupOperations: 5 };

/**
 * ML-DSA signing rates for the three parameter sets: signRequest through the file KeySource
 * (deterministic pure ML-DSA, @noble/post-quantum) against the floor of a bare noble signature
 * of the same string to sign with the same expanded key, timed in the same run.
 */
export const mlDsaSection: Section = {
  id: 'mldsa',
  title: 'ML-DSA signing (file keys, @noble/post-quantum)',
  estimateMs: 15_000,
  async run(context) {
    const figures: Figure[] = [];
    const signingDate = new Date();
    for (const set of SETS) {
      context.progress(`mldsa: ${set.name}`);
      const identity = await context.pki.issueFileIdentity(`mldsa-${set.slug}`, set.name);
      const chain = [context.pki.intermediate.certificateDer];
      const source = await openFileKeySource({ kind: 'file', keyPath: identity.keyPath });
      const close = context.cleanup.defer(`close ${source.description}`, () => source.close());
      try {
        // The very request the timed loop signs: ML-DSA's signing time depends on the message
        // (rejection sampling), so the floor must sign the same bytes.
        const signed = (await signCreateSession(source, identity.certificateDer, chain, signingDate)) as SignedRequest;
        // The bench's own key expansion (seed form: the last 32 bytes of the PKCS#8 the builder writes).
        const seed = Buffer.from(readFileSync(identity.keyPath, 'utf8').replace(/-----[^-]+-----|\s/g, ''), 'base64').subarray(-32);
        const { secretKey, publicKey } = set.dsa.keygen(seed);
        if (!set.dsa.verify(signed.signature, Buffer.from(signed.stringToSign, 'utf8'), publicKey)) {
          throw new SignerError('INTERNAL', `an ${set.name} signature from ${source.description} does not verify`);
        }
        const message = Buffer.from(signed.stringToSign, 'utf8');
        const full = await measureAsyncRate(() => signCreateSession(source, identity.certificateDer, chain, signingDate), BOUNDS);
        const bare = measureSyncRate(() => set.dsa.sign(message, secretKey, { extraEntropy: false }), BOUNDS);
        figures.push(
          rateFigure(`mldsa.${set.slug}.signRequest`, `signRequest, file KeySource, ${set.name}`, full, `${formatNumber((full.perSecond / bare.perSecond) * 100)}% of bare noble sign`),
          rateFigure(`mldsa.${set.slug}.noble-sync`, `bare @noble/post-quantum sign (deterministic), ${set.name}`, bare),
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
        'ML-DSA signing time depends on the message (FIPS 204 rejection sampling: a few rounds on average); both rows sign the same CreateSession string to sign, so their ratio is fair, but another request can be faster or slower',
        'ML-DSA signing is pure JavaScript and synchronous (node:crypto on Node.js 20 has no ML-DSA, and where it has, only the hedged variant): one signature holds the event loop for its duration',
      ],
    };
  },
};
