import t from 'tap';
import { algorithmFor } from '../../src/sigv4x509/algorithm-for.js';
import type { KeyType } from '../../src/keys/types.js';

t.test('algorithmFor maps each key family to its SigV4-X509 id', async (t) => {
  t.equal(algorithmFor('RSA'), 'AWS4-X509-RSA-SHA256');
  t.equal(algorithmFor('EC'), 'AWS4-X509-ECDSA-SHA256');
  t.equal(algorithmFor('ML-DSA'), 'AWS4-X509-MLDSA');
});

t.test('algorithmFor refuses anything else, prototype names included', async (t) => {
  for (const keyType of ['DSA', 'toString', '__proto__']) {
    t.throws(() => algorithmFor(keyType as KeyType), {
      name: 'SignerError',
      code: 'KEY_TYPE_UNSUPPORTED',
      message: `key type ${keyType} has no SigV4-X509 algorithm: use an RSA, EC or ML-DSA key`,
    });
  }
});
