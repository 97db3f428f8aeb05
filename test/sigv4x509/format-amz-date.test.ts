import t from 'tap';
import { formatAmzDate } from '../../src/sigv4x509/format-amz-date.js';

t.test('formatAmzDate is ISO 8601 basic, UTC, whole seconds', async (t) => {
  t.equal(formatAmzDate(new Date('2018-01-02T03:04:05Z')), '20180102T030405Z');
  t.equal(formatAmzDate(new Date('2024-02-29T23:59:59.999Z')), '20240229T235959Z', 'milliseconds are dropped, not rounded');
  t.equal(formatAmzDate(new Date('2025-06-30T23:30:00-02:00')), '20250701T013000Z', 'offsets are converted to UTC');
  t.equal(formatAmzDate(new Date(0)), '19700101T000000Z');
});

t.test('formatAmzDate refuses an invalid date', async (t) => {
  t.throws(() => formatAmzDate(new Date('not a date')), {
    name: 'SignerError',
    code: 'USAGE',
    message: 'signing date is not a valid date: pass a Date from the clock',
  });
});
