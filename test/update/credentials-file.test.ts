import t from 'tap';
import { setProfileCredentials } from '../../src/update/credentials-file.js';

const creds = { accessKeyId: 'ASIANEW', secretAccessKey: 'NEWSECRET', sessionToken: 'NEWTOKEN', expiration: new Date('2030-01-01T00:00:00Z') };
const newKeys = 'aws_access_key_id = ASIANEW\naws_secret_access_key = NEWSECRET\naws_session_token = NEWTOKEN\n';

t.test('an empty file gets the profile', async (t) => {
  t.equal(setProfileCredentials('', 'default', creds), `[default]\n${newKeys}`);
});

t.test('a missing profile is appended after a blank line; everything before is untouched', async (t) => {
  const before = '# my credentials\n[other]\naws_access_key_id = AKIAOTHER\nregion=eu-west-1\n';
  t.equal(setProfileCredentials(before, 'work', creds), `${before}\n[work]\n${newKeys}`);
  t.equal(setProfileCredentials('[other]\nx = 1', 'work', creds), `[other]\nx = 1\n\n[work]\n${newKeys}`, 'a missing final newline is added before appending');
});

t.test('existing keys are replaced in place, keeping spelling, spacing and position', async (t) => {
  const before = [
    '[default]',
    'AWS_ACCESS_KEY_ID=OLDID',
    '; a comment about the secret',
    'aws_secret_access_key   :   OLDSECRET',
    'region = eu-west-1',
    '  aws_session_token = OLDTOKEN',
    '',
    '[other]',
    'aws_access_key_id = AKIAOTHER',
    'aws_session_token = KEEPME',
    '',
  ].join('\n');
  const after = [
    '[default]',
    'AWS_ACCESS_KEY_ID=ASIANEW',
    '; a comment about the secret',
    'aws_secret_access_key   :   NEWSECRET',
    'region = eu-west-1',
    '  aws_session_token = NEWTOKEN',
    '',
    '[other]',
    'aws_access_key_id = AKIAOTHER',
    'aws_session_token = KEEPME',
    '',
  ].join('\n');
  t.equal(setProfileCredentials(before, 'default', creds), after);
});

t.test('missing keys go after the profile\'s last setting, before trailing comments and blank lines', async (t) => {
  const before = '[default]\nregion = us-east-1\naws_access_key_id = OLD\n# end of default\n\n[next]\nk = v\n';
  const after = '[default]\nregion = us-east-1\naws_access_key_id = ASIANEW\naws_secret_access_key = NEWSECRET\naws_session_token = NEWTOKEN\n# end of default\n\n[next]\nk = v\n';
  t.equal(setProfileCredentials(before, 'default', creds), after);
  t.equal(setProfileCredentials('[default]\n\n[x]\n', 'default', creds), `[default]\n${newKeys}\n[x]\n`, 'an empty profile gets them right after its header');
  t.equal(setProfileCredentials('[default]', 'default', creds), `[default]\n${newKeys}`, 'a header without a newline at the end of the file');
});

t.test('continuation lines of an old value are dropped with it', async (t) => {
  const before = '[default]\naws_session_token = OLD\n  CONTINUED\n  MORE\nregion = x\n';
  t.equal(setProfileCredentials(before, 'default', creds), '[default]\naws_session_token = NEWTOKEN\nregion = x\naws_access_key_id = ASIANEW\naws_secret_access_key = NEWSECRET\n');
});

t.test('CRLF files stay CRLF, and headers with spaces and comments are recognised', async (t) => {
  const before = '[a]\r\nk = v\r\n[ default ] ; mine\r\naws_access_key_id = OLD\r\n';
  t.equal(setProfileCredentials(before, 'default', creds), '[a]\r\nk = v\r\n[ default ] ; mine\r\naws_access_key_id = ASIANEW\r\naws_secret_access_key = NEWSECRET\r\naws_session_token = NEWTOKEN\r\n');
});

t.test('a profile that appears twice: keys replaced in both, missing ones added once', async (t) => {
  const before = '[default]\naws_access_key_id = A\n[x]\n[default]\naws_session_token = B\n';
  t.equal(setProfileCredentials(before, 'default', creds), '[default]\naws_access_key_id = ASIANEW\naws_secret_access_key = NEWSECRET\naws_session_token = NEWTOKEN\n[x]\n[default]\naws_session_token = NEWTOKEN\n');
});

t.test('bytes outside the profile survive, even when they are not UTF-8 (latin1 in, latin1 out)', async (t) => {
  const raw = Buffer.concat([Buffer.from('# caf'), Buffer.from([0xe9, 0xff, 0x00]), Buffer.from('\n[default]\naws_access_key_id = OLD\n')]);
  const out = Buffer.from(setProfileCredentials(raw.toString('latin1'), 'default', creds), 'latin1');
  t.same(out.subarray(0, 8), raw.subarray(0, 8));
  t.equal(out.subarray(9).toString('latin1'), '[default]\naws_access_key_id = ASIANEW\naws_secret_access_key = NEWSECRET\naws_session_token = NEWTOKEN\n');
});

t.test('profile names that cannot be written are refused', async (t) => {
  for (const bad of ['', 'a]b', 'two\nlines', ' padded']) {
    t.throws(() => setProfileCredentials('', bad, creds), { code: 'USAGE', message: `--profile ${JSON.stringify(bad)} is not a usable profile name: use a name without brackets, line breaks or surrounding spaces` });
  }
});

t.test('a credential with a line break is never written', async (t) => {
  t.throws(() => setProfileCredentials('', 'default', { ...creds, sessionToken: 'a\nb' }), { code: 'CREATE_SESSION_BAD_RESPONSE' });
});
