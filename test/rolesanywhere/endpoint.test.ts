import t from 'tap';
import { parseArn } from '../../src/rolesanywhere/arn.js';
import { resolveEndpoint } from '../../src/rolesanywhere/endpoint.js';
import { SignerError } from '../../src/errors.js';

const ta = (region: string, partition = 'aws') => parseArn(`arn:${partition}:rolesanywhere:${region}:123456789012:trust-anchor/a`, 'trust-anchor');
const profile = (region: string, partition = 'aws') => parseArn(`arn:${partition}:rolesanywhere:${region}:123456789012:profile/p`, 'profile');

function message(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    return `${(error as SignerError).code}: ${(error as Error).message}`;
  }
  return 'no error';
}

t.test('region and endpoint come from the trust anchor by default', async (t) => {
  const resolved = resolveEndpoint({ trustAnchor: ta('ap-southeast-2'), profile: profile('ap-southeast-2') });
  t.equal(resolved.region, 'ap-southeast-2');
  t.equal(resolved.url.href, 'https://rolesanywhere.ap-southeast-2.amazonaws.com/');
  t.equal(resolveEndpoint({ trustAnchor: ta('cn-north-1', 'aws-cn'), profile: profile('cn-north-1', 'aws-cn') }).url.host, 'rolesanywhere.cn-north-1.amazonaws.com.cn');
});

t.test('--region and --endpoint override', async (t) => {
  const resolved = resolveEndpoint({ endpoint: 'http://127.0.0.1:8443', region: 'us-west-2', trustAnchor: ta('us-west-2'), profile: profile('us-west-2') });
  t.equal(resolved.url.host, '127.0.0.1:8443');
  t.equal(resolved.region, 'us-west-2');
  t.equal(resolveEndpoint({ endpoint: 'rolesanywhere.example.test', trustAnchor: ta('us-east-1'), profile: profile('us-east-1') }).url.href, 'https://rolesanywhere.example.test/');
});

t.test('errors name the problem and the fix', async (t) => {
  t.equal(
    message(() => resolveEndpoint({ trustAnchor: ta('us-east-1'), profile: profile('eu-west-1') })),
    "REGION_MISMATCH: the trust anchor is in us-east-1 but the profile is in eu-west-1: use a profile from the trust anchor's region",
  );
  t.equal(
    message(() => resolveEndpoint({ endpoint: 'http://[bad', trustAnchor: ta('us-east-1'), profile: profile('us-east-1') })),
    'ENDPOINT_INVALID: --endpoint "http://[bad" is not a URL: use e.g. https://rolesanywhere.us-east-1.amazonaws.com',
  );
  t.equal(
    message(() => resolveEndpoint({ endpoint: 'ftp://x', trustAnchor: ta('us-east-1'), profile: profile('us-east-1') })),
    'ENDPOINT_INVALID: --endpoint "ftp://x" must be http:// or https://',
  );
  t.equal(
    message(() => resolveEndpoint({ endpoint: 'https://user:secret@h/', trustAnchor: ta('us-east-1'), profile: profile('us-east-1') })),
    'ENDPOINT_INVALID: --endpoint "https://h" must not carry credentials, a query or a fragment',
  );
  t.equal(
    message(() => resolveEndpoint({ region: 'Narnia', trustAnchor: ta('us-east-1'), profile: profile('us-east-1') })),
    'CONFIG_INVALID: --region "Narnia" is not a region name (e.g. us-east-1)',
  );
  t.equal(
    message(() => resolveEndpoint({ region: 'eu-west-1', trustAnchor: ta('us-east-1'), profile: profile('us-east-1') })),
    "REGION_MISMATCH: --region eu-west-1 is not the trust anchor's region us-east-1: trust anchors are looked up in their own region; drop --region or use a trust anchor from eu-west-1",
  );
  t.equal(
    message(() => resolveEndpoint({ endpoint: 'http://127.0.0.1:1', region: 'eu-west-1', trustAnchor: ta('us-east-1'), profile: profile('us-east-1') })),
    "REGION_MISMATCH: --region eu-west-1 is not the trust anchor's region us-east-1: trust anchors are looked up in their own region; drop --region or use a trust anchor from eu-west-1",
    'also with --endpoint: the signature scope would name the wrong region',
  );
});
