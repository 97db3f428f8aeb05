import { SignerError } from '../errors.js';
import { REGION_PATTERN, type ParsedArn } from './arn.js';

export interface ResolvedEndpoint {
  readonly url: URL;
  readonly region: string;
}

const dnsSuffixByPartition: Readonly<Record<string, string>> = {
  aws: 'amazonaws.com',
  'aws-cn': 'amazonaws.com.cn',
  'aws-us-gov': 'amazonaws.com',
};

/**
 * Region: --region, else the trust anchor's. The trust anchor and profile live in one region
 * (the service rejects anything else), so a mismatch is caught here, before any signing; so is
 * a --region other than the trust anchor's, where the service could only answer "not found".
 * Endpoint: --endpoint, else rolesanywhere.<region>.<partition suffix>.
 */
export function resolveEndpoint(options: {
  readonly endpoint?: string;
  readonly region?: string;
  readonly trustAnchor: ParsedArn;
  readonly profile: ParsedArn;
}): ResolvedEndpoint {
  const { trustAnchor, profile } = options;
  if (trustAnchor.region !== profile.region) {
    throw new SignerError(
      'REGION_MISMATCH',
      `the trust anchor is in ${trustAnchor.region} but the profile is in ${profile.region}: use a profile from the trust anchor's region`,
    );
  }
  const region = options.region ?? trustAnchor.region;
  if (!REGION_PATTERN.test(region)) {
    throw new SignerError('CONFIG_INVALID', `--region ${JSON.stringify(region)} is not a region name (e.g. us-east-1)`);
  }
  if (region !== trustAnchor.region) {
    throw new SignerError('REGION_MISMATCH', `--region ${region} is not the trust anchor's region ${trustAnchor.region}: trust anchors are looked up in their own region; drop --region or use a trust anchor from ${region}`);
  }
  if (options.endpoint !== undefined) return { url: parseEndpoint(options.endpoint), region };
  const suffix = dnsSuffixByPartition[trustAnchor.partition] ?? 'amazonaws.com';
  return { url: new URL(`https://rolesanywhere.${region}.${suffix}`), region };
}

function parseEndpoint(value: string): URL {
  // The reference helper accepts a bare host name; so do we.
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : `https://${value}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new SignerError('ENDPOINT_INVALID', `--endpoint ${JSON.stringify(value)} is not a URL: use e.g. https://rolesanywhere.us-east-1.amazonaws.com`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new SignerError('ENDPOINT_INVALID', `--endpoint ${JSON.stringify(value)} must be http:// or https://`);
  }
  if (url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '') {
    throw new SignerError('ENDPOINT_INVALID', `--endpoint ${JSON.stringify(url.origin)} must not carry credentials, a query or a fragment`);
  }
  return url;
}
