import { Type } from 'typebox';

export const WorkspaceName = Type.String({ pattern: '^[a-z0-9-]{1,63}$', description: 'workspace name: [a-z0-9-]{1,63}' });
export const ResourceName = Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$', description: 'name: letters, digits, . _ -, up to 63' });

export const WsParams = Type.Object({ ws: WorkspaceName });
export const WsNameParams = Type.Object({ ws: WorkspaceName, name: ResourceName });
export const ErrorSchema = Type.Object(
  { error: Type.Object({ code: Type.String(), message: Type.String(), details: Type.Optional(Type.Unknown()) }) },
  { $id: 'Error' },
);

/** `?dryRun=true` on a PUT: the same validation (and credential check) as the real request, nothing written. */
export const DryRunQuery = Type.Object({
  dryRun: Type.Optional(
    Type.Union([Type.Literal('true'), Type.Literal('false')], { description: 'true: validate only, write nothing (answer 200 with what would be stored)' }),
  ),
});
