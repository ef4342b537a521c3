/**
 * Drives the Provance sandbox with two unchanged third-party clients — Microsoft's MSAL for Node
 * (resource-owner password grant) and dynamics-web-api (a Dataverse Web API client) — and prints what
 * they saw as JSON. clients.test.ts runs this in a child process whose NODE_EXTRA_CA_CERTS trusts the
 * sandbox's self-signed certificate, because MSAL only accepts https authorities.
 * Usage: node --import tsx third-party-clients.run.ts <sandbox https url>
 */
import { PublicClientApplication } from '@azure/msal-node';
import { DynamicsWebApi } from 'dynamics-web-api';
import { NAMES } from '../../partners/provance/mapping.ts';
import { SANDBOX_CREDENTIALS } from './seed.ts';

const url = process.argv[2];
if (!url?.startsWith('https://')) throw new Error('usage: third-party-clients.run.ts <https sandbox url>');

const pca = new PublicClientApplication({
  auth: { clientId: SANDBOX_CREDENTIALS.clientId, authority: `${url}/${SANDBOX_CREDENTIALS.tenant}`, knownAuthorities: [new URL(url).host] },
});
const login = await pca.acquireTokenByUsernamePassword({
  scopes: [`${url}/.default`],
  username: SANDBOX_CREDENTIALS.integration.username,
  password: SANDBOX_CREDENTIALS.integration.password,
});
if (!login) throw new Error('MSAL returned no token');
let wrongPassword = '';
try {
  await pca.acquireTokenByUsernamePassword({ scopes: [`${url}/.default`], username: SANDBOX_CREDENTIALS.integration.username, password: 'wrong' });
} catch (e) {
  wrongPassword = (e as { errorCode?: string; subError?: string; errorMessage?: string }).errorMessage ?? String(e);
}

const api = new DynamicsWebApi({ serverUrl: url, dataApi: { version: '9.2' }, onTokenRefresh: async () => login.accessToken });
const I = NAMES.incident;
const firstPage = await api.retrieveMultiple({
  collection: I.set,
  select: [I.id, I.title, I.state, 'modifiedon'],
  filter: `${I.state} eq 0`,
  orderBy: ['modifiedon desc'],
  maxPageSize: 25,
  includeAnnotations: 'OData.Community.Display.V1.FormattedValue',
});
const secondPage = await api.retrieveMultiple({ collection: I.set, maxPageSize: 25 }, firstPage.oDataNextLink ?? 'no next link');
const all = await api.retrieveAll({ collection: I.set, select: [I.id], filter: `${I.state} eq 0`, maxPageSize: 40 });
const activeCountByCount = await api.count({ collection: I.set, filter: `${I.state} eq 0` });
const created = await api.create<Record<string, unknown>, Record<string, unknown>>({
  collection: I.set,
  data: { [I.title]: 'Created by dynamics-web-api', [I.priority]: 1 },
  returnRepresentation: true,
  select: [I.id, I.number, I.title],
});
const id = String(created[I.id]);
await api.update({ collection: I.set, key: id, data: { [I.description]: 'updated by dynamics-web-api' } });
const ci = await api.retrieveMultiple({ collection: NAMES.ci.set, select: [NAMES.ci.name], top: 1 });
const ciId = String(ci.value[0][NAMES.ci.id]);
await api.associate({ collection: I.set, primaryKey: id, relationshipName: I.cisNav, relatedCollection: NAMES.ci.set, relatedKey: ciId });
const related = await api.retrieveMultiple({ collection: `${I.set}(${id})/${I.cisNav}`, select: [NAMES.ci.name] });
const after = await api.retrieve<Record<string, unknown>>({ collection: I.set, key: id, select: [I.description, I.state] });
const count = await api.count({ collection: I.set });

process.stdout.write(
  JSON.stringify({
    msal: { account: login.account?.username, tenantId: login.tenantId, tokenType: login.tokenType, expiresOn: login.expiresOn, wrongPassword },
    firstPage: { size: firstPage.value.length, nextLink: firstPage.oDataNextLink, sample: firstPage.value[0], ids: firstPage.value.map((r) => r[I.id]) },
    secondPage: secondPage.value.map((r) => r[I.id]),
    activeCount: all.value.length,
    activeCountByCount,
    created: { id, number: created[I.number], title: created[I.title] },
    after,
    related: related.value.map((r) => r[NAMES.ci.name]),
    ciName: ci.value[0][NAMES.ci.name],
    count,
  }),
);
