import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatUsLocal, parseUsLocal } from './dates.ts';

const NY = 'America/New_York';

describe('Cherwell US local date/time format', () => {
  it('formats M/d/yyyy h:mm:ss tt without leading zeros on month, day and hour', () => {
    assert.equal(formatUsLocal(Date.parse('2019-04-10T19:10:12Z'), NY), '4/10/2019 3:10:12 PM');
    assert.equal(formatUsLocal(Date.parse('2026-01-05T05:00:00Z'), NY), '1/5/2026 12:00:00 AM');
    assert.equal(formatUsLocal(Date.parse('2026-01-05T17:00:09Z'), NY), '1/5/2026 12:00:09 PM');
  });

  it('round-trips every hour across both 2026 DST transitions of New York', () => {
    for (const start of [Date.parse('2026-03-07T00:00:00Z'), Date.parse('2026-10-31T00:00:00Z')]) {
      for (let h = 0; h < 72; h++) {
        const ms = start + h * 3_600_000;
        const text = formatUsLocal(ms, NY);
        const back = parseUsLocal(text, NY)!;
        // The repeated 1 AM hour in November reads back as its first occurrence.
        assert.ok(back === ms || back === ms - 3_600_000, `${text} -> ${new Date(back).toISOString()} (from ${new Date(ms).toISOString()})`);
      }
    }
  });

  it('reads a skipped local time forward and a repeated one as the earlier instant', () => {
    assert.equal(new Date(parseUsLocal('3/8/2026 2:30:00 AM', NY)!).toISOString(), '2026-03-08T07:30:00.000Z');
    assert.equal(new Date(parseUsLocal('11/1/2026 1:30:00 AM', NY)!).toISOString(), '2026-11-01T05:30:00.000Z');
    assert.equal(new Date(parseUsLocal('3/29/2026 2:30:00 AM', 'Europe/Berlin')!).toISOString(), '2026-03-29T01:30:00.000Z');
  });

  it('accepts a bare date and 24-hour times, refuses other shapes', () => {
    assert.equal(new Date(parseUsLocal('7/4/2026', NY)!).toISOString(), '2026-07-04T04:00:00.000Z');
    assert.equal(new Date(parseUsLocal('7/4/2026 15:00:00', NY)!).toISOString(), '2026-07-04T19:00:00.000Z');
    for (const bad of ['2026-07-04', '13/1/2026', '2/30/2026 1:00:00 PM', '7/4/2026 13:00:00 PM', '']) assert.equal(parseUsLocal(bad, NY), null, bad);
  });
});
