import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { loadEmulatorConfigFile, resolveEmulatorConfig } from '../../src/emulator/config.js';
import { createCertificateAuthority, generateKeyPair, issueLeafCertificate } from '../../src/emulator/pki.js';
import { isSignerError } from '../../src/errors.js';

const root = await createCertificateAuthority({ subject: 'CN=Config Root', keyAlgorithm: 'EC-P256' });
const second = await createCertificateAuthority({ subject: 'CN=Config Second', keyAlgorithm: 'EC-P256' });
const leaf = await issueLeafCertificate({ issuer: root, subject: 'CN=not-a-ca', publicKey: generateKeyPair('EC-P256').publicKey });

const TA = 'arn:aws:rolesanywhere:us-east-1:123456789012:trust-anchor/ta';
const PROFILE = 'arn:aws:rolesanywhere:us-east-1:123456789012:profile/p';
const ROLE = 'arn:aws:iam::123456789012:role/r';

function valid(): Record<string, unknown> {
  return {
    region: 'us-east-1',
    accountId: '123456789012',
    trustAnchors: [{ arn: TA, certificates: [root.certificatePem] }],
    profiles: [{ arn: PROFILE, roleArns: [ROLE] }],
  };
}

t.test('defaults: enabled, 3600 s, no roleSessionName', async (t) => {
  const config = resolveEmulatorConfig(valid());
  const profile = config.profiles.get(PROFILE);
  t.same(profile, { arn: PROFILE, roleArns: [ROLE], durationSeconds: 3600, acceptRoleSessionName: false, enabled: true });
  t.equal(config.trustAnchors.get(TA)?.enabled, true);
  t.same(config.trustAnchors.get(TA)?.certificates, [root.certificateDer]);
  t.equal(config.partition, 'aws');
});

t.test('certificate files resolve from the config file folder; PEM bundles and DER both load', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'emulator-config-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'bundle.pem'), root.certificatePem + second.certificatePem);
  await writeFile(join(dir, 'root.der'), root.certificateDer);
  await writeFile(
    join(dir, 'emulator.json'),
    JSON.stringify({ ...valid(), trustAnchors: [{ arn: TA, certificates: ['bundle.pem', './root.der'] }] }),
  );
  const config = loadEmulatorConfigFile(join(dir, 'emulator.json'));
  t.same(config.trustAnchors.get(TA)?.certificates, [root.certificateDer, second.certificateDer, root.certificateDer]);
});

t.test('every invalid field is named in one EMULATOR_CONFIG_INVALID message', async (t) => {
  const rows: Array<{ name: string; mutate: (config: Record<string, unknown>) => unknown; message: string }> = [
    { name: 'not an object', mutate: () => [], message: 'emulator config the config must be a JSON object with region, accountId, trustAnchors and profiles' },
    { name: 'bad region', mutate: (c) => ({ ...c, region: 'moon-1' }), message: "emulator config region: 'moon-1' is not an AWS region name like us-east-1" },
    { name: 'bad account', mutate: (c) => ({ ...c, accountId: '12' }), message: "emulator config accountId: '12' must be 12 digits" },
    { name: 'no anchors', mutate: (c) => ({ ...c, trustAnchors: [] }), message: 'emulator config trustAnchors: add at least one trust anchor' },
    {
      name: 'profile ARN as anchor',
      mutate: (c) => ({ ...c, trustAnchors: [{ arn: PROFILE, certificates: [root.certificatePem] }] }),
      message: `emulator config trustAnchors[0].arn: '${PROFILE}' is not a trust-anchor ARN like arn:aws:rolesanywhere:us-east-1:123456789012:trust-anchor/<id>`,
    },
    {
      name: 'anchor in another region',
      mutate: (c) => ({ ...c, trustAnchors: [{ arn: TA.replace('us-east-1', 'eu-west-1'), certificates: [root.certificatePem] }] }),
      message: `emulator config trustAnchors[0].arn: ${TA.replace('us-east-1', 'eu-west-1')} is in region eu-west-1, not the emulator's region us-east-1`,
    },
    {
      name: 'end-entity certificate as anchor',
      mutate: (c) => ({ ...c, trustAnchors: [{ arn: TA, certificates: [leaf.certificatePem] }] }),
      message:
        "emulator config trustAnchors[0] certificate 1: trust anchor is not a CA (basicConstraints CA:FALSE); it must have basicConstraints CA:TRUE: use the issuing CA's certificate; trust anchor keyUsage lacks keyCertSign; a CA needs it to issue certificates: reissue the CA with keyUsage=keyCertSign,cRLSign",
    },
    {
      name: 'PEM text without a certificate',
      mutate: (c) => ({ ...c, trustAnchors: [{ arn: TA, certificates: ['-----BEGIN PRIVATE KEY-----\nAA==\n-----END PRIVATE KEY-----'] }] }),
      message: 'emulator config trustAnchors[0].certificates[0]: the PEM text holds no CERTIFICATE block',
    },
    {
      name: 'role in another account',
      mutate: (c) => ({ ...c, profiles: [{ arn: PROFILE, roleArns: ['arn:aws:iam::999999999999:role/r'] }] }),
      message: 'emulator config profiles[0].roleArns[0]: arn:aws:iam::999999999999:role/r is in account 999999999999, not accountId 123456789012',
    },
    {
      name: 'profile duration out of range',
      mutate: (c) => ({ ...c, profiles: [{ arn: PROFILE, roleArns: [ROLE], durationSeconds: 60 }] }),
      message: 'emulator config profiles[0].durationSeconds: 60 is outside 900..43200',
    },
    {
      name: 'enabled as a string',
      mutate: (c) => ({ ...c, profiles: [{ arn: PROFILE, roleArns: [ROLE], enabled: 'yes' }] }),
      message: 'emulator config profiles[0].enabled: must be true or false',
    },
    {
      name: 'role maximum below IAM minimum',
      mutate: (c) => ({ ...c, roles: [{ arn: ROLE, maxSessionDuration: 100 }] }),
      message: 'emulator config roles[0].maxSessionDuration: 100 is outside 3600..43200 (the IAM limits)',
    },
  ];
  for (const row of rows) {
    t.throws(() => resolveEmulatorConfig(row.mutate(valid())), { code: 'EMULATOR_CONFIG_INVALID', message: row.message }, row.name);
  }
});

