import { existsSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { derToPem, startEmulator } from '../../../src/emulator/index.js';
import { isolatedEnv, runCli } from '../../helpers/cli.js';
import { buildSoftHsmFixture, removeCertificates } from './softhsm-fixture.js';

/**
 * Counts the PKCS#11 calls one `credential-process` makes, through OpenSC's pkcs11-spy between
 * the CLI and SoftHSM. On a network HSM every call is a round trip: the budget is 25 calls and
 * exactly one C_Initialize (issue 8) for a token that holds the key and its certificate, and
 * one search and one read more (5 calls) for each issuer certificate the token also holds.
 * Deterministic: it counts calls, it never times them.
 */
const spy = ['/usr/lib/x86_64-linux-gnu/pkcs11/pkcs11-spy.so', '/usr/lib/x86_64-linux-gnu/pkcs11-spy.so', '/usr/lib/pkcs11/pkcs11-spy.so'].find((path) => existsSync(path));
const BUDGET = 25;
const PER_ISSUER_ON_TOKEN = 5;

t.test('one credential-process on SoftHSM stays within the PKCS#11 call budget, with one C_Initialize', { skip: spy === undefined ? 'pkcs11-spy.so (opensc) is not installed' : false }, async (t) => {
  const fixture = await buildSoftHsmFixture(t, ['ec-p256']);
  const account = '123456789012';
  const region = 'us-east-1';
  const trustAnchorArn = `arn:aws:rolesanywhere:${region}:${account}:trust-anchor/00000000-0000-4000-8000-0000000000aa`;
  const profileArn = `arn:aws:rolesanywhere:${region}:${account}:profile/00000000-0000-4000-8000-0000000000bb`;
  const roleArn = `arn:aws:iam::${account}:role/pkcs11-calls`;
  const emulator = await startEmulator(
    {
      region,
      accountId: account,
      trustAnchors: [{ arn: trustAnchorArn, certificates: [derToPem(fixture.rootCa)], enabled: true }],
      profiles: [{ arn: profileArn, roleArns: [roleArn], durationSeconds: 3600, enabled: true }],
    },
    { port: 0, host: '127.0.0.1' },
  );
  t.teardown(() => emulator.close());

  const log = join(fixture.dir, 'spy.log');
  const countCalls = async (t: Test, extraFlags: string[]): Promise<Map<string, number>> => {
    await rm(log, { force: true });
    const before = emulator.stats.createSession;
    const result = await runCli([
      'credential-process',
      '--certificate', `pkcs11:token=${fixture.tokenLabel};object=ec-p256;type=cert`,
      '--pkcs11-lib', spy as string,
      '--trust-anchor-arn', trustAnchorArn, '--profile-arn', profileArn, '--role-arn', roleArn, '--endpoint', emulator.url,
      ...extraFlags,
    ], { env: isolatedEnv({ SOFTHSM2_CONF: fixture.conf, ROLES_ANYWHERE_PIN: fixture.pin, PKCS11SPY: fixture.module, PKCS11SPY_OUTPUT: log }) });
    t.equal(result.stderr, '', 'nothing on stderr');
    t.equal(result.code, 0, 'credentials came back');
    t.equal(emulator.stats.createSession, before + 1, 'one CreateSession, accepted (the chain reached the trust anchor)');
    // pkcs11-spy writes one "N: C_Name" header line per call it forwards to the module.
    const tally = new Map<string, number>();
    for (const [, name] of (await readFile(log, 'utf8')).matchAll(/^\d+: (C_\w+)/gm)) tally.set(name as string, (tally.get(name as string) ?? 0) + 1);
    const total = [...tally.values()].reduce((sum, count) => sum + count, 0);
    t.comment(`${total} PKCS#11 calls: ${[...tally].map(([name, count]) => `${name} ${count}`).join(', ')}`);
    t.ok((tally.get('C_Sign') ?? 0) >= 1, 'the spy saw the signature (the count means something)');
    t.equal(tally.get('C_Initialize'), 1, 'exactly one C_Initialize');
    t.equal(tally.get('C_Finalize'), 1, 'and one C_Finalize: what we initialized, we finalize');
    return tally;
  };
  const totalOf = (tally: Map<string, number>): number => [...tally.values()].reduce((sum, count) => sum + count, 0);

  await t.test('the token holds the leaf and its intermediate (one issuer on the token)', async (t) => {
    const total = totalOf(await countCalls(t, []));
    t.ok(total <= BUDGET + PER_ISSUER_ON_TOKEN, `${total} calls, at most ${BUDGET} + ${PER_ISSUER_ON_TOKEN} for the issuer found on the token`);
  });

  await t.test('the token holds only the key and its certificate; the intermediate comes from a file', async (t) => {
    t.equal(removeCertificates(fixture, fixture.tokenLabel, 'intermediate-ca'), 1, 'the intermediate is off the token');
    const total = totalOf(await countCalls(t, ['--intermediates', join(fixture.dir, 'pki', 'intermediate-ca.pem')]));
    t.ok(total <= BUDGET, `${total} calls, at most ${BUDGET}`);
  });
});
