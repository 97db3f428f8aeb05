import { SCOPE_TERMINATOR } from './constants.js';

/** `YYYYMMDD/region/service/aws4_request`, the date taken from an X-Amz-Date value. */
export function buildCredentialScope(amzDate: string, region: string, service: string): string {
  return `${amzDate.slice(0, 8)}/${region}/${service}/${SCOPE_TERMINATOR}`;
}
