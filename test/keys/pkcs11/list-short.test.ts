import t from 'tap';
import { derToPem, startEmulator } from '../../../src/emulator/index.js';
import { isolatedEnv, runCli } from '../../helpers/cli.js';
import { buildSoftHsmFixture } from './softhsm-fixture.js';

/**
 * `list --short` on a real SoftHSM token (two tokens, keys and certificates sharing labels and
 * ids): the short URIs it prints are the ones a user pastes, so they are pasted here, into
 * credential-process against the emulator.
 */
const fixture = await buildSoftHsmFixture(t, ['ec-p256', 'rsa-2048']);
const ACCOUNT = '123456789012';
const REGION = 'us-east-1';
const trustAnchorArn = `arn:aws:rolesanywhere:${REGION}:${ACCOUNT}:trust-anchor/00000000-0000-4000-8000-0000000000cc`;
const profileArn = `arn:aws:rolesanywhere:${REGION}:${ACCOUNT}:profile/00000000-0000-4000-8000-0000000000dd`;
const roleArn = `arn:aws:iam::${ACCOUNT}:role/list-short`;
const emulator = await startEmulator(
  {
    region: REGION,
    accountId: ACCOUNT,
    trustAnchors: [{ arn: trustAnchorArn, certificates: [derToPem(fixture.rootCa), derToPem(fixture.intermediateCa)], enabled: true }],
    profiles: [{ arn: profileArn, roleArns: [roleArn], durationSeconds: 3600, enabled: true }],
  },
  { port: 0, host: '127.0.0.1' },
);
t.teardown(() => emulator.close());
const env = isolatedEnv({ SOFTHSM2_CONF: fixture.conf, ROLES_ANYWHERE_PIN: fixture.pin });

t.test('list --short prints the fewest attributes, and they select the right objects', async (t) => {
  const all = await runCli(['list', '--pkcs11-lib', fixture.module, '--short'], { env });
  t.equal(all.code, 0, all.stderr);
  t.match(all.stdout, `    pkcs11:token=${fixture.tokenLabel}\n`, 'a token by its label alone');
  t.match(all.stdout, `    pkcs11:token=${fixture.otherTokenLabel}\n`);
  t.match(all.stdout, '    certificate "ec-p256" id 01: CN=ec-p256');
  t.match(all.stdout, '\n      pkcs11:object=ec-p256;type=cert\n', 'the certificate shares its label with the public key: label and type');
  t.notMatch(all.stdout, 'manufacturer=', 'no attribute that is not needed');

  const loggedIn = await runCli(['list', `pkcs11:token=${fixture.tokenLabel}`, '--pkcs11-lib', fixture.module, '--short', '--login'], { env });
  t.equal(loggedIn.code, 0, loggedIn.stderr);
  t.match(loggedIn.stdout, `\n      pkcs11:token=${fixture.tokenLabel};object=rsa-2048;type=private\n`, 'the filter stays in each URI');
  t.notMatch(loggedIn.stdout, fixture.pin);

  const json = JSON.parse((await runCli(['list', '--pkcs11-lib', fixture.module, '--short', '--json'], { env })).stdout) as Array<{ tokens: Array<{ uri: string }> }>;
  t.same(json[0]?.tokens.map((token) => token.uri), [`pkcs11:token=${fixture.tokenLabel}`, `pkcs11:token=${fixture.otherTokenLabel}`]);

  const long = await runCli(['list', '--pkcs11-lib', fixture.module], { env });
  t.match(long.stdout, `${fixture.tokenUri};object=ec-p256;type=cert;id=%01\n`, 'without --short the full form stays');

  const credentials = await runCli(
    [
      'credential-process',
      '--certificate', 'pkcs11:object=rsa-2048;type=cert',
      '--private-key', `pkcs11:token=${fixture.tokenLabel};object=rsa-2048;type=private`,
      '--pkcs11-lib', fixture.module,
      '--trust-anchor-arn', trustAnchorArn, '--profile-arn', profileArn, '--role-arn', roleArn, '--endpoint', emulator.url,
    ],
    { env },
  );
  t.equal(credentials.stderr, '');
  t.match(credentials.stdout, /^\{"Version":1,"AccessKeyId":"ASIA/, 'the short URIs sign a real CreateSession');
  t.equal(emulator.stats.createSession, 1);
});
