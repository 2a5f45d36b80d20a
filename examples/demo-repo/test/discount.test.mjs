import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyDiscount } from '../src/discount.mjs';

test('a 10% discount on 200 is 180', () => {
  assert.equal(applyDiscount(200, 10), 180);
});

test('a 25% discount on 19.99 rounds to cents', () => {
  assert.equal(applyDiscount(19.99, 25), 14.99);
});
