import t from 'tap';
import { noProxyMatches } from '../../src/rolesanywhere/no-proxy.js';

/** [NO_PROXY value, host, port, sent directly?, why] */
const table: ReadonlyArray<readonly [string, string, number, boolean, string]> = [
  ['', 'rolesanywhere.us-east-1.amazonaws.com', 443, false, 'empty: everything through the proxy'],
  ['*', 'rolesanywhere.us-east-1.amazonaws.com', 443, true, '* alone: nothing through the proxy'],
  [' * ', 'example.com', 80, true, 'spaces around * are ignored'],
  ['*.example.com', 'api.example.com', 443, true, '*. prefix is a domain suffix'],
  ['example.com', 'example.com', 443, true, 'a domain matches itself'],
  ['example.com', 'api.example.com', 443, true, 'and its subdomains'],
  ['example.com', 'a.b.example.com', 443, true, 'at any depth'],
  ['example.com', 'badexample.com', 443, false, 'only on a dot boundary'],
  ['example.com', 'example.com.evil.test', 443, false, 'a suffix, not a prefix'],
  ['.example.com', 'api.example.com', 443, true, 'a leading dot: subdomains'],
  ['.example.com', 'example.com', 443, true, 'and, as curl and the AWS CLI read it, the domain itself'],
  ['EXAMPLE.com', 'Api.Example.COM', 443, true, 'case-insensitive'],
  ['example.com', 'api.example.com.', 443, true, 'a fully qualified name (trailing dot) matches'],
  ['amazonaws.com', 'rolesanywhere.eu-west-1.amazonaws.com', 443, true, 'the AWS domain'],
  ['internal.test, amazonaws.com', 'rolesanywhere.eu-west-1.amazonaws.com', 443, true, 'comma-separated, spaces ignored'],
  ['internal.test,,', 'rolesanywhere.eu-west-1.amazonaws.com', 443, false, 'empty entries are skipped'],
  ['example.com:8443', 'example.com', 8443, true, 'name:port matches that port'],
  ['example.com:8443', 'example.com', 443, false, 'and no other'],
  ['example.com:443', 'api.example.com', 443, true, 'port and suffix together'],
  ['10.1.2.3', '10.1.2.3', 443, true, 'an IPv4 literal'],
  ['10.1.2.3', '10.1.2.30', 443, false, 'IP literals match exactly, not as text prefixes'],
  ['10.1.2.3:8443', '10.1.2.3', 443, false, 'an IPv4 literal with another port'],
  ['10.1.2.3:8443', '10.1.2.3', 8443, true, 'an IPv4 literal with its port'],
  ['10.0.0.0/8', '10.200.3.4', 443, true, 'CIDR (Go, curl 7.86+)'],
  ['10.0.0.0/8', '11.0.0.1', 443, false, 'outside the block'],
  ['10.0.0.0/8', 'ten.example.com', 443, false, 'CIDR never matches names: nothing is resolved'],
  ['192.168.0.0/33', '192.168.0.1', 443, false, 'an impossible prefix length matches nothing'],
  ['::1', '[::1]', 443, true, 'an IPv6 literal, bare in NO_PROXY, bracketed in the URL'],
  ['[2001:db8::1]', '[2001:db8::1]', 443, true, 'an IPv6 literal in brackets'],
  ['[2001:db8::1]:8443', '[2001:db8::1]', 443, false, 'an IPv6 literal with another port'],
  ['2001:db8::/32', '[2001:db8:0:1::5]', 443, true, 'IPv6 CIDR'],
  ['2001:db8::/32', '[2001:db9::5]', 443, false, 'outside the IPv6 block'],
  ['2001:0db8::1', '[2001:db8::1]', 443, true, 'IPv6 compared as addresses, not text'],
  ['example.com', '10.1.2.3', 443, false, 'a name never matches an address'],
];

for (const [noProxy, host, port, direct, why] of table) {
  t.test(`NO_PROXY=${JSON.stringify(noProxy)} ${host}:${port} -> ${direct ? 'direct' : 'proxy'} (${why})`, async (t) => {
    t.equal(noProxyMatches(noProxy, host, port), direct);
  });
}
