import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import type { ProvanceSandbox } from './index.ts';
import { startSmall } from './test-support.ts';
import { selfSignedCertificate, type TestCertificate } from '../common/test-support.ts';

describe('Provance sandbox: unchanged third-party clients (MSAL for Node, dynamics-web-api)', () => {
  let sb: ProvanceSandbox;
  let tlsCert: TestCertificate;
  let report: any;
  before(async () => {
    tlsCert = selfSignedCertificate('pv-tls-');
    sb = await startSmall({ tls: tlsCert });
    // Asynchronous: the sandbox runs in this process and must keep answering while the child works.
    const { stdout: out } = await promisify(execFile)(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'third-party-clients.run.ts'), sb.url], {
      env: { ...process.env, NODE_EXTRA_CA_CERTS: tlsCert.certFile },
      encoding: 'utf8',
    });
    report = JSON.parse(out);
  });
  after(async () => {
    await sb.close();
    tlsCert.remove();
  });

  test('MSAL acquireTokenByUsernamePassword gets a token for the integration user from the sandbox authority', () => {
    assert.equal(report.msal.account, 'itsmc.integration@sandbox.example');
    assert.equal(report.msal.tokenType, 'Bearer');
    assert.equal(report.msal.tenantId, '6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b');
    assert.match(report.msal.wrongPassword, /AADSTS50126/);
  });

  test('dynamics-web-api pages retrieveMultiple with filter, select, orderBy and annotations, and retrieveAll follows every nextLink', () => {
    assert.equal(report.firstPage.size, 25);
    assert.match(report.firstPage.nextLink, /\$skiptoken=/);
    assert.equal(report.firstPage.sample['statecode@OData.Community.Display.V1.FormattedValue'], 'Active');
    assert.ok(report.activeCount > 25, 'enough active cases to need a second page');
    assert.equal(report.secondPage.length, Math.min(25, report.activeCount - 25));
    assert.deepEqual(
      report.secondPage.filter((id: string) => report.firstPage.ids.includes(id)),
      [],
      'the next page continues where the first ended',
    );
    assert.equal(report.activeCount, report.activeCountByCount, 'retrieveAll returned as many rows as $count counts');
  });

  test('dynamics-web-api creates, updates and associates a CI through the navigation property', () => {
    assert.match(report.created.number, /^CAS-/);
    assert.equal(report.created.title, 'Created by dynamics-web-api');
    assert.equal(report.after.description, 'updated by dynamics-web-api');
    assert.deepEqual(report.related, [report.ciName]);
    assert.equal(report.count, 301);
  });
});
