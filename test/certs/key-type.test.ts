import t from 'tap';
import { keyTypeOfPublicKeyAlgorithm } from '../../src/certs/key-type.js';

t.test('the SigV4-X509 key family of each SubjectPublicKeyInfo algorithm', async (t) => {
  const table: ReadonlyArray<readonly [string, string | undefined]> = [
    ['1.2.840.113549.1.1.1', 'RSA'],
    ['1.2.840.10045.2.1', 'EC'],
    ['2.16.840.1.101.3.4.3.17', 'ML-DSA'],
    ['2.16.840.1.101.3.4.3.18', 'ML-DSA'],
    ['2.16.840.1.101.3.4.3.19', 'ML-DSA'],
    ['1.2.840.113549.1.1.10', undefined],
    ['1.3.101.112', undefined],
    ['1.2.840.10040.4.1', undefined],
    ['constructor', undefined],
  ];
  for (const [oid, keyType] of table) t.equal(keyTypeOfPublicKeyAlgorithm(oid), keyType, oid);
});
