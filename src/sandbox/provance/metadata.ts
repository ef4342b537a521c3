/**
 * The `$metadata` CSDL document (OData v4 XML) and the service document of the sandbox, generated from
 * the entity definitions, in the shape Dataverse publishes them (namespace Microsoft.Dynamics.CRM, alias
 * mscrm, container System, lookups as `_x_value` properties with single-valued navigation properties).
 */
import type { EntityMeta } from './schema.ts';
import { edmType, propertyName } from './schema.ts';

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/"/g, '&quot;');

function entityType(m: EntityMeta, byLogical: Map<string, EntityMeta>): string {
  const lines = [`<EntityType Name="${esc(m.logical)}" BaseType="mscrm.crmbaseentity">`, `<Key><PropertyRef Name="${esc(m.primaryId)}"/></Key>`];
  for (const a of m.attrs) {
    const unicode = a.type === 'String' || a.type === 'Memo' ? ' Unicode="false"' : '';
    lines.push(`<Property Name="${esc(propertyName(a))}" Type="${edmType(a)}"${unicode}/>`);
  }
  lines.push('<Property Name="versionnumber" Type="Edm.Int64"/>');
  for (const a of m.attrs) {
    for (const t of a.targets ?? []) {
      const target = byLogical.get(t.entity);
      if (!target) continue;
      lines.push(
        `<NavigationProperty Name="${esc(t.nav)}" Type="mscrm.${esc(t.entity)}"><ReferentialConstraint Property="${esc(propertyName(a))}" ReferencedProperty="${esc(target.primaryId)}"/></NavigationProperty>`,
      );
    }
  }
  for (const r of m.manyToMany) lines.push(`<NavigationProperty Name="${esc(r.nav)}" Type="Collection(mscrm.${esc(r.target)})" Partner="${esc(r.nav)}"/>`);
  lines.push('</EntityType>');
  return lines.join('');
}

export function csdl(entities: Map<string, EntityMeta>): string {
  const types = [...entities.values()].map((m) => entityType(m, entities)).join('\n');
  const sets = [...entities.values()].map((m) => `<EntitySet Name="${esc(m.set)}" EntityType="Microsoft.Dynamics.CRM.${esc(m.logical)}"/>`).join('');
  return `<?xml version="1.0" encoding="utf-8"?>
<edmx:Edmx Version="4.0" xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx">
<edmx:Reference Uri="http://vocabularies.odata.org/OData.Community.Display.V1.xml"><edmx:Include Namespace="OData.Community.Display.V1" Alias="Display"/></edmx:Reference>
<edmx:DataServices>
<Schema Namespace="Microsoft.Dynamics.CRM" Alias="mscrm" xmlns="http://docs.oasis-open.org/odata/ns/edm">
<EntityType Name="crmbaseentity" Abstract="true"/>
${types}
<ComplexType Name="WhoAmIResponse"><Property Name="BusinessUnitId" Type="Edm.Guid" Nullable="false"/><Property Name="UserId" Type="Edm.Guid" Nullable="false"/><Property Name="OrganizationId" Type="Edm.Guid" Nullable="false"/></ComplexType>
<Function Name="WhoAmI"><ReturnType Type="mscrm.WhoAmIResponse" Nullable="false"/></Function>
<Action Name="CloseIncident"><Parameter Name="IncidentResolution" Type="mscrm.incidentresolution" Nullable="false"/><Parameter Name="Status" Type="Edm.Int32" Nullable="false"/></Action>
<EntityContainer Name="System">${sets}<FunctionImport Name="WhoAmI" Function="Microsoft.Dynamics.CRM.WhoAmI" IncludeInServiceDocument="false"/><ActionImport Name="CloseIncident" Action="Microsoft.Dynamics.CRM.CloseIncident"/></EntityContainer>
</Schema>
</edmx:DataServices>
</edmx:Edmx>
`;
}

export function serviceDocument(base: string, entities: Map<string, EntityMeta>): Record<string, unknown> {
  return {
    '@odata.context': `${base}/$metadata`,
    value: [...entities.values()].map((m) => ({ name: m.set, kind: 'EntitySet', url: m.set })),
  };
}
