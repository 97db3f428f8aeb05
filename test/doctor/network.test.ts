import t from 'tap';
import { checkProxy } from '../../src/doctor/network.js';

/** doctor's proxy line: the rule credential-process uses (rolesanywhere/proxy-env.ts), said without secrets. */
const endpoint = new URL('https://rolesanywhere.eu-west-1.amazonaws.com');

t.test('with --with-proxy: the proxy and its variable, never its user or password', async (t) => {
  t.same(checkProxy(endpoint, true, { https_proxy: 'http://alice:s3cret@proxy.example:3128' }), { check: 'proxy', status: 'ok', detail: 'http://proxy.example:3128 (from https_proxy)' });
  t.same(checkProxy(endpoint, true, { HTTPS_PROXY: 'proxy.example:8080' }), { check: 'proxy', status: 'ok', detail: 'http://proxy.example:8080 (from HTTPS_PROXY)' }, 'no scheme means http://');
  t.same(checkProxy(endpoint, true, { HTTPS_PROXY: 'http://proxy.example:3128', NO_PROXY: '.amazonaws.com' }), { check: 'proxy', status: 'ok', detail: 'none: rolesanywhere.eu-west-1.amazonaws.com:443 matches NO_PROXY' });
  t.same(checkProxy(endpoint, true, { HTTP_PROXY: 'http://proxy.example:3128' }), { check: 'proxy', status: 'ok', detail: 'none: HTTPS_PROXY and https_proxy are not set (HTTP_PROXY applies to http:// endpoints only)' });
  t.same(checkProxy(new URL('http://127.0.0.1:8443'), true, { HTTP_PROXY: 'http://proxy.example:3128' }), { check: 'proxy', status: 'ok', detail: 'none: 127.0.0.1 is a loopback address, never proxied' });
});

t.test('without --with-proxy: a proxy in the environment is a warning naming the flag', async (t) => {
  t.same(checkProxy(endpoint, false, { HTTPS_PROXY: 'http://bob:pw@proxy.example:3128' }), {
    check: 'proxy',
    status: 'warn',
    detail: 'http://proxy.example:3128 (from HTTPS_PROXY) set in the environment but not used (credential-process uses it only with --with-proxy)',
    fix: 'if this machine reaches rolesanywhere.eu-west-1.amazonaws.com only through that proxy, add --with-proxy to the credential_process line (and to this doctor run)',
  });
  t.same(checkProxy(endpoint, false, {}), { check: 'proxy', status: 'ok', detail: 'none: HTTPS_PROXY and https_proxy are not set' });
});

t.test('a proxy variable that is not a proxy URL: a failure with --with-proxy, a warning without; its value is not echoed', async (t) => {
  const env = { HTTPS_PROXY: 'socks5://carol:hunter2@proxy.example:1080' };
  t.same(checkProxy(endpoint, true, env), { check: 'proxy', status: 'fail', detail: 'HTTPS_PROXY names a socks5 proxy; only http:// and https:// proxies are supported', fix: 'fix or unset that variable' });
  t.same(checkProxy(endpoint, false, env), { check: 'proxy', status: 'warn', detail: 'HTTPS_PROXY names a socks5 proxy; only http:// and https:// proxies are supported', fix: 'fix or unset that variable' });
  t.notMatch(JSON.stringify(checkProxy(endpoint, true, env)), /hunter2|carol/);
});
