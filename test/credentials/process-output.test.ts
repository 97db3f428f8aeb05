import t from 'tap';
import { formatCredentialProcessOutput } from '../../src/credentials/process-output.js';

t.test('matches the reference helper byte for byte: key order, compact, no newline, no millis', async (t) => {
  const out = formatCredentialProcessOutput({
    accessKeyId: 'ASIAXAMPLE',
    secretAccessKey: 's/e+c',
    sessionToken: 'tok==',
    expiration: new Date('2030-01-02T03:04:05.678Z'),
  });
  t.equal(out, '{"Version":1,"AccessKeyId":"ASIAXAMPLE","SecretAccessKey":"s/e+c","SessionToken":"tok==","Expiration":"2030-01-02T03:04:05Z"}');
});
