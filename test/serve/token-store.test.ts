import t from 'tap';
import { createTokenStore } from '../../src/serve/token-store.js';

const T0 = Date.parse('2030-01-01T00:00:00Z');

function store(capacity?: number) {
  let now = T0;
  const tokens = createTokenStore({ clock: () => new Date(now), ...(capacity !== undefined ? { capacity } : {}) });
  return { tokens, advance: (ms: number) => (now += ms) };
}

t.test('an issued token is accepted with its remaining TTL, then refused once expired', async (t) => {
  const { tokens, advance } = store();
  const token = tokens.issue(60);
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
  const issued = new Set(Array.from({ length: 100 }, () => tokens.issue(10)));
  t.equal(issued.size, 100);
  for (const token of issued) t.equal(tokens.check(token), 10);
});

t.test('unknown, altered and malformed tokens are refused', async (t) => {
  const { tokens } = store();
  const token = tokens.issue(60);
  const last = token.at(-1) === 'A' ? 'B' : 'A';
  t.equal(tokens.check(`${token.slice(0, -1)}${last}`), undefined, 'secret part altered');
  const first = token[0] === 'A' ? 'B' : 'A';
  t.equal(tokens.check(`${first}${token.slice(1)}`), undefined, 'id part altered');
  t.equal(tokens.check(''), undefined);
  t.equal(tokens.check(`${token}x`), undefined, 'too long');
  t.equal(tokens.check(token.replace(/.$/, '!')), undefined, 'not base64url');
  t.equal(tokens.check(store().tokens.issue(60)), undefined, 'a token from another store');
});

t.test('the store is bounded: expired tokens go first, then the one expiring soonest', async (t) => {
  const { tokens, advance } = store(3);
  const short = tokens.issue(1);
  const long = tokens.issue(100);
  const medium = tokens.issue(50);
  advance(2000);
  const fourth = tokens.issue(100);
  t.equal(tokens.size, 3, 'the expired one made room');
  t.equal(tokens.check(short), undefined);
  const fifth = tokens.issue(100);
  t.equal(tokens.size, 3);
  t.equal(tokens.check(medium), undefined, 'the one expiring soonest was evicted');
  for (const kept of [long, fourth, fifth]) t.ok(tokens.check(kept) !== undefined);
});
