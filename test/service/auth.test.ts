import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { authenticate, bearerToken, createToken, hashToken, newToken, TOKEN_PATTERN } from '../../src/service/auth.js';
import { ServiceDb } from '../../src/service/db.js';

describe('API tokens', () => {
  it('are 32 random bytes in base64url, different every time', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const t = newToken();
      assert.match(t, TOKEN_PATTERN);
      assert.equal(Buffer.from(t, 'base64url').length, 32);
      seen.add(t);
    }
    assert.equal(seen.size, 200);
  });

  it('hash to their SHA-256', () => {
    const t = newToken();
    assert.equal(hashToken(t), createHash('sha256').update(t).digest('hex'));
  });

  it('are read from "Authorization: Bearer TOKEN" only', () => {
    const t = newToken();
    assert.equal(bearerToken(`Bearer ${t}`), t);
    assert.equal(bearerToken(`bearer  ${t}`), t);
    assert.equal(bearerToken(` BEARER\t${t} \t`), t);
    assert.equal(bearerToken(undefined), undefined);
    assert.equal(bearerToken(t), undefined);
    assert.equal(bearerToken(`Basic ${t}`), undefined);
    assert.equal(bearerToken(`Bearer ${t}x`), undefined);
    assert.equal(bearerToken(`Bearer ${t.slice(1)}`), undefined);
    assert.equal(bearerToken(`Bearer ${t} extra`), undefined);
    assert.equal(bearerToken([`Bearer ${t}`]), undefined);
  });

  it('authenticate finds the user of a live token and nobody for anything else', () => {
    const db = ServiceDb.memory();
    const alice = createToken(db, 'alice', false).token;
    const root = createToken(db, 'root', true).token;
    assert.deepEqual({ ...authenticate(db, `Bearer ${alice}`), id: 'x' }, { id: 'x', name: 'alice', admin: false });
    assert.deepEqual({ ...authenticate(db, `Bearer ${root}`), id: 'x' }, { id: 'x', name: 'root', admin: true });
    assert.equal(authenticate(db, `Bearer ${newToken()}`), undefined);
    assert.equal(authenticate(db, undefined), undefined);
    // The stored hash is not a token: knowing it gets nobody in.
    assert.equal(authenticate(db, `Bearer ${hashToken(alice)}`), undefined);
    db.revokeUser('alice');
    assert.equal(authenticate(db, `Bearer ${alice}`), undefined);
  });
});
