import t from 'tap';
import { buildCanonicalUri } from '../../src/sigv4x509/build-canonical-uri.js';

t.test('each wire path segment is encoded once more (SigV4 non-S3 double encoding)', async (t) => {
  const table: ReadonlyArray<readonly [string, string]> = [
    ['', '/'],
    ['/', '/'],
    ['/sessions', '/sessions'],
    ['/prefix/sessions/', '/prefix/sessions/'],
    ['/api%20v1/sessions', '/api%2520v1/sessions'],
    ['/a:b/c~d', '/a%3Ab/c~d'],
  ];
  for (const [path, expected] of table) t.equal(buildCanonicalUri(path), expected, path);
});

t.test('paths that would need normalizing are refused', async (t) => {
  for (const path of ['//sessions', '/a/./sessions', '/a/../sessions', '/a//b']) {
    t.throws(() => buildCanonicalUri(path), {
      name: 'SignerError',
      code: 'USAGE',
      message: `request path "${path}" has an empty, "." or ".." segment: pass a normalized path`,
    });
  }
  t.throws(() => buildCanonicalUri('sessions'), {
    code: 'USAGE',
    message: 'request path "sessions" must start with "/": pass the path as sent on the wire',
  });
});
