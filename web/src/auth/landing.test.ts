import assert from 'node:assert/strict';
import { test } from 'node:test';
import { landingPath, safeNext } from './landing.ts';

test('after sign-in: where the user was going, else the API keys page while there is no key', () => {
  assert.equal(landingPath('/settings/users', 0), '/settings/users');
  assert.equal(landingPath(null, 0), '/settings/api-keys');
  assert.equal(landingPath(null, 2), '/services');
  assert.equal(landingPath(null, undefined), '/services', 'keys that cannot be read do not block');
});

test('only same-site paths are followed', () => {
  assert.equal(safeNext('https://evil.example/'), null);
  assert.equal(safeNext('//evil.example/'), null);
  assert.equal(safeNext(null), null);
  assert.equal(safeNext('/traces/abc?span=1'), '/traces/abc?span=1');
  assert.equal(landingPath('//evil.example/', 0), '/settings/api-keys');
});
