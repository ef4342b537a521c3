/**
 * The Provance sandbox HTTP surface (Fastify): the Azure AD–style token service (aad.ts), the Dataverse
 * Web API under `/api/data/v9.x/` and the sandbox admin API (`/_sandbox/*`, Basic admin credentials).
 */
import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Faults, RateLimiter, Stats } from '../common/faults.ts';
import { installFaultHook, registerFaultAdmin, sandboxFastify, type FaultAnswers, type HeldWork } from '../common/server.ts';
import { AadService, SigningKey, TENANT, type Endpoint } from './aad.ts';
import { parsePrefer, RecordWriter, type Preferences } from './format.ts';
import { DEFAULT_PROTECTION, ServiceProtectionLimiter } from './limits.ts';
import { csdl, serviceDocument } from './metadata.ts';
import { CODE, compileFilter, DvError, normaliseGuid, parseOrderBy, parseSelect, parseTop, type OrderKey } from './odata.ts';
import { SANDBOX_CREDENTIALS } from './seed.ts';
import type { AttrDef, EntityMeta } from './schema.ts';
import type { ProvanceStore, Row } from './store.ts';
import { closeIncident, createRow, DEFAULT_RULES, parseEntityReference, updateRow, type SandboxRules, type WriteContext } from './writes.ts';

export interface AppOptions {
  seed: number;
  logger: boolean;
  tls?: { cert: string; key: string };
}

const MAX_PAGE = 5000;
const ORGANIZATION_ID = '0e4f8a2b-6c1d-4e3f-9a5b-7c8d9e0f1a2b';
const BUSINESS_UNIT_ID = '3b2a1c0d-9e8f-4a7b-8c6d-5e4f3a2b1c0d';
const JSON_TYPE = 'application/json; odata.metadata=minimal';

type Query = Record<string, string | string[] | undefined>;
const q1 = (q: Query, k: string): string | undefined => (Array.isArray(q[k]) ? q[k][0] : q[k]);

interface Caller {
  upn: string;
  userId: string;
}

function baseUrl(req: FastifyRequest): string {
  return `${req.protocol}://${req.headers.host ?? req.hostname}`;
}

function pathOf(url: string): string {
  const i = url.indexOf('?');
  return i < 0 ? url : url.slice(0, i);
}

function jsonBody(req: FastifyRequest): Record<string, unknown> {
  const text = typeof req.body === 'string' ? req.body : '';
  if (text.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new DvError(400, CODE.syntax, `The request body is not valid JSON: ${(e as Error).message}`);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new DvError(400, CODE.syntax, 'The request body must be a JSON object.');
  return parsed as Record<string, unknown>;
}

// ------------------------------------------------------------------ paging cookie

/**
 * `$skiptoken` as Dataverse writes it: `<cookie pagenumber="2" pagingcookie="…" istracking="False" />` with
 * the paging cookie (doubly URL-encoded) carrying the last row's order values — keyset paging, so rows
 * modified while a client pages move behind the cursor instead of shifting pages.
 */
function skipToken(page: number, order: OrderKey[], last: Row): string {
  const keys = order.map((k) => {
    const v = last[k.column];
    return v === null || v === undefined ? `<${k.column} />` : `<${k.column} last="${encodeURIComponent(JSON.stringify(v))}" />`;
  });
  const inner = `<cookie page="${page}">${keys.join('')}</cookie>`;
  return `<cookie pagenumber="${page + 1}" pagingcookie="${encodeURIComponent(encodeURIComponent(inner))}" istracking="False" />`;
}

function parseSkipToken(token: string, order: OrderKey[]): { page: number; after: unknown[] } {
  const bad = (): DvError => new DvError(400, CODE.syntax, 'The $skiptoken is not a paging cookie issued for this query.');
  const outer = /^<cookie pagenumber="(\d+)" pagingcookie="([^"]*)"/.exec(token);
  if (!outer) throw bad();
  let inner: string;
  try {
    inner = decodeURIComponent(decodeURIComponent(outer[2]));
  } catch {
    throw bad();
  }
  const after = order.map((k) => {
    const m = new RegExp(`<${k.column}(?: last="([^"]*)")? />`).exec(inner);
    if (!m) throw bad();
    return m[1] === undefined ? null : (JSON.parse(decodeURIComponent(m[1])) as unknown);
  });
  return { page: Number(outer[1]) - 1, after };
}

