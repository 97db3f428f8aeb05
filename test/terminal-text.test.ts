import t from 'tap';
import { toTerminalText } from '../src/terminal-text.js';

t.test('escape sequences, BEL, C1 and bidi controls are dropped; line breaks become spaces', async (t) => {
  t.equal(toTerminalText('Untrusted\u001b]0;pwned\u0007 Signing\u001b[2J Certificate'), 'Untrusted]0;pwned Signing[2J Certificate');
  t.equal(toTerminalText('a\r\nb\tc\u2028d'), 'a b c d');
  t.equal(toTerminalText('invoice\u202egnp.exe'), 'invoicegnp.exe');
  t.equal(toTerminalText('\u009b31mred\u0085x\u200b\ufeff'), '31mred x');
  t.equal(toTerminalText('plain text, ünïcödé ok'), 'plain text, ünïcödé ok');
});

t.test('long text is cut with an ellipsis', async (t) => {
  t.equal(toTerminalText('abcdefghij', 8), 'abcde...');
  t.equal(toTerminalText('abcdefgh', 8), 'abcdefgh');
});

