import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { partnerCatalog } from '../../partners/catalog.ts';

const ConnectionFieldView = Type.Object({
  name: Type.String(),
  label: Type.String(),
  help: Type.String(),
  required: Type.Boolean(),
  secret: Type.Boolean(),
  kind: Type.Union([Type.Literal('url'), Type.Literal('text'), Type.Literal('password')]),
});

const ImpactUrgencyView = Type.Object({ impact: Type.String(), urgency: Type.String() });
const SeverityMappingView = Type.Object(
  { Sev0: ImpactUrgencyView, Sev1: ImpactUrgencyView, Sev2: ImpactUrgencyView, Sev3: ImpactUrgencyView, Sev4: ImpactUrgencyView },
  { description: 'Sev0–Sev4 → impact/urgency of an Incident when the ITSM action sets no severityMapping of its own' },
);

const PartnerView = Type.Object(
  {
    type: Type.String(),
    displayName: Type.String(),
    connectionFields: Type.Array(ConnectionFieldView),
    workItemTypes: Type.Array(Type.String()),
    syncScopes: Type.Array(Type.String()),
    defaultSeverityMapping: SeverityMappingView,
    mappingVerified: Type.Boolean(),
    clientAvailable: Type.Boolean(),
    sandboxAvailable: Type.Boolean(),
  },
  { $id: 'Partner' },
);

/** `GET /api/v1/partners`: the registered partners and their connection forms (admin or any workspace key). */
export function partnerRoutes() {
  return async function (base: FastifyInstance) {
    const app = base.withTypeProvider<TypeBoxTypeProvider>();
    app.get(
      '/api/v1/partners',
      {
        config: { access: 'authenticated' },
        schema: {
          tags: ['partners'],
          summary: 'List the ITSM products this connector can connect to',
          description:
            'Each partner with its connection form (fields, labels, help, which are required and secret), work item types, sync scopes, default severity → impact/urgency mapping and whether its ServiceDesk_CL mapping is verified.',
          response: { 200: Type.Object({ value: Type.Array(PartnerView) }) },
        },
      },
      async () => ({ value: partnerCatalog() }),
    );
  };
}
