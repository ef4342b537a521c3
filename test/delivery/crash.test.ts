/**
 * The crash suite (crash-suite.ts) runs once per partner, from `crash-<partner>.test.ts`: this checks that
 * no partner with a client and a sandbox is left out.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { it } from 'node:test';
import { deliveryPartners } from './helpers.ts';

it('every partner with a client and a sandbox has its crash-<partner>.test.ts', () => {
  const dir = new URL('.', import.meta.url);
  for (const p of deliveryPartners) {
    const file = `crash-${p.type.toLowerCase()}.test.ts`;
    assert.ok(fs.existsSync(new URL(file, dir)), `missing test/delivery/${file}`);
    assert.match(fs.readFileSync(new URL(file, dir), 'utf8'), new RegExp(`crashSafetySuite\\('${p.type}'\\)`), file);
  }
});
