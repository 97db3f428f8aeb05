import t from 'tap';
import { encodePem, looksLikePem, parsePemBlocks } from '../../src/certs/pem.js';

const context = { source: 'certificate file /x.pem', errorCode: 'CERT_INVALID' } as const;
const ONE = Buffer.from('first block bytes');
const TWO = Buffer.from(Array.from({ length: 200 }, (_, i) => i));

function errorOf(fn: () => unknown): { code?: string; message?: string } {
  try {
    fn();
  } catch (error) {
    return error as { code?: string; message?: string };
  }
  return {};
}

t.test('every block, in order, with text around and between them', async (t) => {
  const text = `subject=/CN=leaf\nissuer=/CN=ca\n${encodePem('CERTIFICATE', ONE)}Bag Attributes: none\n\n${encodePem('PRIVATE KEY', TWO)}trailing words`;
  const blocks = parsePemBlocks(text, context);
  t.same(blocks.map((b) => b.label), ['CERTIFICATE', 'PRIVATE KEY']);
  t.same(Buffer.from(blocks[0]?.der ?? []), ONE);
  t.same(Buffer.from(blocks[1]?.der ?? []), TWO);
  t.equal(blocks[0]?.line, 3, 'line of the first BEGIN');
  t.equal(blocks[1]?.line, 8, 'line of the second BEGIN');
  t.equal(blocks[0]?.headers.size, 0, 'no headers');
});

t.test('CRLF, lone CR, indentation, a byte-order mark and odd line lengths are tolerated', async (t) => {
  const base64 = TWO.toString('base64');
  const text = `\uFEFF  -----BEGIN CERTIFICATE-----\r\n  ${base64.slice(0, 10)}\r\n${base64.slice(10, 100)}  \r${base64.slice(100)}\r\n-----END CERTIFICATE-----  \r\n`;
  const [block] = parsePemBlocks(text, context);
  t.same(Buffer.from(block?.der ?? []), TWO);
});

t.test('RFC 1421 headers of legacy encrypted keys are returned', async (t) => {
  const text = `-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-256-CBC,\n 00112233\n\n${ONE.toString('base64')}\n-----END RSA PRIVATE KEY-----\n`;
  const [block] = parsePemBlocks(text, context);
  t.equal(block?.headers.get('Proc-Type'), '4,ENCRYPTED');
  t.equal(block?.headers.get('DEK-Info'), 'AES-256-CBC,00112233', 'continuation lines are joined');
  t.same(Buffer.from(block?.der ?? []), ONE);
});

t.test('text without blocks gives no blocks', async (t) => {
  t.same(parsePemBlocks('just words\n-----BEGIN nothing', context), []);
  t.same(parsePemBlocks('', context), []);
});

t.test('damaged blocks are errors with the code of the caller and a line number', async (t) => {
  const good = encodePem('CERTIFICATE', TWO);
  const cases: Array<[string, string, string]> = [
    ['truncated', good.slice(0, good.indexOf('-----END')), 'certificate file /x.pem: PEM block "CERTIFICATE" that begins on line 1 has no END line: the file is truncated; get a fresh copy'],
    ['mismatched END', good.replace('END CERTIFICATE', 'END PRIVATE KEY'), 'certificate file /x.pem: PEM block "CERTIFICATE" that begins on line 1 ends with "-----END PRIVATE KEY-----" on line 7: the file is damaged; get a fresh copy'],
    ['END without BEGIN', `junk\n${good.slice(good.indexOf('-----END'))}`, 'certificate file /x.pem: line 2 is an END line without a BEGIN line: the file is damaged or cut at the start; get a fresh copy'],
    ['BEGIN inside a block', good.replace('-----END CERTIFICATE-----\n', '') + good, 'certificate file /x.pem: PEM block "CERTIFICATE" that begins on line 1 has no END line before the next BEGIN on line 7: the file is damaged; get a fresh copy'],
    ['not base64', good.replace(/\n([A-Za-z0-9+/]{5})/, '\n$1*'), 'certificate file /x.pem: PEM block "CERTIFICATE" that begins on line 1 is not valid base64: the file is damaged or truncated; get a fresh copy'],
    ['a line cut short', good.replace(/\n([A-Za-z0-9+/]{63})[A-Za-z0-9+/]\n/, '\n$1\n'), 'certificate file /x.pem: PEM block "CERTIFICATE" that begins on line 1 is not valid base64: the file is damaged or truncated; get a fresh copy'],
    ['empty body', '-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n', 'certificate file /x.pem: PEM block "CERTIFICATE" that begins on line 1 is empty: the file is damaged; get a fresh copy'],
  ];
  for (const [name, text, message] of cases) {
    const error = errorOf(() => parsePemBlocks(text, context));
    t.equal(error.code, 'CERT_INVALID', `${name}: code`);
    t.equal(error.message, message, `${name}: message`);
  }
  t.equal(errorOf(() => parsePemBlocks(cases[0]?.[1] ?? '', { source: 'private key file /k', errorCode: 'KEY_INVALID' })).code, 'KEY_INVALID', 'code comes from the caller');
});

t.test('encodePem writes 64-character lines that parse back', async (t) => {
  const pem = encodePem('CERTIFICATE', TWO);
  const lines = pem.trimEnd().split('\n');
  t.equal(lines[0], '-----BEGIN CERTIFICATE-----');
  t.equal(lines.at(-1), '-----END CERTIFICATE-----');
  t.ok(lines.slice(1, -1).every((line) => line.length <= 64), 'lines of at most 64 characters');
  t.equal(lines[1]?.length, 64);
  t.same(Buffer.from(parsePemBlocks(pem, context)[0]?.der ?? []), TWO);
});

t.test('looksLikePem', async (t) => {
  t.ok(looksLikePem(Buffer.from(`text\n${encodePem('X', ONE)}`)));
  t.notOk(looksLikePem(TWO));
});