t.test('a damaged PEM block is refused where it is, inline or in a file', async (t) => {
  const damaged = '-----BEGIN CERTIFICATE-----\nnot*base64\n-----END CERTIFICATE-----\n';
  t.throws(() => resolveEmulatorConfig({ ...valid(), trustAnchors: [{ arn: TA, certificates: [root.certificatePem + damaged] }] }), {
    code: 'EMULATOR_CONFIG_INVALID',
    message: `emulator config trustAnchors[0].certificates[0]: PEM block "CERTIFICATE" that begins on line ${root.certificatePem.trimEnd().split('\n').length + 1} is not valid base64: the file is damaged or truncated; get a fresh copy`,
  });
  const dir = await mkdtemp(join(tmpdir(), 'emulator-config-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'cut.pem'), root.certificatePem.slice(0, 100));
  await writeFile(join(dir, 'key.pem'), '-----BEGIN PRIVATE KEY-----\nAA==\n-----END PRIVATE KEY-----\n');
  t.throws(() => resolveEmulatorConfig({ ...valid(), trustAnchors: [{ arn: TA, certificates: ['cut.pem'] }] }, { baseDir: dir }), {
    code: 'EMULATOR_CONFIG_INVALID',
    message: `emulator config trustAnchors[0].certificates[0]: ${join(dir, 'cut.pem')}: PEM block "CERTIFICATE" that begins on line 1 has no END line: the file is truncated; get a fresh copy`,
  });
  t.throws(() => resolveEmulatorConfig({ ...valid(), trustAnchors: [{ arn: TA, certificates: ['key.pem'] }] }, { baseDir: dir }), {
    code: 'EMULATOR_CONFIG_INVALID',
    message: `emulator config trustAnchors[0].certificates[0]: ${join(dir, 'key.pem')} holds no CERTIFICATE block`,
  });
});

t.test('a missing certificate file names the resolved path', async (t) => {
  const error = (() => {
    try {
      resolveEmulatorConfig({ ...valid(), trustAnchors: [{ arn: TA, certificates: ['missing.pem'] }] }, { baseDir: '/nonexistent-dir' });
      return undefined;
    } catch (caught) {
      return caught;
    }
  })();
  t.ok(isSignerError(error, 'EMULATOR_CONFIG_INVALID'));
  t.equal((error as Error).message, "emulator config trustAnchors[0].certificates[0]: cannot read /nonexistent-dir/missing.pem (ENOENT); check the path (relative paths start at the config file's folder)");
});

t.test('a config file that is not JSON', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'emulator-config-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'broken.json'), '{ "region": ');
  t.throws(() => loadEmulatorConfigFile(join(dir, 'broken.json')), { code: 'EMULATOR_CONFIG_INVALID', message: /^emulator config .*broken\.json is not valid JSON \(.+\); fix the syntax$/ });
});
