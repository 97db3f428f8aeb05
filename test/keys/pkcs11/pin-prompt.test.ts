import { join } from 'node:path';
import t from 'tap';
import { isolatedEnv, run } from '../../helpers/cli.js';
import { cliPath, repoRoot } from '../../helpers/paths.js';
import { buildSoftHsmFixture } from './softhsm-fixture.js';

/**
 * The PIN prompt on a real terminal (a pseudo-terminal the CLI opens as /dev/tty): Enter on
 * an empty prompt is refused before the token sees it, Ctrl-C exits 130 (issue 10 item 8).
 */
const fixture = await buildSoftHsmFixture(t, ['ec-p256']);
const onTerminal = join(repoRoot, 'test', 'helpers', 'on-terminal.py');
const token = `token "${fixture.tokenLabel}" (serial ${fixture.tokenSerial})`;

async function answerPrompt(keys: string): Promise<{ output: string; exit: number }> {
  const result = await run('python3', [onTerminal, `PIN for ${token}`, keys, process.execPath, cliPath, 'credential-process',
    '--certificate', `pkcs11:token=${fixture.tokenLabel};object=ec-p256;type=cert`, '--pkcs11-lib', fixture.module,
    '--trust-anchor-arn', 'arn:aws:rolesanywhere:us-east-1:123456789012:trust-anchor/00000000-0000-4000-8000-0000000000aa',
    '--profile-arn', 'arn:aws:rolesanywhere:us-east-1:123456789012:profile/00000000-0000-4000-8000-0000000000bb',
    '--role-arn', 'arn:aws:iam::123456789012:role/r', '--endpoint', 'http://127.0.0.1:9'], { env: isolatedEnv({ SOFTHSM2_CONF: fixture.conf }) });
  const match = /\nexit=(\d+)\n$/.exec(result.stdout);
  return { output: result.stdout.replace(/\r/g, ''), exit: match === null ? -1 : Number(match[1]) };
}

t.test('Enter at the PIN prompt: refused before it reaches the token, exit 1', async (t) => {
  const { output, exit } = await answerPrompt('\\r');
  t.equal(exit, 1);
  t.match(output, `roles-anywhere-signer: the PIN for ${token} is empty (nothing was typed): it was not sent to the token, so no try was used; enter the PIN, or fix the PIN source\n`);
});

t.test('Ctrl-C at the PIN prompt exits 130, as a shell reports an interrupt', async (t) => {
  const { output, exit } = await answerPrompt('\\x03');
  t.equal(exit, 130);
  t.match(output, `roles-anywhere-signer: PIN for ${token}: interrupted (Ctrl-C) at the terminal\n`);
  t.notMatch(output, /at .*\.js:\d+/, 'no stack trace');
});
