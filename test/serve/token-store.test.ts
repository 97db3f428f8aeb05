import t from 'tap';
import { createTokenStore } from '../../src/serve/token-store.js';

const T0 = Date.parse('2030-01-01T00:00:00Z');

function store() {
  let now = T0;
  const tokens = createTokenStore({ now: () => now });
  return { tokens, advance: (ms: number) => (now += ms) };
}

function issued(tokens: ReturnType<typeof createTokenStore>, ttl: number): string {
  return tokens.issue(ttl);
}

t.test('an issued token is accepted with its remaining TTL, then refused once expired', async (t) => {
  const { tokens, advance } = store();
  const token = issued(tokens, 60);
  t.match(token, /^[A-Za-z0-9_-]{64}$/, '48 random bytes, base64url');
  t.equal(tokens.check(token), 60);
  advance(59_500);
  t.equal(tokens.check(token), 1, 'never reports 0 while valid');
  advance(500);
  t.equal(tokens.check(token), undefined, 'expired at the TTL');
  advance(3600_000);
  t.equal(tokens.check(token), undefined, 'and stays refused');
});

t.test('tokens are random and independent', async (t) => {
  const { tokens } = store();
  const all = new Set(Array.from({ length: 100 }, () => issued(tokens, 10)));
  t.equal(all.size, 100);
  for (const token of all) t.equal(tokens.check(token), 10);
});

t.test('unknown, altered and malformed tokens are refused', async (t) => {
  const { tokens } = store();
  const token = issued(tokens, 60);
  const last = token.at(-1) === 'A' ? 'B' : 'A';
  t.equal(tokens.check(`${token.slice(0, -1)}${last}`), undefined, 'secret part altered');
  const first = token[0] === 'A' ? 'B' : 'A';
  t.equal(tokens.check(`${first}${token.slice(1)}`), undefined, 'id part altered');
  t.equal(tokens.check(''), undefined);
  t.equal(tokens.check(`${token}x`), undefined, 'too long');
  t.equal(tokens.check(token.replace(/.$/, '!')), undefined, 'not base64url');
  t.equal(tokens.check(issued(store().tokens, 60)), undefined, 'a token from another store');
});

t.test('a flood of token requests does not log out a client holding a valid token', async (t) => {
  const { tokens, advance } = store();
  const client = issued(tokens, 21_600);
  const flood = new Set<string>();
  for (let i = 0; i < 5000; i++) {
    flood.add(issued(tokens, 21_600));
    if (i % 100 === 0) advance(1000);
  }
  t.equal(flood.size, 5000, 'every request got its own token');
  t.equal(tokens.check(client), 21_600 - 50, 'the client\'s token still works, with its own TTL');
  // Forgotten by the flood, checked by its MAC above, and remembered again from that check:
  t.equal(tokens.check(client), 21_600 - 50, 'checked again from what the first check remembered');
  const last = client.at(-1) === 'A' ? 'B' : 'A';
  t.equal(tokens.check(`${client.slice(0, -1)}${last}`), undefined, 'and its id with another MAC is still refused');
  for (const token of flood) if (tokens.check(token) === undefined) t.fail('a flood token was refused');
});

t.test('a token whose expiry is altered is refused (the MAC covers it)', async (t) => {
  const { tokens } = store();
  const raw = Buffer.from(issued(tokens, 1), 'base64url');
  raw.writeBigUInt64BE(raw.readBigUInt64BE(0) + 3600_000n, 0);
  t.equal(tokens.check(raw.toString('base64url')), undefined);
});