// ------------------------------------------------------------------ app

export interface SandboxApp {
  app: FastifyInstance;
  /** Clears held (timed-out) requests on close. */
  held: HeldWork;
}

export const ADMIN_PREFIX = '/_sandbox';

const isPartnerApi = (path: string): boolean => path.startsWith('/api/data/') || path.includes('/oauth2/');

/** `/api/data/v9.2/incidents(<guid>)` → `/api/data/v9.2/incidents(id)` for request statistics. */
const routeKey = (path: string): string => path.replace(/\([^)]*\)/g, '(id)');

export function buildApp(store: ProvanceStore, opts: AppOptions): SandboxApp {
  const app = sandboxFastify({ logger: opts.logger, tls: opts.tls, bodyLimit: 16 * 1024 * 1024 });
  const aad = new AadService(store, new SigningKey());
  const faults = new Faults(opts.seed, isPartnerApi, ADMIN_PREFIX);
  const rateRules = new RateLimiter();
  const limiter = new ServiceProtectionLimiter();
  let rules: SandboxRules = { ...DEFAULT_RULES };
  const stats = new Stats(routeKey);

  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => done(null, body));

  const sendJson = (reply: FastifyReply, status: number, body: unknown, headers: Record<string, string> = {}): FastifyReply =>
    reply
      .code(status)
      .headers({ 'OData-Version': '4.0', 'Content-Type': JSON_TYPE, ...headers })
      .send(JSON.stringify(body));

  app.setErrorHandler((err: unknown, req, reply) => {
    if (err instanceof DvError) {
      return sendJson(reply, err.status, { error: { code: err.code, message: err.message } }, err.headers);
    }
    const e = err as { statusCode?: number; message?: string };
    if (e.statusCode && e.statusCode < 500) return sendJson(reply, e.statusCode, { error: { code: CODE.syntax, message: e.message ?? 'Bad request' } });
    req.log.error(err);
    return sendJson(reply, 500, { error: { code: '0x80040216', message: 'An unexpected error occurred.' } });
  });
  app.setNotFoundHandler((req, reply) =>
    sendJson(reply, 404, {
      error: { code: CODE.resourceNotFound, message: `Resource not found for the segment '${pathOf(req.url).split('/').pop() ?? ''}'.` },
    }),
  );

  const dvError = (reply: FastifyReply, status: number, code: string, message: string, headers: Record<string, string> = {}): FastifyReply =>
    sendJson(reply, status, { error: { code, message } }, headers);
  const answers: FaultAnswers = {
    htmlPage: (reply) =>
      reply
        .code(200)
        .header('Content-Type', 'text/html; charset=utf-8')
        .send(
          '<!DOCTYPE html><html><head><title>Service Unavailable</title></head><body><h1>This environment is being updated</h1><p>Try again in a few minutes.</p></body></html>',
        ),
    outage: (reply) => dvError(reply, 503, '0x80040216', 'The service is temporarily unavailable.'),
    rateLimited: (reply, retryAfterSec) =>
      dvError(
        reply,
        429,
        CODE.requests,
        `Number of requests exceeded the limit of ${limiter.settings.maxRequests} over time window of ${limiter.settings.windowSec} seconds.`,
        {
          'Retry-After': String(retryAfterSec),
        },
      ),
    error: (reply, status) =>
      dvError(reply, status, '0x80040216', status === 503 ? 'The service is temporarily unavailable.' : 'An unexpected error occurred.'),
  };
  // Fault injection runs before authentication, as a failing front end would.
  const held = installFaultHook(app, { faults, stats, adminPrefix: ADMIN_PREFIX, answers });

  // ---------------------------------------------------------------- Azure AD

  const tokenRoute = (endpoint: Endpoint) => async (req: FastifyRequest, reply: FastifyReply) => {
    const { tenant } = req.params as { tenant: string };
    const ct = String(req.headers['content-type'] ?? '').toLowerCase();
    const form = new URLSearchParams(ct.startsWith('application/x-www-form-urlencoded') && typeof req.body === 'string' ? req.body : '');
    const r = aad.token(endpoint, tenant, form, baseUrl(req), Date.now());
    if (r.status === 200) stats.grant(form.get('grant_type') ?? 'unknown');
    return reply
      .code(r.status)
      .headers({ 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store, no-cache', Pragma: 'no-cache' })
      .send(JSON.stringify(r.body));
  };
  app.post('/:tenant/oauth2/token', tokenRoute('v1'));
  app.post('/:tenant/oauth2/v2.0/token', tokenRoute('v2'));

  const tenantOr404 = (req: FastifyRequest): void => {
    const { tenant } = req.params as { tenant: string };
    if (!aad.knownTenant(tenant)) throw new DvError(400, 'invalid_tenant', `AADSTS90002: Tenant '${tenant}' not found.`);
  };
  const openId = (version: Endpoint) => async (req: FastifyRequest, reply: FastifyReply) => {
    tenantOr404(req);
    return reply.header('Content-Type', 'application/json; charset=utf-8').send(JSON.stringify(aad.openIdConfiguration(baseUrl(req), version)));
  };
  app.get('/:tenant/v2.0/.well-known/openid-configuration', openId('v2'));
  app.get('/:tenant/.well-known/openid-configuration', openId('v1'));
  const keys = async (req: FastifyRequest, reply: FastifyReply) => {
    tenantOr404(req);
    return reply.header('Content-Type', 'application/json; charset=utf-8').send(JSON.stringify(aad.key.jwks()));
  };
  app.get('/:tenant/discovery/v2.0/keys', keys);
  app.get('/:tenant/discovery/keys', keys);
  app.get('/common/discovery/instance', async (req, reply) => {
    const host = String(req.headers.host ?? req.hostname);
    return reply.header('Content-Type', 'application/json; charset=utf-8').send(
      JSON.stringify({
        tenant_discovery_endpoint: `${baseUrl(req)}/${TENANT.id}/v2.0/.well-known/openid-configuration`,
        'api-version': '1.1',
        metadata: [{ preferred_network: host, preferred_cache: host, aliases: [host] }],
      }),
    );
  });

  // ---------------------------------------------------------------- Web API

  const caller = (req: FastifyRequest): Caller => {
    const auth = String(req.headers.authorization ?? '');
    const m = /^Bearer\s+(\S+)$/i.exec(auth);
    const claims = m ? aad.validate(m[1], baseUrl(req), Date.now()) : undefined;
    const userId = claims ? aad.systemUserFor(claims.upn) : undefined;
    if (!claims || !userId) {
      throw new DvError(401, '0x80072560', 'The user is not a member of the organization or the access token is missing, expired or invalid.', {
        'WWW-Authenticate': `Bearer authorization_uri=${baseUrl(req)}/${TENANT.id}/oauth2/authorize, resource_id=${baseUrl(req)}/`,
      });
    }
    return { upn: claims.upn, userId };
  };

  const entitySet = (name: string): EntityMeta => {
    const meta = store.bySet.get(name);
    if (!meta) throw new DvError(404, CODE.resourceNotFound, `Resource not found for the segment '${name}'.`);
    return meta;
  };

  const notFound = (meta: EntityMeta, id: string): DvError => new DvError(404, CODE.recordNotFound, `Entity '${meta.logical}' With Id = ${id} Does Not Exist`);

  const api = (req: FastifyRequest): { version: string; base: string; segments: string[] } => {
    const { version } = req.params as { version: string };
    if (!/^v9\.[0-2]$/.test(version)) throw new DvError(404, CODE.resourceNotFound, `Resource not found for the segment '${version}'.`);
    const rest = (req.params as { '*': string })['*'] ?? '';
    const segments = rest
      .split('/')
      .filter((s) => s !== '')
      .map((s) => {
        try {
          return decodeURIComponent(s);
        } catch {
          throw new DvError(400, CODE.syntax, `The path segment '${s}' is not valid URL encoding.`);
        }
      });
    return { version, base: `${baseUrl(req)}/api/data/${version}`, segments };
  };

  /** `incidents(guid)` → ['incidents', guid]; `incidents` → ['incidents', undefined]. */
  const keyed = (segment: string): { name: string; id?: string } => {
    const m = /^([A-Za-z_][A-Za-z0-9_.]*)(?:\((.*)\))?$/.exec(segment);
    if (!m) throw new DvError(404, CODE.resourceNotFound, `Resource not found for the segment '${segment}'.`);
    if (m[2] === undefined) return { name: m[1] };
    const id = normaliseGuid(m[2]);
    if (!id) throw new DvError(400, CODE.syntax, `Bad Request - Error in query syntax: '${m[2]}' is not a valid key for '${m[1]}'.`);
    return { name: m[1], id };
  };

  const writer = (prefs: Preferences): RecordWriter => new RecordWriter(store, prefs.annotations);
  const appliedHeaders = (prefs: Preferences, extra: string[] = []): Record<string, string> => {
    const applied = [...extra, prefs.applied()].filter(Boolean).join(',');
    return applied ? { 'Preference-Applied': applied } : {};
  };

  const selectContext = (attrs: AttrDef[], q: Query, meta: EntityMeta): string => {
    if (!q1(q, '$select')) return meta.set;
    return `${meta.set}(${attrs.map((a) => (a.type === 'Lookup' ? `_${a.name}_value` : a.name)).join(',')})`;
  };

  const list = (req: FastifyRequest, reply: FastifyReply, meta: EntityMeta, base: string): FastifyReply => {
    const q = req.query as Query;
    if (q1(q, '$skip') !== undefined) throw new DvError(400, CODE.syntax, 'Skip Clause is not supported in CRM');
    for (const unsupported of ['$expand', '$apply', '$search']) {
      if (q1(q, unsupported) !== undefined) throw new DvError(501, CODE.notSupported, `The Provance sandbox does not implement ${unsupported}.`);
    }
    const prefs = parsePrefer(req.headers.prefer);
    const attrs = parseSelect(meta, q1(q, '$select'));
    const where = compileFilter(meta, q1(q, '$filter'));
    const order = parseOrderBy(meta, q1(q, '$orderby'));
    const top = parseTop(q1(q, '$top'));
    const pageSize = Math.min(prefs.maxPageSize ?? MAX_PAGE, MAX_PAGE);
    const token = q1(q, '$skiptoken');
    const cursor = token ? parseSkipToken(token, order) : undefined;
    const limit = top !== undefined ? Math.min(top, MAX_PAGE) : pageSize;
    const rows = store.list(meta, where, order, top !== undefined ? limit : limit + 1, cursor?.after);
    const more = top === undefined && rows.length > limit;
    if (more) rows.pop();
    const w = writer(prefs);
    const body: Record<string, unknown> = { '@odata.context': `${base}/$metadata#${selectContext(attrs, q, meta)}` };
    if (q1(q, '$count') === 'true') body['@odata.count'] = Math.min(store.count(meta, where), MAX_PAGE);
    body.value = rows.map((r) => w.record(meta, r, attrs));
    if (more) {
      const params = Object.entries(q)
        .filter(([k, v]) => k !== '$skiptoken' && v !== undefined)
        .map(([k, v]) => `${k}=${encodeURIComponent(Array.isArray(v) ? v[0] : v!)}`);
      params.push(`$skiptoken=${encodeURIComponent(skipToken(cursor ? cursor.page + 1 : 1, order, rows[rows.length - 1]))}`);
      body['@odata.nextLink'] = `${base}/${meta.set}?${params.join('&')}`;
    }
    const extra = prefs.maxPageSize !== undefined && top === undefined ? [`odata.maxpagesize=${pageSize}`] : [];
    return sendJson(reply, 200, body, appliedHeaders(prefs, extra));
  };

  const one = (req: FastifyRequest, reply: FastifyReply, meta: EntityMeta, id: string, base: string): FastifyReply => {
    const q = req.query as Query;
    const row = store.get(meta, id);
    if (!row) throw notFound(meta, id);
    const prefs = parsePrefer(req.headers.prefer);
    const attrs = parseSelect(meta, q1(q, '$select'));
    return sendJson(
      reply,
      200,
      { '@odata.context': `${base}/$metadata#${selectContext(attrs, q, meta)}/$entity`, ...writer(prefs).record(meta, row, attrs) },
      appliedHeaders(prefs),
    );
  };

  const written = (req: FastifyRequest, reply: FastifyReply, meta: EntityMeta, id: string, base: string, created: boolean): FastifyReply => {
    const prefs = parsePrefer(req.headers.prefer);
    const entityId = `${base}/${meta.set}(${id})`;
    if (!prefs.returnRepresentation) return reply.code(204).headers({ 'OData-Version': '4.0', 'OData-EntityId': entityId }).send();
    const q = req.query as Query;
    const attrs = parseSelect(meta, q1(q, '$select'));
    const body = { '@odata.context': `${base}/$metadata#${selectContext(attrs, q, meta)}/$entity`, ...writer(prefs).record(meta, store.get(meta, id)!, attrs) };
    return sendJson(reply, created ? 201 : 200, body, { 'OData-EntityId': entityId, ...appliedHeaders(prefs, ['return=representation']) });
  };

  const relationship = (meta: EntityMeta, nav: string) => {
    const rel = meta.manyToMany.find((r) => r.nav === nav);
    if (!rel) throw new DvError(400, CODE.syntax, `Could not find a property named '${nav}' on type 'Microsoft.Dynamics.CRM.${meta.logical}'.`);
    return rel;
  };

  const referencedId = (body: Record<string, unknown>, targetMeta: EntityMeta): string => {
    const ref = parseEntityReference(body['@odata.id']);
    if (!ref || ref.set !== targetMeta.set) {
      throw new DvError(400, CODE.syntax, `The body must be {"@odata.id": "<service root>/${targetMeta.set}(<id>)"}.`);
    }
    if (!store.get(targetMeta, ref.id)) throw notFound(targetMeta, ref.id);
    return ref.id;
  };

  const optionSets = (reply: FastifyReply, base: string, logical: string, kind: string): FastifyReply => {
    const meta = store.byLogical.get(logical);
    if (!meta) throw new DvError(404, CODE.recordNotFound, `Could not find an entity with logical name ${logical}.`);
    const type = { PicklistAttributeMetadata: 'Picklist', StateAttributeMetadata: 'State', StatusAttributeMetadata: 'Status' }[kind];
    if (!type) throw new DvError(404, CODE.resourceNotFound, `Resource not found for the segment 'Microsoft.Dynamics.CRM.${kind}'.`);
    const mid = (s: string): string => {
      const h = createHash('sha1').update(s).digest('hex');
      return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
    };
    const label = (text: string) => ({ LocalizedLabels: [{ Label: text, LanguageCode: 1033 }], UserLocalizedLabel: { Label: text, LanguageCode: 1033 } });
    const value = meta.attrs
      .filter((a) => a.type === type)
      .map((a) => ({
        LogicalName: a.name,
        MetadataId: mid(`${logical}.${a.name}`),
        OptionSet: {
          MetadataId: mid(`${logical}.${a.name}.options`),
          Options: Object.entries(a.options ?? {}).map(([v, text]) => ({
            Value: Number(v),
            Label: label(text as string),
            ...(a.statusState ? { State: a.statusState[Number(v)] } : {}),
          })),
        },
      }));
    return sendJson(reply, 200, {
      '@odata.context': `${base}/$metadata#EntityDefinitions('${logical}')/Attributes/Microsoft.Dynamics.CRM.${kind}(LogicalName,OptionSet())`,
      value,
    });
  };

  const handleApi = async (req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    const { base, segments } = api(req);
    const method = req.method;
    if (segments.length === 1 && segments[0] === '$metadata') {
      return reply.code(200).headers({ 'OData-Version': '4.0', 'Content-Type': 'application/xml' }).send(csdl(store.byLogical));
    }
    const who = caller(req);
    const rule = rateRules.check({ sysId: who.userId, userName: who.upn, roles: new Set() }, method, pathOf(req.url), Date.now(), false);
    if (rule?.exceeded) {
      throw new DvError(429, CODE.requests, `Number of requests exceeded the limit of ${rule.limit} per hour set for this user.`, {
        ...rule.headers,
        'Retry-After': String(rule.retryAfterSec),
      });
    }
    const gate = limiter.enter(who.upn, Date.now());
    reply.header('x-ms-ratelimit-burst-remaining-xrm-requests', String(gate.burstRemaining));
    reply.raw.once('close', gate.release);
    const ctx: WriteContext = { store, userId: who.userId, nowMs: Date.now() };

    if (segments.length === 0) return sendJson(reply, 200, serviceDocument(base, store.bySet));
    const [first, second, third] = segments;
    if ((first === 'WhoAmI' || first === 'WhoAmI()') && segments.length === 1 && method === 'GET') {
      return sendJson(reply, 200, {
        '@odata.context': `${base}/$metadata#Microsoft.Dynamics.CRM.WhoAmIResponse`,
        BusinessUnitId: BUSINESS_UNIT_ID,
        UserId: who.userId,
        OrganizationId: ORGANIZATION_ID,
      });
    }
    if (first === 'CloseIncident' && segments.length === 1 && method === 'POST') {
      closeIncident(ctx, jsonBody(req), rules);
      return reply.code(204).header('OData-Version', '4.0').send();
    }
    const def = /^EntityDefinitions\(LogicalName='([a-z0-9_]+)'\)$/.exec(first);
    if (def && second === 'Attributes' && third?.startsWith('Microsoft.Dynamics.CRM.') && segments.length === 3 && method === 'GET') {
      return optionSets(reply, base, def[1], third.slice('Microsoft.Dynamics.CRM.'.length));
    }

    const { name, id } = keyed(first);
    const meta = entitySet(name);
    if (!id) {
      if (segments.length === 2 && second === '$count' && method === 'GET') {
        const where = compileFilter(meta, q1(req.query as Query, '$filter'));
        return reply
          .code(200)
          .headers({ 'OData-Version': '4.0', 'Content-Type': 'text/plain' })
          .send(String(Math.min(store.count(meta, where), MAX_PAGE)));
      }
      if (segments.length !== 1) throw new DvError(404, CODE.resourceNotFound, `Resource not found for the segment '${second}'.`);
      if (method === 'GET') return list(req, reply, meta, base);
      if (method === 'POST') return written(req, reply, meta, createRow(ctx, meta, jsonBody(req), rules), base, true);
      throw new DvError(405, CODE.syntax, `The HTTP method '${method}' is not allowed on the entity set '${name}'.`);
    }

    if (segments.length === 1) {
      if (method === 'GET') return one(req, reply, meta, id, base);
      if (method === 'PATCH') {
        const exists = !!store.get(meta, id);
        if (!exists && req.headers['if-match'] === '*') throw notFound(meta, id);
        if (exists && req.headers['if-none-match'] === '*') throw new DvError(412, CODE.duplicate, 'A record with matching key values already exists.');
        if (exists) updateRow(ctx, meta, id, jsonBody(req), rules);
        else createRow(ctx, meta, jsonBody(req), rules, id);
        return written(req, reply, meta, id, base, false);
      }
      if (method === 'DELETE') {
        if (!store.get(meta, id)) throw notFound(meta, id);
        store.delete(meta, id);
        return reply.code(204).header('OData-Version', '4.0').send();
      }
      throw new DvError(405, CODE.syntax, `The HTTP method '${method}' is not allowed on '${first}'.`);
    }

    if (!store.get(meta, id)) throw notFound(meta, id);
    const nav = keyed(second);
    const rel = meta.manyToMany.find((r) => r.nav === nav.name);
    const single = meta.attrs.find((a) => a.targets?.some((t) => t.nav === nav.name));
    if (!rel && !single) throw new DvError(400, CODE.syntax, `Could not find a property named '${nav.name}' on type 'Microsoft.Dynamics.CRM.${meta.logical}'.`);
    const isRef = third === '$ref' && segments.length === 3;
    if (rel) {
      const target = store.byLogical.get(rel.target)!;
      if (segments.length === 2 && !nav.id && method === 'GET') {
        const prefs = parsePrefer(req.headers.prefer);
        const w = writer(prefs);
        const attrs = parseSelect(target, q1(req.query as Query, '$select'));
        return sendJson(
          reply,
          200,
          { '@odata.context': `${base}/$metadata#${target.set}`, value: store.related(meta, rel, id).map((r) => w.record(target, r, attrs)) },
          appliedHeaders(prefs),
        );
      }
      if (isRef && !nav.id && method === 'POST') {
        const relatedId = referencedId(jsonBody(req), target);
        if (!store.associate(meta, relationship(meta, nav.name), id, relatedId)) {
          throw new DvError(400, CODE.duplicate, 'Cannot insert duplicate key.');
        }
        return reply.code(204).header('OData-Version', '4.0').send();
      }
      const removeId = nav.id ?? normaliseGuid(parseEntityReference(q1(req.query as Query, '$id'))?.id ?? '');
      if (isRef && method === 'DELETE' && removeId) {
        store.disassociate(meta, rel, id, removeId);
        return reply.code(204).header('OData-Version', '4.0').send();
      }
    } else if (single && isRef && !nav.id) {
      const target = single.targets!.find((t) => t.nav === nav.name)!;
      const targetMeta = store.byLogical.get(target.entity)!;
      if (method === 'PUT') {
        const ref = `/${targetMeta.set}(${referencedId(jsonBody(req), targetMeta)})`;
        updateRow(ctx, meta, id, { [`${nav.name}@odata.bind`]: ref }, rules);
        return reply.code(204).header('OData-Version', '4.0').send();
      }
      if (method === 'DELETE') {
        updateRow(ctx, meta, id, { [`${nav.name}@odata.bind`]: null }, rules);
        return reply.code(204).header('OData-Version', '4.0').send();
      }
    }
    throw new DvError(405, CODE.syntax, `The HTTP method '${method}' is not allowed on '${segments.join('/')}'.`);
  };
  app.route({ method: ['GET', 'POST', 'PATCH', 'PUT', 'DELETE'], url: '/api/data/:version', handler: handleApi });
  app.route({ method: ['GET', 'POST', 'PATCH', 'PUT', 'DELETE'], url: '/api/data/:version/*', handler: handleApi });

  // ---------------------------------------------------------------- admin API

  const adminAuth = 'Basic ' + Buffer.from(`${SANDBOX_CREDENTIALS.admin.username}:${SANDBOX_CREDENTIALS.admin.password}`).toString('base64');
  const admin =
    (handler: (req: FastifyRequest, body: Record<string, unknown>) => unknown) =>
    async (req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
      if (req.headers.authorization !== adminAuth) {
        return reply
          .code(401)
          .header('WWW-Authenticate', 'Basic realm="provance-sandbox"')
          .send({ error: { code: 'unauthorized', message: 'The sandbox admin API needs the admin credentials (Basic).' } });
      }
      return sendJson(reply, 200, handler(req, req.method === 'GET' ? {} : jsonBody(req)));
    };
  const merge = <T extends object>(what: string, target: T, patch: Record<string, unknown>): T => {
    const next = { ...target } as Record<string, unknown>;
    const bad = Object.keys(patch).filter((k) => !(k in next) || typeof next[k] !== typeof patch[k]);
    if (bad.length) throw new DvError(400, 'invalid_settings', `Rejected ${what} keys: ${bad.join(', ')}`);
    return Object.assign(next, patch) as T;
  };

  registerFaultAdmin(app, {
    prefix: ADMIN_PREFIX,
    faults,
    limiter: rateRules,
    stats,
    admin: (handler) => async (req, reply) => {
      if (req.headers.authorization !== adminAuth) throw new DvError(401, 'unauthorized', 'The sandbox admin API needs the admin credentials (Basic).');
      return handler(req, reply);
    },
    json: (reply, status, body) => sendJson(reply, status, body),
    body: (req) => jsonBody(req),
    refuse: (what, detail) => {
      throw new DvError(400, 'invalid_settings', `${what}: ${detail}`);
    },
  });
  app.post(
    '/_sandbox/service-protection/reset',
    admin(() => {
      limiter.reset();
      limiter.settings = { ...DEFAULT_PROTECTION };
      return limiter.settings;
    }),
  );
  app.get(
    '/_sandbox/service-protection',
    admin(() => limiter.settings),
  );
  app.put(
    '/_sandbox/service-protection',
    admin((_req, body) => {
      limiter.settings = merge('service protection', limiter.settings, body);
      limiter.reset();
      return limiter.settings;
    }),
  );
  app.get(
    '/_sandbox/rules',
    admin(() => rules),
  );
  app.put(
    '/_sandbox/rules',
    admin((_req, body) => {
      rules = merge('rules', rules, body);
      return rules;
    }),
  );
  app.get(
    '/_sandbox/aad',
    admin(() => aad.settings),
  );
  app.put(
    '/_sandbox/aad',
    admin((_req, body) => {
      aad.settings = merge('Azure AD', aad.settings, body);
      return aad.settings;
    }),
  );
  app.post(
    '/_sandbox/aad/expire-access-tokens',
    admin(() => {
      aad.expireAccessTokens();
      return { expired: true };
    }),
  );
  app.post(
    '/_sandbox/aad/revoke-refresh-tokens',
    admin(() => ({ revoked: aad.revokeRefreshTokens() })),
  );
  app.put(
    '/_sandbox/aad/users/:upn',
    admin((req, body) => {
      const { upn } = req.params as { upn: string };
      const flags: Record<string, string> = { enabled: 'enabled', passwordExpired: 'password_expired', mfaRequired: 'mfa_required' };
      const bad = Object.keys(body).filter((k) => !(k in flags || k === 'unlock') || typeof body[k] !== 'boolean');
      if (bad.length)
        throw new DvError(400, 'invalid_settings', `Rejected user keys: ${bad.join(', ')} (booleans enabled, passwordExpired, mfaRequired, unlock)`);
      const exists = store.stmt('SELECT 1 FROM sb_aad_user WHERE upn = ?').get(upn);
      if (!exists) throw new DvError(404, 'not_found', `No directory user ${upn}`);
      for (const [k, col] of Object.entries(flags)) if (k in body) store.stmt(`UPDATE sb_aad_user SET ${col} = ? WHERE upn = ?`).run(body[k] ? 1 : 0, upn);
      if (body.unlock) store.stmt('UPDATE sb_aad_user SET failed_logins = 0 WHERE upn = ?').run(upn);
      return store.stmt('SELECT upn, enabled, password_expired, mfa_required, failed_logins FROM sb_aad_user WHERE upn = ?').get(upn);
    }),
  );
  app.put(
    '/_sandbox/aad/apps/:clientId',
    admin((req, body) => {
      const { clientId } = req.params as { clientId: string };
      const bad = Object.keys(body).filter((k) => !(k === 'publicClient' || k === 'consented') || typeof body[k] !== 'boolean');
      if (bad.length) throw new DvError(400, 'invalid_settings', `Rejected app keys: ${bad.join(', ')} (booleans publicClient, consented)`);
      if (!store.stmt('SELECT 1 FROM sb_aad_app WHERE client_id = ?').get(clientId)) throw new DvError(404, 'not_found', `No app registration ${clientId}`);
      if ('publicClient' in body) store.stmt('UPDATE sb_aad_app SET public_client = ? WHERE client_id = ?').run(body.publicClient ? 1 : 0, clientId);
      if ('consented' in body) store.stmt('UPDATE sb_aad_app SET consented = ? WHERE client_id = ?').run(body.consented ? 1 : 0, clientId);
      return store.stmt('SELECT * FROM sb_aad_app WHERE client_id = ?').get(clientId);
    }),
  );

  return { app, held };
}
