import t from 'tap';
import { profileSetting, resolveTrust, type TrustDeps } from '../../src/rolesanywhere/trust.js';

const pem = (name: string): string => `-----BEGIN CERTIFICATE-----\n${name}\n-----END CERTIFICATE-----`;
const ROOTS = [pem('builtin-1'), pem('builtin-2')];

/** A file system of a few files and directories; everything else cannot be read. */
function deps(env: Record<string, string>, files: Record<string, string> = {}, dirs: Record<string, string[]> = {}): TrustDeps {
  return {
    env,
    homeDirectory: '/home/u',
    readText: (path) => files[path],
    listDirectory: (path) => dirs[path],
    builtInRoots: () => ROOTS,
  };
}

t.test('nothing set: Node keeps its own roots (NODE_EXTRA_CA_CERTS included)', async (t) => {
  t.same(resolveTrust(deps({})), { description: 'trusting the built-in roots (and NODE_EXTRA_CA_CERTS if set)' });
});

t.test('AWS_CA_BUNDLE replaces the built-in roots, as for the AWS CLI, and wins over ca_bundle', async (t) => {
  const files = {
    '/etc/corp.pem': `# corporate CAs\n${pem('corp-1')}\n${pem('corp-2')}\n`,
    '/home/u/.aws/config': '[default]\nregion = eu-west-1\nca_bundle = ~/profile-ca.pem\n',
    '/home/u/profile-ca.pem': pem('profile'),
  };
  const decision = resolveTrust(deps({ AWS_CA_BUNDLE: '/etc/corp.pem', SSL_CERT_FILE: '/x.pem' }, files));
  t.same(decision.ca, [pem('corp-1'), pem('corp-2')]);
  t.equal(decision.description, 'trusting 2 CA certificate(s) from AWS_CA_BUNDLE /etc/corp.pem in place of the built-in roots; ca_bundle of profile default in /home/u/.aws/config is not used (AWS_CA_BUNDLE wins); SSL_CERT_FILE/SSL_CERT_DIR are not used');
});

t.test('ca_bundle of the active profile ($AWS_PROFILE in $AWS_CONFIG_FILE), ~ expanded, NODE_EXTRA_CA_CERTS added', async (t) => {
  const files = {
    '/cfg': '[default]\nca_bundle = /wrong.pem\n[profile dev]\nca_bundle = ~/dev-ca.pem\n',
    '/home/u/dev-ca.pem': pem('dev'),
    '/extra.pem': pem('extra'),
  };
  const decision = resolveTrust(deps({ AWS_CONFIG_FILE: '/cfg', AWS_PROFILE: 'dev', NODE_EXTRA_CA_CERTS: '/extra.pem' }, files));
  t.same(decision.ca, [pem('dev'), pem('extra')]);
  t.equal(decision.description, 'trusting 1 CA certificate(s) from ca_bundle of profile dev in /cfg /home/u/dev-ca.pem in place of the built-in roots, plus 1 from NODE_EXTRA_CA_CERTS /extra.pem');
});

t.test('an unreadable or empty bundle is an error naming where it came from', async (t) => {
  t.throws(() => resolveTrust(deps({ AWS_CA_BUNDLE: '/missing.pem' })), {
    code: 'CONFIG_INVALID',
    message: 'AWS_CA_BUNDLE names /missing.pem, which cannot be read: fix the path or unset it',
  });
  t.throws(() => resolveTrust(deps({ AWS_CA_BUNDLE: '/key.pem' }, { '/key.pem': '-----BEGIN PRIVATE KEY-----\nx\n-----END PRIVATE KEY-----\n' })), {
    code: 'CONFIG_INVALID',
    message: 'AWS_CA_BUNDLE names /key.pem, which holds no PEM certificate: give a PEM bundle of CA certificates',
  });
});

t.test('SSL_CERT_FILE and SSL_CERT_DIR: the system CAs as Go reads them replace the built-in roots; unreadable entries are skipped', async (t) => {
  const files = { '/ca.pem': pem('file'), '/d1/a.pem': pem('dir-a'), '/d1/b.der': 'binary', '/d2/c.crt': pem('dir-c') };
  const decision = resolveTrust(deps({ SSL_CERT_FILE: '/ca.pem', SSL_CERT_DIR: '/d1:/missing:/d2' }, files, { '/d1': ['b.der', 'a.pem'], '/d2': ['c.crt'] }));
  t.same(decision.ca, [pem('file'), pem('dir-a'), pem('dir-c')]);
  t.equal(decision.description, 'trusting the system CAs as Go reads them, in place of the built-in roots: 1 from SSL_CERT_FILE /ca.pem, 1 from SSL_CERT_DIR /d1, SSL_CERT_DIR entry /missing cannot be read (skipped, as Go does), 1 from SSL_CERT_DIR /d2');
});

