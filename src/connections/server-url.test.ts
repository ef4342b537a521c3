import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkServerUrl, connectGuard, isInternalAddress } from './server-url.ts';

const anyHost = { checkServerHost: () => null };

describe('server URL validation (SSRF guard)', () => {
  it('refuses IPv4-mapped IPv6 literals in either spelling', () => {
    for (const url of ['https://[::ffff:127.0.0.1]:9181', 'https://[::ffff:7f00:1]', 'https://[::ffff:10.0.0.1]/', 'https://[::ffff:8.8.8.8]/']) {
      const problem = checkServerUrl(anyHost, url, []);
      assert.ok(problem, url);
      assert.match(problem.message, /IPv4-mapped/);
    }
  });

  it('refuses host names with a trailing dot', () => {
    for (const url of ['https://localhost.:9181', 'https://example.com./']) {
      const problem = checkServerUrl(anyHost, url, []);
      assert.ok(problem, url);
      assert.match(problem.message, /ends with a dot/);
    }
  });

  it('still accepts allow-listed hosts, with or without a port in the entry', () => {
    assert.equal(checkServerUrl(anyHost, 'http://127.0.0.1:8081', ['127.0.0.1:8081']), null);
    assert.equal(checkServerUrl(anyHost, 'https://[::1]:9000', ['[::1]']), null);
    assert.ok(checkServerUrl(anyHost, 'http://127.0.0.1:8082', ['127.0.0.1:8081']));
  });

  it("applies the partner descriptor's host rule only to hosts that are not allow-listed", () => {
    const rule = { checkServerHost: (h: string) => (h.endsWith('.example.com') ? null : 'must be on example.com') };
    assert.equal(checkServerUrl(rule, 'https://a.example.com', []), null);
    assert.equal(checkServerUrl(rule, 'https://a.example.org', [])?.message, 'must be on example.com');
    assert.equal(checkServerUrl(rule, 'https://a.example.org', ['a.example.org']), null);
  });

  it('treats mapped addresses as the IPv4 address they carry', () => {
    assert.equal(isInternalAddress('::ffff:7f00:1'), true);
    assert.equal(isInternalAddress('::ffff:127.0.0.1'), true);
    assert.equal(isInternalAddress('::ffff:808:808'), false);
  });
});

describe('connect-time guard', () => {
  it('refuses an internal address a public-looking name resolved to (DNS rebinding)', () => {
    const guard = connectGuard([]);
    assert.match(guard('partner.example.com', '127.0.0.1') ?? '', /resolved to 127\.0\.0\.1/);
    assert.match(guard('partner.example.com', '::ffff:a9fe:a9fe') ?? '', /resolved to/);
    assert.equal(guard('partner.example.com', '93.184.216.34'), null);
  });

  it('lets allow-listed hosts connect to internal addresses', () => {
    assert.equal(connectGuard(['127.0.0.1:8081'])('127.0.0.1', '127.0.0.1'), null);
    assert.equal(connectGuard(['vm'])('vm', '127.0.0.1'), null);
  });
});
