/**
 * The constant-time rule (ARCHITECTURE.md, "Secrets"): no token, password, PIN, secret key, MAC,
 * digest or signature is compared with ===, !==, == or !=; such comparisons go through
 * crypto.timingSafeEqual over fixed-length digests. A static check over src/: it fails on a
 * comparison whose operands are both values (not undefined, a literal, a length or a named
 * constant) and one of which is named like an authenticator.
 */
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { repoRoot } from '../helpers/paths.js';
import { sourceFiles } from './source-files.js';

const SRC = join(repoRoot, 'src');
const AUTHENTICATOR_NAME = /token|password|passwd|secret|^pin$|pinvalue|mac$|digest|signature|authoriz/i;
const OPERAND = String.raw`(typeof\s+)?('[^']*'|"[^"]*"|\x60[^\x60]*\x60|-?[\w$#.?\[\]]+)`;
const COMPARISON = new RegExp(`${OPERAND}\\s*(===|!==|==|!=)\\s*${OPERAND}`, 'g');

/** Operands that carry no secret: absent values, literals, sizes, kinds and named constants. */
function isHarmless(typeofPrefix: string | undefined, operand: string): boolean {
  if (typeofPrefix !== undefined) return true;
  if (/^(undefined|null|true|false|-?\d[\d_]*|'.*'|".*"|`.*`)$/.test(operand)) return true;
  if (/\.(length|size|byteLength|kind|type|code|status|mode|name)$/.test(operand)) return true;
  // UPPER_CASE constants and members of them (TPM_ALG.ECDSA, OID.PBMAC1)
  return /(^|\.)[A-Z][A-Z0-9_]*$/.test(operand);
}

/** The comparisons in `text` that would compare an authenticator's value directly. */
export function directSecretComparisons(text: string): string[] {
  const found: string[] = [];
  for (const line of text.split('\n')) {
    if (/^\s*(\/\/|\*|\/\*)/.test(line)) continue;
    for (const match of line.matchAll(COMPARISON)) {
      const [, leftTypeof, left = '', , rightTypeof, right = ''] = match;
      if (isHarmless(leftTypeof, left) || isHarmless(rightTypeof, right)) continue;
      // What a value is, is said by its last name: `certificate.token.slotId` is a slot id.
      if (AUTHENTICATOR_NAME.test(lastName(left)) || AUTHENTICATOR_NAME.test(lastName(right))) found.push(match[0].trim());
    }
  }
  return found;
}

function lastName(operand: string): string {
  return operand.split(/[.?#\[\]]+/).filter((part) => part !== '').pop() ?? operand;
}


t.test('no token, password or digest in src/ is compared with === or ==', async (t) => {
  const offenders = sourceFiles(SRC).flatMap((file) => directSecretComparisons(readFileSync(file, 'utf8')).map((comparison) => `${relative(SRC, file)}: ${comparison}`));
  t.same(offenders, [], 'compare authenticators with timingSafeEqual over fixed-length digests');
});

t.test('the check catches direct comparisons and lets harmless ones through', async (t) => {
  t.same(directSecretComparisons('if (presented === expectedToken) return true;'), ['presented === expectedToken']);
  t.same(directSecretComparisons('return a.password == b.password;'), ['a.password == b.password']);
  t.same(directSecretComparisons('if (computedMac !== storedMac) throw wrong();'), ['computedMac !== storedMac']);
  t.same(directSecretComparisons([
    'if (token === undefined || token === \'\') return;',
    'if (token.length !== TOKEN_LENGTH) return;',
    'if (typeof sessionToken !== \'string\') return;',
    'if (signature.sigAlg === TPM_ALG.ECDSA) return;',
    '// if (token === other) is how not to do it',
    'if (timingSafeEqual(presentedDigest, expectedDigest)) return;',
  ].join('\n')), []);
});
