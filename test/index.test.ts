import t from 'tap';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import * as api from '../src/index.js';
import type { CreateCertificateAuthorityOptions, GeneratedKeyPair, IssueLeafCertificateOptions, RolesAnywhereProviderOptions } from '../src/index.js';
import { repoRoot } from './helpers/paths.js';

/** Every `import { ... } from 'roles-anywhere-signer'` in the user documentation. */
function documentedImports(): Map<string, string> {
  const files = [...readdirSync(join(repoRoot, 'docs')).filter((name) => name.endsWith('.md')).map((name) => join('docs', name)), 'README.md'];
  const names = new Map<string, string>();
  for (const file of files) {
    const text = readFileSync(join(repoRoot, file), 'utf8');
    for (const match of text.matchAll(/import\s*\{([^}]*)\}\s*from\s*'roles-anywhere-signer'/g)) {
      for (const name of (match[1] ?? '').split(',').map((part) => part.trim().replace(/^type\s+/, '')).filter((part) => part !== '')) {
        names.set(name, file);
      }
    }
  }
  return names;
}

t.test('every name the documentation imports from the package is exported by it', async (t) => {
  const names = documentedImports();
  t.ok(names.has('fromRolesAnywhere') && names.has('startEmulator'), 'the docs were found and read');
  for (const [name, file] of names) t.ok(name in api, `${name} (imported in ${file}) is exported`);
});

t.test('the emulator.md library example works through the package entry point, with fromRolesAnywhere', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'ras-index-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const caOptions: CreateCertificateAuthorityOptions = { subject: 'CN=Test CA', keyAlgorithm: 'EC-P256' };
  const ca = await api.createCertificateAuthority(caOptions);
  const key: GeneratedKeyPair = api.generateKeyPair('EC-P256');
  const leafOptions: IssueLeafCertificateOptions = { issuer: ca, subject: 'CN=workload', publicKey: key.publicKey };
  const leaf = await api.issueLeafCertificate(leafOptions);
  const emulator = await api.startEmulator(
    {
      region: 'us-east-1',
      accountId: '123456789012',
      trustAnchors: [{ arn: 'arn:aws:rolesanywhere:us-east-1:123456789012:trust-anchor/t', certificates: [ca.certificatePem] }],
      profiles: [{ arn: 'arn:aws:rolesanywhere:us-east-1:123456789012:profile/p', roleArns: ['arn:aws:iam::123456789012:role/r'] }],
    },
    { port: 0 },
  );
  t.teardown(() => emulator.close());

  const certificate = join(dir, 'leaf.pem');
  const privateKey = join(dir, 'leaf.key');
  await writeFile(certificate, leaf.certificatePem);
  await writeFile(privateKey, key.privateKeyPem, { mode: 0o600 });
  const options: RolesAnywhereProviderOptions = {
    certificate,
    privateKey,
    trustAnchorArn: 'arn:aws:rolesanywhere:us-east-1:123456789012:trust-anchor/t',
    profileArn: 'arn:aws:rolesanywhere:us-east-1:123456789012:profile/p',
    roleArn: 'arn:aws:iam::123456789012:role/r',
    endpoint: emulator.url,
  };
  const credentials = api.fromRolesAnywhere(options);
  t.teardown(() => credentials.close());
  const sts = new STSClient({ region: 'us-east-1', endpoint: emulator.url, credentials });
  t.teardown(() => sts.destroy());
  const caller = await sts.send(new GetCallerIdentityCommand({}));
  t.equal(caller.Account, '123456789012');
  t.same(emulator.stats, { createSession: 1, getCallerIdentity: 1 });
});
