import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalJson, isLayerKey, layerKey, layerKindOf, type LayerKeyParts } from '../../src/cache/key.js';
import { VmgenError } from '../../src/errors.js';

const parts: LayerKeyParts = {
  distribution: 'debian',
  release: '12',
  suite: 'bookworm',
  arch: 'amd64',
  mirror: 'http://mirror.example/debian',
  packages: ['nginx', 'curl', 'openssh-server'],
  variant: 'minbase',
  recipe: 1,
};

test('a key is the kind and 20 hex digits', () => {
  const key = layerKey('base', parts);
  assert.match(key, /^base-[0-9a-f]{20}$/);
  assert.equal(isLayerKey(key), true, key);
  assert.equal(layerKindOf(key), 'base');
  assert.match(layerKey('packages', parts), /^packages-[0-9a-f]{20}$/);
});

test('the same inputs give the same key whatever their order, repeats or extra properties', () => {
  const key = layerKey('packages', parts);
  const shuffled: LayerKeyParts = {
    recipe: 1, variant: 'minbase', packages: ['openssh-server', 'nginx', 'curl', 'nginx', ' curl '],
    mirror: 'http://mirror.example/debian/', arch: 'amd64', suite: 'bookworm', release: '12', distribution: 'debian',
  };
  assert.equal(layerKey('packages', shuffled), key);
  assert.equal(layerKey('packages', { ...parts, mirror: 'http://mirror.example/debian//' }), key);
  assert.equal(layerKey('packages', { ...parts, hostname: 'web1' } as LayerKeyParts), key);
});

test('every field changes the key, and so does the kind', () => {
  const key = layerKey('packages', parts);
  const changes: Array<Partial<LayerKeyParts>> = [
    { distribution: 'ubuntu' }, { release: '11' }, { suite: 'bullseye' }, { arch: 'arm64' },
    { mirror: 'http://other-mirror.example/debian' }, { packages: ['nginx', 'curl'] }, { packages: [...parts.packages, 'vim'] },
    { variant: 'buildd' }, { recipe: 2 },
  ];
  const keys = changes.map((change) => layerKey('packages', { ...parts, ...change }));
  for (const [i, k] of keys.entries()) assert.notEqual(k, key, JSON.stringify(changes[i]));
  assert.equal(new Set(keys).size, keys.length);
  assert.notEqual(layerKey('base', parts).slice('base-'.length), key.slice('packages-'.length));
});

test('a bad recipe is refused', () => {
  assert.throws(() => layerKey('base', { ...parts, recipe: 1.5 }), (e: unknown) => e instanceof VmgenError && e.code === 'VMG_CACHE_KEY');
});

test('strings that could name other paths are not keys', () => {
  for (const bad of ['', 'base', '../base-0123456789abcdef0123', 'base-0123456789abcdef012', 'base-0123456789ABCDEF0123', 'other-0123456789abcdef0123', '.tmp-base-0123456789abcdef0123']) {
    assert.equal(isLayerKey(bad), false, bad);
  }
});

test('canonical JSON sorts keys at every level and keeps array order', () => {
  assert.equal(canonicalJson({ b: 1, a: { d: [2, 1], c: 'x' } }), '{"a":{"c":"x","d":[2,1]},"b":1}');
  assert.equal(canonicalJson({ a: undefined, b: null }), '{"b":null}');
});
