import t from 'tap';
import { parseArn } from '../../src/rolesanywhere/arn.js';
import { SignerError } from '../../src/errors.js';

const TA = 'arn:aws:rolesanywhere:eu-west-1:123456789012:trust-anchor/2b1c0f7e-0000-4000-8000-000000000001';

t.test('parses the three ARNs CreateSession takes', async (t) => {
  const ta = parseArn(TA, 'trust-anchor');
  t.equal(ta.region, 'eu-west-1');
  t.equal(ta.accountId, '123456789012');
  t.equal(ta.partition, 'aws');
  t.equal(parseArn('arn:aws-cn:rolesanywhere:cn-north-1:123456789012:profile/p', 'profile').partition, 'aws-cn');
  t.equal(parseArn('arn:aws:iam::123456789012:role/path/Admin', 'role').resource, 'role/path/Admin');
});

const bad: Array<[string, Parameters<typeof parseArn>[1], string]> = [
  ['not-an-arn', 'trust-anchor', '--trust-anchor-arn "not-an-arn" is not a valid ARN (it must start with arn: and have six colon-separated parts): expected the form arn:aws:rolesanywhere:us-east-1:123456789012:trust-anchor/UUID'],
  ['arn:aws:iam::123456789012:role/x', 'profile', '--profile-arn "arn:aws:iam::123456789012:role/x" is not a valid ARN (service is "iam", not "rolesanywhere"): expected the form arn:aws:rolesanywhere:us-east-1:123456789012:profile/UUID'],
  ['arn:aws:rolesanywhere:eu-west-1:1234:profile/x', 'profile', '--profile-arn "arn:aws:rolesanywhere:eu-west-1:1234:profile/x" is not a valid ARN (the account ID must be 12 digits): expected the form arn:aws:rolesanywhere:us-east-1:123456789012:profile/UUID'],
  ['arn:aws:rolesanywhere:eu-west-1:123456789012:profile/x', 'trust-anchor', '--trust-anchor-arn "arn:aws:rolesanywhere:eu-west-1:123456789012:profile/x" is not a valid ARN (the resource must be trust-anchor/...): expected the form arn:aws:rolesanywhere:us-east-1:123456789012:trust-anchor/UUID'],
  ['arn:aws:rolesanywhere:mars:123456789012:profile/x', 'profile', '--profile-arn "arn:aws:rolesanywhere:mars:123456789012:profile/x" is not a valid ARN ("mars" is not a region): expected the form arn:aws:rolesanywhere:us-east-1:123456789012:profile/UUID'],
  ['arn:aws:iam:us-east-1:123456789012:role/x', 'role', '--role-arn "arn:aws:iam:us-east-1:123456789012:role/x" is not a valid ARN (IAM ARNs have an empty region): expected the form arn:aws:iam::123456789012:role/NAME'],
  ['arn:aws:rolesanywhere:us-east-1:123456789012:trust-anchor/0f1e2d3c"', 'trust-anchor', '--trust-anchor-arn "arn:aws:rolesanywhere:us-east-1:123456789012:trust-anchor/0f1e2d3c\\"" is not a valid ARN (it holds a quote, space, line break or other character ARNs never contain): expected the form arn:aws:rolesanywhere:us-east-1:123456789012:trust-anchor/UUID'],
  ['arn:aws:rolesanywhere:us-east-1:123456789012:profile/p\n', 'profile', '--profile-arn "arn:aws:rolesanywhere:us-east-1:123456789012:profile/p\\n" is not a valid ARN (it holds a quote, space, line break or other character ARNs never contain): expected the form arn:aws:rolesanywhere:us-east-1:123456789012:profile/UUID'],
  ['arn:aws:iam::123456789012:role/app\nx', 'role', '--role-arn "arn:aws:iam::123456789012:role/app\\nx" is not a valid ARN (it holds a quote, space, line break or other character ARNs never contain): expected the form arn:aws:iam::123456789012:role/NAME'],
  ["arn:aws:iam::123456789012:role/app '", 'role', '--role-arn "arn:aws:iam::123456789012:role/app \'" is not a valid ARN (it holds a quote, space, line break or other character ARNs never contain): expected the form arn:aws:iam::123456789012:role/NAME'],
];

for (const [value, kind, message] of bad) {
  t.test(`rejects ${value} as ${kind}`, async (t) => {
    t.throws(() => parseArn(value, kind), new SignerError('ARN_INVALID', message));
    try {
      parseArn(value, kind);
    } catch (error) {
      t.equal((error as SignerError).code, 'ARN_INVALID');
      t.equal((error as SignerError).message, message);
    }
  });
}
