import t from 'tap';
import { createTokenStore } from '../../src/serve/token-store.js';

const T0 = Date.parse('2030-01-01T00:00:00Z');

function store(capacity?: number) {
  let now = T0;
  const tokens = createTokenStore({ clock: () => new Date(now), ...(capacity !== undefined ? { capacity } : {}) });
  return { tokens, advance: (ms: number) => (now += ms) };
}

/** A token the store must issue (it has room). */
function issued(tokens: ReturnType<typeof createTokenStore>, ttl: number): string {
  const token = tokens.issue(ttl);
  if (token === undefined) throw new Error('the store refused a token while it had room');
  return token;
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
  t.equal(tokens.size, 0, 'an expired token is dropped when seen');
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

t.test('the store is bounded: expired tokens make room; valid tokens are never evicted, new ones are refused', async (t) => {
  const { tokens, advance } = store(3);
  const short = tokens.issue(1);
  const long = tokens.issue(100);
  const medium = tokens.issue(50);
  t.equal(tokens.issue(100), undefined, 'full of valid tokens: the new one is refused');
  for (const kept of [short, long, medium]) t.ok(tokens.check(kept as string) !== undefined, 'and every issued token still works');
  advance(2000);
  const fourth = tokens.issue(100);
  t.type(fourth, 'string', 'the expired one made room');
  t.equal(tokens.size, 3);
  t.equal(tokens.check(short as string), undefined);
  t.equal(tokens.issue(100), undefined, 'full again');
  advance(49_000);
  t.type(tokens.issue(100), 'string', 'once the medium one expires, there is room again');
  for (const kept of [long, fourth]) t.ok(tokens.check(kept as string) !== undefined);
});

t.test('a flood of token requests does not log out a client holding a valid token', async (t) => {
  const { tokens, advance } = store(64);
  const client = tokens.issue(21_600) as string;
  let refused = 0;
  for (let i = 0; i < 5000; i++) {
    if (tokens.issue(21_600) === undefined) refused++;
    if (i % 100 === 0) advance(1000);
  }
  t.equal(refused, 5000 - 63, 'all but the room left were refused');
  t.ok(tokens.check(client) !== undefined, 'the client\'s token still works');
  t.equal(tokens.size, 64);
});

t.test('expired tokens are dropped by time passing, also after a long quiet spell, and memory stays bounded', async (t) => {
  const { tokens, advance } = store(10);
  for (let round = 0; round < 50; round++) {
    for (let i = 0; i < 10; i++) t.type(tokens.issue(1 + (i % 3)), 'string', `round ${round}: room for all`);
    advance(round % 7 === 0 ? 6 * 3600_000 : 3000);
  }
  t.ok(tokens.size <= 10);
});
