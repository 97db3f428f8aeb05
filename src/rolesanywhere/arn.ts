import { SignerError } from '../errors.js';

export interface ParsedArn {
  readonly arn: string;
  readonly partition: string;
  readonly service: string;
  readonly region: string;
  readonly accountId: string;
  readonly resource: string;
}

/** An AWS region name: us-east-1, eu-central-2, us-gov-west-1, cn-north-1. */
export const REGION_PATTERN = /^[a-z]{2}(-[a-z]+)+-\d+$/;

const ARN_RESOURCE_PATTERN = /^[\w+=,.@/-]+$/;

/** Which ARN a flag expects; used to check the service and resource prefix. */
export type ArnKind = 'trust-anchor' | 'profile' | 'role';

const expectations: Readonly<Record<ArnKind, { flag: string; service: string; resourcePrefix: string; example: string }>> = {
  'trust-anchor': {
    flag: '--trust-anchor-arn',
    service: 'rolesanywhere',
    resourcePrefix: 'trust-anchor/',
    example: 'arn:aws:rolesanywhere:us-east-1:123456789012:trust-anchor/UUID',
  },
  profile: {
    flag: '--profile-arn',
    service: 'rolesanywhere',
    resourcePrefix: 'profile/',
    example: 'arn:aws:rolesanywhere:us-east-1:123456789012:profile/UUID',
  },
  role: {
    flag: '--role-arn',
    service: 'iam',
    resourcePrefix: 'role/',
    example: 'arn:aws:iam::123456789012:role/NAME',
  },
};

/** Parses and checks one of the three ARNs CreateSession takes. */
export function parseArn(value: string, kind: ArnKind): ParsedArn {
  const want = expectations[kind];
  const fail = (why: string): never => {
    throw new SignerError('ARN_INVALID', `${want.flag} ${JSON.stringify(value)} is not a valid ARN (${why}): expected the form ${want.example}`);
  };
  const parts = value.split(':');
  if (parts.length < 6 || parts[0] !== 'arn') fail('it must start with arn: and have six colon-separated parts');
  const [, partition = '', service = '', region = '', accountId = ''] = parts;
  const resource = parts.slice(5).join(':');
  if (!/^aws(-[a-z]+)*$/.test(partition)) fail(`unknown partition "${partition}"`);
  if (service !== want.service) fail(`service is "${service}", not "${want.service}"`);
  if (want.service === 'iam') {
    if (region !== '') fail('IAM ARNs have an empty region');
  } else if (!REGION_PATTERN.test(region)) {
    fail(`"${region}" is not a region`);
  }
  if (!/^\d{12}$/.test(accountId)) fail('the account ID must be 12 digits');
  if (!resource.startsWith(want.resourcePrefix) || resource.length === want.resourcePrefix.length) {
    fail(`the resource must be ${want.resourcePrefix}...`);
  }
  // IAM names and Roles Anywhere IDs use only these; a quote, space or line break is a paste
  // accident that would otherwise travel to the service and come back as a vague 403.
  if (!ARN_RESOURCE_PATTERN.test(resource)) fail('it holds a quote, space, line break or other character ARNs never contain');
  return { arn: value, partition, service, region, accountId, resource };
}
