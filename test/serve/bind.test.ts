import t from 'tap';
import { planBind, parseHopLimit, parsePort, urlHost } from '../../src/serve/bind.js';

t.test('loopback addresses are accepted as they are', async (t) => {
  t.same(planBind('127.0.0.1', { allowNonLoopback: false, hopLimit: 64 }), { host: '127.0.0.1', family: 4, loopback: true });
  t.same(planBind('127.0.0.53', { allowNonLoopback: false, hopLimit: 64 }), { host: '127.0.0.53', family: 4, loopback: true });
  t.same(planBind('::1', { allowNonLoopback: false, hopLimit: 64 }), { host: '::1', family: 6, loopback: true });
  t.same(planBind('[::1]', { allowNonLoopback: false, hopLimit: 64 }), { host: '::1', family: 6, loopback: true });
  t.same(planBind('localhost', { allowNonLoopback: false, hopLimit: 64 }), { host: '127.0.0.1', family: 4, loopback: true });
});

t.test('a non-loopback address needs --allow-non-loopback', async (t) => {
  t.throws(() => planBind('0.0.0.0', { allowNonLoopback: false, hopLimit: 1 }), {
    code: 'USAGE',
    message: '--bind 0.0.0.0 is not a loopback address, so anyone who can reach it could take the credentials: bind to 127.0.0.1 or ::1, or pass --allow-non-loopback with --hop-limit 1',
  });
  t.throws(() => planBind('::', { allowNonLoopback: false, hopLimit: 1 }), { code: 'USAGE' });
});

t.test('... and a hop limit of 1', async (t) => {
  t.throws(() => planBind('10.1.2.3', { allowNonLoopback: true, hopLimit: 64 }), {
    code: 'USAGE',
    message: '--bind 10.1.2.3 is not a loopback address: it needs --hop-limit 1 so that answers cannot travel past the next hop',
  });
  t.same(planBind('10.1.2.3', { allowNonLoopback: true, hopLimit: 1 }), { host: '10.1.2.3', family: 4, loopback: false });
});

t.test('host names are refused', async (t) => {
  t.throws(() => planBind('example.com', { allowNonLoopback: true, hopLimit: 1 }), {
    code: 'USAGE',
    message: '--bind "example.com" is not an IP address: give an address such as 127.0.0.1 or ::1',
  });
});

t.test('hop limits and ports are whole numbers in range', async (t) => {
  t.equal(parseHopLimit('1'), 1);
  t.equal(parseHopLimit('255'), 255);
  for (const bad of ['0', '256', '-1', '1.5', 'x', '']) {
    t.throws(() => parseHopLimit(bad), { code: 'USAGE', message: `--hop-limit ${JSON.stringify(bad)} is not a whole number from 1 to 255` });
  }
  t.equal(parsePort('0'), 0);
  t.equal(parsePort('65535'), 65535);
  t.throws(() => parsePort('65536'), { code: 'USAGE', message: '--port "65536" is not a port number from 0 to 65535' });
});

t.test('IPv6 hosts go in brackets in URLs', async (t) => {
  t.equal(urlHost('::1', 6), '[::1]');
  t.equal(urlHost('127.0.0.1', 4), '127.0.0.1');
});
