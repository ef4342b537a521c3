import type { RouteOptions } from 'fastify';

interface OperationDoc {
  summary: string;
  description: string;
}

const ws = '/api/v1/workspaces/:ws';

/**
 * Summary and description of every API operation, keyed `METHOD path`, so the OpenAPI document (and
 * /docs) explains each one. A route's own schema text wins; test/server/openapi.test.ts keeps the list complete.
 */
export const operationDocs: Record<string, OperationDoc> = {
  'GET /api/v1/me': {
    summary: 'Who this token is',
    description:
      'The role of the bearer token (admin, or a workspace key with its workspace and role reader or contributor); the dashboard shows or hides write controls by it.',
  },
  [`POST ${ws}/itsmActions/preview`]: {
    summary: 'Preview an ITSM action',
    description:
      'Renders the work item an ITSM action would create from a sample alert of each payload family, and lists the problems of its ticketConfiguration against the chosen connection (unknown fields, values outside the choice lists).',
  },
  [`POST ${ws}/workItems`]: {
    summary: 'Create a work item from a log row',
    description:
      'Sends one log search result row to a connection as a work item of the chosen type, through the durable delivery queue (as a log search alert of the action group log-search-<type>-<connection>); the same row twice creates one work item.',
  },
  'GET /api/v1/workspaces': { summary: 'List workspaces', description: 'Every workspace of this connector. Admin token only.' },
  [`PUT ${ws}`]: { summary: 'Create a workspace', description: 'Creates the workspace (201) or confirms it exists (200). Admin token only.' },
  [`GET ${ws}`]: { summary: 'Show a workspace', description: 'Name and creation time of one workspace.' },
  [`DELETE ${ws}`]: {
    summary: 'Delete a workspace',
    description: 'Deletes a workspace and everything in it. The workspace `default` cannot be deleted. Admin token only.',
  },
  [`POST ${ws}/apiKeys`]: {
    summary: 'Create an API key',
    description:
      'A workspace API key with role reader (queries, views) or contributor (changes). The key is in this answer only; the connector keeps its hash.',
  },
  [`GET ${ws}/apiKeys`]: {
    summary: 'List API keys',
    description: 'The API keys of a workspace: id, name, role, creation and revocation time — never the key itself.',
  },
  [`DELETE ${ws}/apiKeys/:id`]: { summary: 'Revoke an API key', description: 'The key stops working at once.' },

  [`GET ${ws}/connections`]: {
    summary: 'List connections',
    description: 'The ITSM connections of a workspace with their status, last sync and last error. Secrets are never returned.',
  },
  [`GET ${ws}/connections/:name`]: {
    summary: 'Show a connection',
    description: 'One ITSM connection: settings, status, token expiry, last sync and last error. Secrets are never returned.',
  },
  [`PUT ${ws}/connections/:name`]: {
    summary: 'Create or replace a connection',
    description:
      'Checks the credentials against the partner first (a password is used once to obtain tokens and never stored), then stores the connection: 201 when created, 200 when replaced. With `dryRun=true` it validates and checks the credentials but stores nothing.',
  },
  [`DELETE ${ws}/connections/:name`]: {
    summary: 'Delete a connection',
    description: 'Refused with 409 while action groups use the connection, unless `force=true`.',
  },
  [`GET ${ws}/connections/:name/templates`]: {
    summary: 'Work item templates of a connection',
    description: 'The partner templates found by the last configuration sync (usable as ticketConfiguration templates).',
  },
  [`GET ${ws}/connections/:name/choices`]: {
    summary: 'Choice lists of a connection',
    description: 'Allowed values of the partner’s choice fields from the last configuration sync; filter with `table` and `field`.',
  },
  [`POST ${ws}/connections/:name/test`]: {
    summary: 'Test a connection',
    description: 'Checks the stored credentials against the partner and refreshes templates and choice lists now.',
  },
  [`POST ${ws}/connections/:name/sync`]: {
    summary: 'Sync a connection now',
    description: 'Refreshes templates and choice lists, then syncs incidents and change requests into ServiceDesk_CL; answers with what the run did.',
  },
  [`GET ${ws}/connections/:name/sync`]: {
    summary: 'Data sync status',
    description: 'Where the data sync of a connection stands: last run, next run, whether a run is under way or resumable.',
  },

  [`GET ${ws}/actionGroups`]: {
    summary: 'List action groups',
    description: 'The action groups of a workspace with their ITSM actions. Webhook URLs are shown to contributors and the admin only.',
  },
  [`GET ${ws}/actionGroups/:name`]: {
    summary: 'Show an action group',
    description: 'One action group with its ITSM actions; the webhook URL is shown to contributors and the admin only.',
  },
  [`PUT ${ws}/actionGroups/:name`]: {
    summary: 'Create or replace an action group',
    description: 'Creates (201) or replaces (200) an action group and its ITSM actions; `dryRun=true` validates only.',
  },
  [`DELETE ${ws}/actionGroups/:name`]: { summary: 'Delete an action group', description: 'Deletes the action group; its webhook URL stops working.' },
  [`POST ${ws}/actionGroups/:name/rotateWebhookSecret`]: {
    summary: 'Rotate the webhook secret',
    description: 'Issues a new webhook URL for the action group.',
  },
  [`POST ${ws}/actionGroups/:name/alerts`]: {
    summary: 'Send an alert (bearer token)',
    description: 'Posts an alert to an action group with an API key instead of the webhook secret.',
  },
  'POST /hooks/:secret': {
    summary: 'Webhook: receive an alert',
    description: 'Accepts every payload an Azure action group, Alertmanager or Grafana sends; the secret in the path identifies the action group.',
  },

  [`GET ${ws}/deadLetters`]: { summary: 'List dead letters', description: 'Deliveries that failed for good.' },
  [`POST ${ws}/deadLetters/:id/replay`]: {
    summary: 'Replay a dead letter',
    description: 'Queues one dead letter for delivery again (same correlation key, so no duplicate work item).',
  },
  [`POST ${ws}/deadLetters/replay`]: { summary: 'Replay dead letters', description: 'Queues dead letters for delivery again.' },
  [`DELETE ${ws}/deadLetters/:id`]: { summary: 'Discard a dead letter', description: 'Removes a dead letter without delivering it.' },
  [`GET ${ws}/deliveryQueue`]: { summary: 'Delivery queue counts', description: 'How many delivery jobs are pending, running and dead.' },

  'POST /v1/workspaces/:ws/query': {
    summary: 'Run a KQL query',
    description:
      'Azure Monitor Logs query API: KQL over ServiceDesk_CL, ServiceDeskLog_CL and the other workspace tables, limited by `timespan`, the row cap and the query timeout.',
  },
  'GET /v1/workspaces/:ws/query': {
    summary: 'Run a KQL query (query string)',
    description: 'As the POST form, with `query` and `timespan` in the query string.',
  },
};

/** Fills summary and description of a route's schema from `operationDocs` (an onRoute hook). */
export function documentRoute(route: RouteOptions): void {
  if (!route.schema || (route.schema as { hide?: boolean }).hide) return;
  const methods = Array.isArray(route.method) ? route.method : [route.method];
  const doc = methods.map((m) => operationDocs[`${m} ${route.url}`]).find(Boolean);
  if (!doc) return;
  const schema = route.schema as { summary?: string; description?: string };
  route.schema = { ...route.schema, summary: schema.summary ?? doc.summary, description: schema.description ?? doc.description };
}
