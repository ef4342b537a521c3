import { Type, type Static } from 'typebox';
import { partnerDescriptor, partnerTypes, type PartnerType } from '../partners/registry.ts';
import type { ConnectionFieldName } from '../partners/descriptor.ts';

export { partnerTypes };
export const syncScopes = ['Incident', 'ChangeRequest'] as const;

/** The connection as the user writes it (ITSMC's form fields, JSON-cased). */
export const ConnectionInput = Type.Object(
  {
    partnerType: Type.Unsafe<PartnerType>(Type.Union(partnerTypes.map((t) => Type.Literal(t)))),
    serverUrl: Type.String({ minLength: 1, maxLength: 2048 }),
    username: Type.Optional(Type.String({ maxLength: 256 })),
    password: Type.Optional(Type.String({ maxLength: 1024 })),
    clientId: Type.Optional(Type.String({ maxLength: 256 })),
    clientSecret: Type.Optional(Type.String({ maxLength: 1024 })),
    dataSyncScope: Type.Optional(
      Type.Array(Type.Union([Type.Literal('Incident'), Type.Literal('ChangeRequest')]), { minItems: 1, maxItems: 2, uniqueItems: true }),
    ),
    syncDataDays: Type.Optional(Type.Integer({ minimum: 1, maximum: 120 })),
    createNewConfigurationItems: Type.Optional(Type.Boolean()),
    syncIntervalSeconds: Type.Optional(Type.Integer({ minimum: 30, maximum: 86400 })),
    /** The partner's refresh token lifetime for this connection's OAuth client (ServiceNow: its "Refresh Token Lifespan"). */
    refreshTokenLifetimeSeconds: Type.Optional(Type.Integer({ minimum: 60, maximum: 315_360_000 })),
  },
  { additionalProperties: false, $id: 'ConnectionInput' },
);
export type ConnectionInput = Static<typeof ConnectionInput>;

/** What a PUT leaves out is its default (or, for credentials and secrets, kept). */
export const CONNECTION_DEFAULTS = {
  dataSyncScope: ['Incident', 'ChangeRequest'],
  syncDataDays: 120,
  createNewConfigurationItems: false,
  syncIntervalSeconds: 300,
} as const;

/**
 * PATCH body: a JSON merge patch (RFC 7396) of ConnectionInput. A member changes that field, `null` puts it
 * back to its default (or drops a kept secret's replacement), a member left out keeps the current value.
 */
export const ConnectionPatch = Type.Object(
  Object.fromEntries(
    Object.entries(ConnectionInput.properties).map(([k, v]) => [k, Type.Optional(k === 'partnerType' || k === 'serverUrl' ? v : Type.Union([v, Type.Null()]))]),
  ),
  { additionalProperties: false, $id: 'ConnectionPatch' },
);

export const ConnectionView = Type.Object(
  {
    name: Type.String(),
    workspace: Type.String(),
    partnerType: Type.String(),
    serverUrl: Type.String(),
    clientId: Type.Union([Type.String(), Type.Null()]),
    hasClientSecret: Type.Boolean(),
    dataSyncScope: Type.Array(Type.String()),
    syncDataDays: Type.Integer(),
    createNewConfigurationItems: Type.Boolean(),
    syncIntervalSeconds: Type.Integer(),
    status: Type.String(),
    lastError: Type.Union([Type.String(), Type.Null()]),
    lastSyncAt: Type.Union([Type.String(), Type.Null()]),
    lastConfigSyncAt: Type.Union([Type.String(), Type.Null()]),
    tokenExpiresAt: Type.Union([Type.String(), Type.Null()]),
    refreshTokenExpiresAt: Type.Union([Type.String(), Type.Null()]),
    refreshTokenLifetimeSeconds: Type.Union([Type.Integer(), Type.Null()]),
    /** Where the lifetime comes from: set on the connection, ITSMC_REFRESH_TOKEN_LIFETIME_S, or the partner's default. */
    refreshTokenLifetimeSource: Type.Union([Type.Literal('connection'), Type.Literal('environment'), Type.Literal('partner default'), Type.Null()]),
    warnings: Type.Array(Type.String()),
    createdAt: Type.String(),
    updatedAt: Type.String(),
  },
  { $id: 'Connection' },
);
export type ConnectionView = Static<typeof ConnectionView>;

/** The fields a partner's connection form requires. */
export function requiredFields(type: PartnerType): ConnectionFieldName[] {
  return (partnerDescriptor(type)?.connectionFields ?? []).filter((f) => f.required).map((f) => f.name);
}

export const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;
export const WORKSPACE_PATTERN = /^[a-z0-9-]{1,63}$/;
