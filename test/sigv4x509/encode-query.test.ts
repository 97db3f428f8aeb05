import t from 'tap';
import { encodeQuery } from '../../src/sigv4x509/encode-query.js';
import { escapeUri } from '../../src/sigv4x509/escape-uri.js';

t.test('escapeUri keeps only the RFC 3986 unreserved set', async (t) => {
  const table: ReadonlyArray<readonly [string, string]> = [
    ['AZaz09-_.~', 'AZaz09-_.~'],
    [' ', '%20'],
    ['+', '%2B'],
    ["!'()*", '%21%27%28%29%2A'],
    [':/?#[]@', '%3A%2F%3F%23%5B%5D%40'],
    ['%', '%25'],
    ['\u00e9', '%C3%A9'],
    ['\u{1F511}', '%F0%9F%94%91'],
    ['', ''],
  ];
  for (const [input, expected] of table) t.equal(escapeUri(input), expected, JSON.stringify(input));
});

t.test('encodeQuery sorts by encoded name, then value, by code point', async (t) => {
  t.equal(encodeQuery([]), '');
  t.equal(
    encodeQuery([
      ['trustAnchorArn', 'arn:aws:rolesanywhere:us-east-1:123456789012:trust-anchor/ta'],
      ['roleArn', 'arn:aws:iam::123456789012:role/r'],
      ['profileArn', 'arn:aws:rolesanywhere:us-east-1:123456789012:profile/p'],
    ]),
    'profileArn=arn%3Aaws%3Arolesanywhere%3Aus-east-1%3A123456789012%3Aprofile%2Fp' +
      '&roleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fr' +
      '&trustAnchorArn=arn%3Aaws%3Arolesanywhere%3Aus-east-1%3A123456789012%3Atrust-anchor%2Fta',
  );
  // Upper case sorts before lower case; % (0x25) before letters; repeated names by value.
  t.equal(
    encodeQuery([
      ['b', 'two words'],
      ['a', 'z'],
      ['a', 'y'],
      ['B', ''],
      ['\u00e9', '1'],
    ]),
    '%C3%A9=1&B=&a=y&a=z&b=two%20words',
  );
  // Sorted after encoding: "a b" becomes a%20b, and % (0x25) sorts before - (0x2D).
  t.equal(encodeQuery([['a-b', '1'], ['a b', '2']]), 'a%20b=2&a-b=1');
});
