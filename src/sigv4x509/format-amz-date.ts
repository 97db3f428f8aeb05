import { SignerError } from '../errors.js';

/** ISO 8601 basic format in UTC, to the second: `YYYYMMDDTHHMMSSZ` (X-Amz-Date). */
export function formatAmzDate(date: Date): string {
  const time = date.getTime();
  if (!Number.isFinite(time)) {
    throw new SignerError('USAGE', 'signing date is not a valid date: pass a Date from the clock');
  }
  // toISOString is `YYYY-MM-DDTHH:MM:SS.sssZ`; years outside 0000-9999 cannot be signed anyway.
  const iso = date.toISOString();
  return `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}T${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`;
}
