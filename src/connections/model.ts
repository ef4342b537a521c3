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
    dataSyncScope: Type.Optional(Type.Array(Type.Union([Type.Literal('Incident'), Type.Literal('ChangeRequest')]), { maxItems: 2, uniqueItems: true })),
    syncDataDays: Type.Optional(Type.Integer({ minimum: 1, maximum: 120 })),
    createNewConfigurationItems: Type.Optional(Type.Boolean()),
    syncIntervalSeconds: Type.Optional(Type.Integer({ minimum: 30, maximum: 86400 })),
  },
  { additionalProperties: false, $id: 'ConnectionInput' },
);
export type ConnectionInput = Static<typeof ConnectionInput>;

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