t.test('one of the two set: Go\'s default for the other (the distribution bundle, /etc/ssl/certs and /etc/pki/tls/certs)', async (t) => {
  const files = { '/company.pem': pem('company'), '/etc/ssl/certs/system.pem': pem('system'), '/etc/pki/tls/certs/ca-bundle.crt': pem('rhel-bundle') };
  const dirs = { '/etc/ssl/certs': ['system.pem'] };
  const onlyFile = resolveTrust(deps({ SSL_CERT_FILE: '/company.pem' }, files, dirs));
  t.same(onlyFile.ca, [pem('company'), pem('system')], 'a company CA in SSL_CERT_FILE adds to the system directories');
  t.equal(onlyFile.description, 'trusting the system CAs as Go reads them, in place of the built-in roots: 1 from SSL_CERT_FILE /company.pem, 1 from directory /etc/ssl/certs');
  const onlyDir = resolveTrust(deps({ SSL_CERT_DIR: '/corp' }, { ...files, '/corp/c.pem': pem('corp') }, { '/corp': ['c.pem'] }));
  t.same(onlyDir.ca, [pem('rhel-bundle'), pem('corp')], 'the first distribution bundle that exists, then SSL_CERT_DIR');
  t.equal(onlyDir.description, 'trusting the system CAs as Go reads them, in place of the built-in roots: 1 from file /etc/pki/tls/certs/ca-bundle.crt, 1 from SSL_CERT_DIR /corp');
});

t.test('nothing readable where Go would look: the built-in roots, said so', async (t) => {
  const decision = resolveTrust(deps({ SSL_CERT_FILE: '/nope.pem' }));
  t.same(decision.ca, ROOTS);
  t.equal(decision.description, 'trusting the built-in roots: SSL_CERT_FILE /nope.pem cannot be read (skipped, as Go does) gave no certificate');
});

t.test('a file reached under several names (the links of /etc/ssl/certs, the bundle itself) is read once', async (t) => {
  const files: Record<string, string> = { '/certs/bundle.crt': `${pem('a')}\n${pem('b')}`, '/certs/aaaa.0': pem('a'), '/certs/a.pem': pem('a'), '/certs/bbbb.0': pem('b') };
  const identities: Record<string, string> = { '/certs/bundle.crt': 'bundle', '/certs/aaaa.0': 'a', '/certs/a.pem': 'a', '/certs/bbbb.0': 'b' };
  const reads: string[] = [];
  const decision = resolveTrust({
    ...deps({ SSL_CERT_FILE: '/certs/bundle.crt', SSL_CERT_DIR: '/certs' }, files, { '/certs': Object.keys(files).map((path) => path.slice('/certs/'.length)) }),
    readText: (path) => {
      reads.push(path);
      return files[path];
    },
    fileIdentity: (path) => identities[path],
  });
  t.same(reads.filter((path) => path.startsWith('/certs/')), ['/certs/bundle.crt', '/certs/a.pem', '/certs/bbbb.0'], 'the bundle once, the a link once, b once');
  t.same(decision.ca, [pem('a'), pem('b')], 'and each certificate once');
  t.equal(decision.description, 'trusting the system CAs as Go reads them, in place of the built-in roots: 2 from SSL_CERT_FILE /certs/bundle.crt, 2 from SSL_CERT_DIR /certs');
});

t.test('profileSetting reads the AWS config file format', async (t) => {
  const text = [
    '# comment',
    '[default]',
    'ca_bundle=/default.pem',
    '[profile   spaced]',
    'ca_bundle = /spaced.pem',
    '[profile nested]',
    's3 =',
    '  ca_bundle = /not-top-level.pem',
    '[sso-session x]',
    'ca_bundle = /sso.pem',
    '[profile default]',
    'region = us-east-1',
  ].join('\n');
  t.equal(profileSetting(text, 'default', 'ca_bundle'), '/default.pem');
  t.equal(profileSetting(text, 'spaced', 'ca_bundle'), '/spaced.pem');
  t.equal(profileSetting(text, 'nested', 'ca_bundle'), undefined, 'nested settings are not the profile\'s');
  t.equal(profileSetting(text, 'x', 'ca_bundle'), undefined, 'an sso-session is not a profile');
  t.equal(profileSetting('[profile a]\r\nca_bundle = /crlf.pem\r\n', 'a', 'ca_bundle'), '/crlf.pem');
});
