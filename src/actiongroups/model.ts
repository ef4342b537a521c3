import { Type, type Static } from 'typebox';
import { TicketConfigurationSchema } from '../actions/ticket-config.ts';

/** At most 10 ITSM actions per action group (Azure Monitor's limit, kept). */
export const MAX_ITSM_ACTIONS = 10;

export const ItsmReceiverInput = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 128, pattern: '^[^\\u0000-\\u001f]+$', description: 'unique within the action group' }),
    connectionName: Type.String({ minLength: 1, maxLength: 63, description: 'a connection of the same workspace' }),
    ticketConfiguration: Type.Unsafe<Static<typeof TicketConfigurationSchema>>(Type.Ref('TicketConfiguration')),
  },
  { additionalProperties: false, $id: 'ItsmReceiver' },
);

/** The action group as the user writes it (Azure's ActionGroup resource, ITSM receivers only). */
export const ActionGroupInput = Type.Object(
  {
    shortName: Type.Optional(
      Type.String({ minLength: 1, maxLength: 12, description: 'shown in notifications (Azure allows 12 characters); default: the name' }),
    ),
    enabled: Type.Optional(
      Type.Boolean({ default: true, description: 'a disabled group acknowledges alerts with 202 {"status":"ignored"} and stores nothing' }),
    ),
    itsmReceivers: Type.Array(Type.Ref('ItsmReceiver'), { maxItems: MAX_ITSM_ACTIONS, description: `at most ${MAX_ITSM_ACTIONS} ITSM actions` }),
  },
  { additionalProperties: false, $id: 'ActionGroupInput' },
);
export type ActionGroupInput = { shortName?: string; enabled?: boolean; itsmReceivers: ItsmReceiver[] };

export interface ItsmReceiver {
  name: string;
  connectionName: string;
  ticketConfiguration: Record<string, unknown>;
}

export const ActionGroupView = Type.Object(
  {
    name: Type.String(),
    workspace: Type.String(),
    shortName: Type.String(),
    enabled: Type.Boolean(),
    itsmReceivers: Type.Array(Type.Ref('ItsmReceiver')),
    webhookUrl: Type.Union([Type.String(), Type.Null()], { description: 'POST alerts here (the secret is part of the URL); null for readers' }),
    alertsUrl: Type.String({ description: 'bearer-authenticated alternative to the webhook URL' }),
    createdAt: Type.String(),
    updatedAt: Type.String(),
  },
  { $id: 'ActionGroup' },
);
export type ActionGroupView = Static<typeof ActionGroupView>;
