import t from 'tap';
import { selectProxy } from '../../src/rolesanywhere/proxy-env.js';

const https = new URL('https://rolesanywhere.eu-west-1.amazonaws.com/sessions');
const http = new URL('http://emulator.test:9910/sessions');

t.test('https endpoints use HTTPS_PROXY, upper case first (as Go reads it)', async (t) => {
  const choice = selectProxy(https, { HTTPS_PROXY: 'http://upper:3128', https_proxy: 'http://lower:3128', HTTP_PROXY: 'http://plain:3128' });
  t.match(choice, { kind: 'proxy', variable: 'HTTPS_PROXY', display: 'http://upper:3128' });
  t.match(selectProxy(https, { https_proxy: 'http://lower:3128' }), { kind: 'proxy', variable: 'https_proxy' });
});

t.test('http endpoints use HTTP_PROXY; there is no fallback between the two', async (t) => {
  t.match(selectProxy(http, { HTTP_PROXY: 'http://plain:3128', HTTPS_PROXY: 'http://secure:3128' }), { kind: 'proxy', variable: 'HTTP_PROXY' });
  t.match(selectProxy(http, { http_proxy: 'http://plain:3128' }), { kind: 'proxy', variable: 'http_proxy' });
  t.same(selectProxy(https, { HTTP_PROXY: 'http://plain:3128' }), {
    kind: 'direct',
    reason: 'HTTPS_PROXY and https_proxy are not set (HTTP_PROXY applies to http:// endpoints only)',
  });
});

t.test('the password never reaches the displayed proxy; a bare host:port is http://', async (t) => {
  const choice = selectProxy(https, { HTTPS_PROXY: 'http://alice:s%40cret@proxy.corp:8080' });
  t.match(choice, { kind: 'proxy', display: 'http://proxy.corp:8080' });
  t.equal(choice.kind === 'proxy' && choice.url.password, 's%40cret', 'kept for the Proxy-Authorization header');
  t.match(selectProxy(https, { HTTPS_PROXY: 'proxy.corp:3128' }), { kind: 'proxy', display: 'http://proxy.corp:3128' });
});

t.test('NO_PROXY (then no_proxy) and loopback send the request directly', async (t) => {
  t.same(selectProxy(https, { HTTPS_PROXY: 'http://p:1', NO_PROXY: '.amazonaws.com' }), { kind: 'direct', reason: 'rolesanywhere.eu-west-1.amazonaws.com:443 matches NO_PROXY' });
  t.same(selectProxy(https, { HTTPS_PROXY: 'http://p:1', no_proxy: 'amazonaws.com' }), { kind: 'direct', reason: 'rolesanywhere.eu-west-1.amazonaws.com:443 matches no_proxy' });
  t.match(selectProxy(https, { HTTPS_PROXY: 'http://p:1', NO_PROXY: 'other.test' }), { kind: 'proxy' });
  for (const host of ['localhost', '127.0.0.1', '127.8.9.10', '[::1]']) {
    t.match(selectProxy(new URL(`https://${host}:9443/sessions`), { HTTPS_PROXY: 'http://p:1' }), { kind: 'direct' }, host);
  }
  t.match(selectProxy(new URL('https://127.example.com/sessions'), { HTTPS_PROXY: 'http://p:1' }), { kind: 'proxy' }, 'a name starting with 127. is not an address');
});

t.test('unusable proxy settings are refused with the variable named and the value withheld', async (t) => {
  t.throws(() => selectProxy(https, { HTTPS_PROXY: 'socks5://user:pw@p:1080' }), { code: 'PROXY_INVALID', message: 'HTTPS_PROXY names a socks5 proxy; only http:// and https:// proxies are supported' });
  t.throws(() => selectProxy(https, { HTTPS_PROXY: 'http://user:pw@[bad' }), {
    code: 'PROXY_INVALID',
    message: 'HTTPS_PROXY is not a proxy URL: use http://host:port (or https://host:port), with user:password@ before the host if the proxy needs them',
  });
});
