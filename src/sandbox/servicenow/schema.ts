/**
 * The sandbox's dictionary: tables, fields, types, references, class hierarchy, number prefixes and the
 * table-level ACL roles. Field lists follow partner-apis.md §1.8 and the real POST response in §1.2.
 *
 * Field spec mini-language: `name:type[:refTable][=default][|Label]` where type is one of
 *   s string, i integer, dec decimal, b boolean, dt glide_date_time, d glide_date, r reference,
 *   c choice (string values), ci choice (integer values), j journal_input, jl journal_list,
 *   pw password (one-way hash), pw2 password2, ll glide_list, dur glide_duration, tn table_name.
 */

export type FieldType =
  | 'string'
  | 'integer'
  | 'decimal'
  | 'boolean'
  | 'datetime'
  | 'date'
  | 'reference'
  | 'choice'
  | 'journal'
  | 'journal_list'
  | 'password'
  | 'password2'
  | 'glide_list'
  | 'duration'
  | 'table_name'
  | 'sys_id';

export interface FieldDef {
  name: string;
  type: FieldType;
  /** Reference target table. */
  ref?: string;
  /** Choice field stored as an integer (state, impact, urgency …). */
  intChoice?: boolean;
  /** Default stored on insert (as the API would show it). */
  default?: string;
  label: string;
  /** Defined on this table (for sys_dictionary). */
  table: string;
}

export interface Acl {
  /** Any of these roles grants the operation; an empty list means any authenticated user. admin always passes. */
  read: string[];
  create: string[];
  write: string[];
  delete: string[];
}

export interface TableDef {
  name: string;
  label: string;
  parent?: string;
  /** Own fields (inherited ones come from the parent). */
  fields: FieldDef[];
  /** Field shown as the display value of references to this table. */
  display: string;
  numberPrefix?: string;
  numberStart?: number;
  acl: Acl;
}

const TYPE_CODES: Record<string, FieldType> = {
  s: 'string',
  i: 'integer',
  dec: 'decimal',
  b: 'boolean',
  dt: 'datetime',
  d: 'date',
  r: 'reference',
  c: 'choice',
  ci: 'choice',
  j: 'journal',
  jl: 'journal_list',
  pw: 'password',
  pw2: 'password2',
  ll: 'glide_list',
  dur: 'duration',
  tn: 'table_name',
  id: 'sys_id',
};

const LABELS: Record<string, string> = {
  sys_id: 'Sys ID',
  sys_created_on: 'Created',
  sys_created_by: 'Created by',
  sys_updated_on: 'Updated',
  sys_updated_by: 'Updated by',
  sys_mod_count: 'Updates',
  sys_tags: 'Tags',
  sys_class_name: 'Class',
  sys_domain: 'Domain',
  sys_domain_path: 'Domain Path',
  caller_id: 'Caller',
  cmdb_ci: 'Configuration item',
  close_code: 'Resolution code',
  close_notes: 'Resolution notes',
  short_description: 'Short description',
  comments: 'Additional comments',
  work_notes: 'Work notes',
  comments_and_work_notes: 'Comments and Work notes',
  opened_at: 'Opened',
  opened_by: 'Opened by',
  resolved_at: 'Resolved',
  resolved_by: 'Resolved by',
  closed_at: 'Closed',
  closed_by: 'Closed by',
  contact_type: 'Channel',
  hold_reason: 'On hold reason',
  assignment_group: 'Assignment group',
  assigned_to: 'Assigned to',
  start_date: 'Planned start date',
  end_date: 'Planned end date',
  work_start: 'Actual start',
  work_end: 'Actual end',
  requested_by_date: 'Requested by date',
  requested_by: 'Requested by',
  business_service: 'Service',
  correlation_id: 'Correlation ID',
  correlation_display: 'Correlation display',
  user_name: 'User ID',
  user_password: 'Password',
  ip_address: 'IP Address',
  mac_address: 'MAC Address',
  fqdn: 'Fully qualified domain name',
  os: 'Operating System',
  ram: 'RAM (MB)',
  disk_space: 'Disk space (GB)',
  cpu_count: 'CPU count',
  message_key: 'Message key',
  metric_name: 'Metric Name',
  time_of_event: 'Time of event',
  additional_info: 'Additional information',
  element_id: 'Element ID',
  client_id: 'Client ID',
  client_secret: 'Client Secret',
};

export function labelFor(name: string): string {
  const l = LABELS[name];
  if (l) return l;
  const words = name.replace(/_/g, ' ').trim();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

function f(table: string, specs: string[]): FieldDef[] {
  return specs.map((spec) => {
    let rest = spec;
    let label: string | undefined;
    const bar = rest.indexOf('|');
    if (bar >= 0) {
      label = rest.slice(bar + 1);
      rest = rest.slice(0, bar);
    }
    let def: string | undefined;
    const eq = rest.indexOf('=');
    if (eq >= 0) {
      def = rest.slice(eq + 1);
      rest = rest.slice(0, eq);
    }
    const [name, code, ref] = rest.split(':');
    const type = TYPE_CODES[code ?? 's'];
    if (!type) throw new Error(`bad field spec ${spec}`);
    return {
      name,
      type,
      ref: type === 'reference' ? ref : undefined,
      intChoice: code === 'ci' ? true : undefined,
      default: def,
      label: label ?? labelFor(name),
      table,
    };
  });
}

const SYS_FIELDS = [
  'sys_id:id',
  'sys_created_on:dt',
  'sys_created_by:s',
  'sys_updated_on:dt',
  'sys_updated_by:s',
  'sys_mod_count:i=0',
  'sys_tags:s',
  'sys_class_name:s',
];

/** Fields ServiceNow's `task` gives incident and change_request. */
const TASK_FIELDS = [
  'number:s',
  'parent:r:task',
  'made_sla:b=true',
  'watch_list:ll',
  'upon_reject:c=cancel',
  'approval_history:s',
  'opened_by:r:sys_user',
  'user_input:s',
  'sys_domain:r:sys_user_group=global',
  'sys_domain_path:s=/',
  'state:ci',
  'knowledge:b=false',
  'order:i',
  'closed_at:dt',
  'cmdb_ci:r:cmdb_ci',
  'delivery_plan:r:sc_cat_item_delivery_plan',
  'contract:r:ast_contract',
  'impact:ci=3',
  'active:b=true',
  'work_notes_list:ll',
  'business_service:r:cmdb_ci_service',
  'priority:ci',
  'time_worked:s',
  'expected_start:dt',
  'opened_at:dt',
  'business_duration:dur',
  'group_list:ll',
  'work_end:dt',
  'approval_set:dt',
  'work_notes:j',
  'universal_request:r:task',
  'short_description:s',
  'correlation_display:s',
  'delivery_task:r:sc_task',
  'work_start:dt',
  'assignment_group:r:sys_user_group',
  'additional_assignee_list:ll',
  'description:s',
  'calendar_duration:dur',
  'close_notes:s',
  'closed_by:r:sys_user',
  'follow_up:dt',
  'contact_type:c',
  'urgency:ci=3',
  'company:r:core_company',
  'reassignment_count:i=0',
  'activity_due:dt',
  'assigned_to:r:sys_user',
  'comments:j',
  'approval:c=not requested',
  'sla_due:dt',
  'comments_and_work_notes:jl',
  'due_date:dt',
  'escalation:ci=0',
  'upon_approval:c=proceed',
  'correlation_id:s',
  'location:r:cmn_location',
  'route_reason:ci',
  'service_offering:r:service_offering',
  'task_effective_number:s',
  'origin_table:tn',
  'origin_id:s',
];

const ANY: string[] = [];
const ADMIN = ['admin'];

function acl(read: string[], write: string[], del: string[] = ADMIN, create: string[] = write): Acl {
  return { read, create, write, delete: del };
}

const ITIL = ['itil', 'itil_admin'];
const CMDB_READ = ['itil', 'itil_admin', 'cmdb_read', 'asset', 'evt_mgmt_integration', 'evt_mgmt_operator'];
const CMDB_WRITE = ['itil', 'itil_admin', 'asset'];
const EVT_READ = ['evt_mgmt_integration', 'evt_mgmt_operator', 'evt_mgmt_user', 'evt_mgmt_admin'];

function table(
  name: string,
  label: string,
  display: string,
  fields: string[],
  a: Acl,
  extra: Partial<Omit<TableDef, 'name' | 'label' | 'display' | 'fields' | 'acl'>> = {},
): TableDef {
  return { name, label, display, fields: f(name, fields), acl: a, ...extra };
}

export const TABLE_DEFS: TableDef[] = [
  table(
    'incident',
    'Incident',
    'number',
    [
      ...SYS_FIELDS,
      ...TASK_FIELDS.map((s) => (s.startsWith('state:') ? 'state:ci=1' : s.startsWith('priority:') ? 'priority:ci=5' : s)),
      'caused_by:r:change_request',
      'child_incidents:i=0',
      'hold_reason:ci',
      'resolved_by:r:sys_user',
      'calendar_stc:i',
      'business_impact:s',
      'caller_id:r:sys_user',
      'reopened_time:dt',
      'resolved_at:dt',
      'subcategory:c',
      'close_code:c',
      'business_stc:i',
      'cause:s',
      'notify:ci=1',
      'parent_incident:r:incident',
      'reopened_by:r:sys_user',
      'incident_state:ci=1',
      'problem_id:r:problem',
      'severity:ci=3',
      'reopen_count:i=0',
      'rfc:r:change_request',
      'category:c=inquiry',
    ],
    acl(ITIL, ITIL),
    { numberPrefix: 'INC', numberStart: 10001 },
  ),
  table(
    'change_request',
    'Change Request',
    'number',
    [
      ...SYS_FIELDS,
      ...TASK_FIELDS.map((s) => (s.startsWith('state:') ? 'state:ci=-5' : s.startsWith('priority:') ? 'priority:ci=4' : s)),
      'type:c=normal',
      'risk:ci=3',
      'category:c=Other',
      'justification:s',
      'implementation_plan:s',
      'backout_plan:s',
      'test_plan:s',
      'risk_impact_analysis:s',
      'requested_by:r:sys_user',
      'requested_by_date:dt',
      'start_date:dt',
      'end_date:dt',
      'close_code:c',
      'on_hold:b=false',
      'on_hold_reason:s',
      'phase:c=requested',
      'phase_state:c=open',
      'chg_model:r:chg_model',
      'conflict_status:c=Not Run',
      'conflict_last_run:dt',
      'reason:c',
      'scope:ci=3',
      'production_system:b=false',
      'outside_maintenance_schedule:b=false',
      'unauthorized:b=false',
      'cab_required:b=false',
      'cab_date:d',
      'cab_recommendation:s',
      'review_date:d',
      'review_comments:s',
      'std_change_producer_version:r:std_change_producer_version',
    ],
    acl(ITIL, ITIL),
    { numberPrefix: 'CHG', numberStart: 30001 },
  ),
  table(
    'cmdb_ci',
    'Configuration Item',
    'name',
    [
      ...SYS_FIELDS,
      'name:s',
      'short_description:s|Description',
      'sys_domain:r:sys_user_group=global',
      'sys_domain_path:s=/',
      'ip_address:s',
      'mac_address:s',
      'fqdn:s',
      'dns_domain:s',
      'serial_number:s',
      'asset_tag:s',
      'manufacturer:r:core_company',
      'model_id:r:cmdb_model',
      'model_number:s',
      'category:s',
      'subcategory:s',
      'environment:c',
      'install_status:ci=1',
      'operational_status:ci=1',
      'assigned_to:r:sys_user',
      'assignment_group:r:sys_user_group',
      'support_group:r:sys_user_group',
      'managed_by:r:sys_user',
      'owned_by:r:sys_user',
      'location:r:cmn_location',
      'company:r:core_company',
      'department:r:cmn_department',
      'discovery_source:c',
      'first_discovered:dt',
      'last_discovered:dt',
      'attributes:s',
      'comments:s',
      'correlation_id:s',
      'used_for:c',
      'vendor:r:core_company',
      'warranty_expiration:d',
      'purchase_date:d',
      'install_date:dt',
      'monitor:b=false',
    ],
    acl(CMDB_READ, CMDB_WRITE),
  ),
  table('cmdb_ci_hardware', 'Hardware', 'name', ['hardware_status:c=installed', 'hardware_substatus:c', 'default_gateway:s'], acl(CMDB_READ, CMDB_WRITE), {
    parent: 'cmdb_ci',
  }),
  table(
    'cmdb_ci_computer',
    'Computer',
    'name',
    [
      'os:c',
      'os_version:s',
      'os_service_pack:s',
      'os_domain:s',
      'cpu_count:i',
      'cpu_core_count:i',
      'cpu_speed:i',
      'cpu_type:s',
      'cpu_manufacturer:r:core_company',
      'ram:i',
      'disk_space:dec',
      'form_factor:c',
      'host_name:s',
      'virtual:b=false',
      'chassis_type:c',
    ],
    acl(CMDB_READ, CMDB_WRITE),
    { parent: 'cmdb_ci_hardware' },
  ),
  table('cmdb_ci_server', 'Server', 'name', ['classification:c=Production'], acl(CMDB_READ, CMDB_WRITE), {
    parent: 'cmdb_ci_computer',
  }),
  table('cmdb_ci_win_server', 'Windows Server', 'name', [], acl(CMDB_READ, CMDB_WRITE), {
    parent: 'cmdb_ci_server',
  }),
  table('cmdb_ci_linux_server', 'Linux Server', 'name', ['kernel_release:s'], acl(CMDB_READ, CMDB_WRITE), {
    parent: 'cmdb_ci_server',
  }),
  table('cmdb_ci_netgear', 'IP Switch', 'name', ['can_route:b=false', 'can_switch:b=true', 'ports:i'], acl(CMDB_READ, CMDB_WRITE), {
    parent: 'cmdb_ci_hardware',
  }),
  table(
    'cmdb_ci_service',
    'Business Service',
    'name',
    ['busines_criticality:c|Business criticality', 'service_classification:c=Business Service', 'portfolio_status:c'],
    acl(CMDB_READ, CMDB_WRITE),
    { parent: 'cmdb_ci' },
  ),
  table(
    'task_ci',
    'Affected CI',
    'ci_item',
    [...SYS_FIELDS, 'task:r:task', 'ci_item:r:cmdb_ci|Configuration Item'],
    // Affected CIs are edited from the task form: whoever may work incidents may link CIs.
    acl(ITIL, ITIL, ITIL),
  ),
  table('cmdb_rel_type', 'CI Relationship Type', 'name', [...SYS_FIELDS, 'name:s', 'parent_descriptor:s', 'child_descriptor:s'], acl(ANY, ADMIN)),
  table(
    'cmdb_rel_ci',
    'CI Relationship',
    'parent',
    [...SYS_FIELDS, 'parent:r:cmdb_ci', 'child:r:cmdb_ci', 'type:r:cmdb_rel_type', 'port:s', 'connection_strength:c=always'],
    acl(CMDB_READ, CMDB_WRITE),
  ),
  table(
    'sys_user',
    'User',
    'name',
    [
      ...SYS_FIELDS,
      'user_name:s',
      'first_name:s',
      'last_name:s',
      'name:s',
      'email:s',
      'title:s',
      'department:r:cmn_department',
      'phone:s',
      'mobile_phone:s',
      'manager:r:sys_user',
      'company:r:core_company',
      'location:r:cmn_location',
      'employee_number:s',
      'active:b=true',
      'locked_out:b=false',
      'user_password:pw',
      'password_needs_reset:b=false',
      'web_service_access_only:b=false',
      'internal_integration_user:b=false',
      'time_zone:c',
      'last_login_time:dt',
      'failed_attempts:i',
      'vip:b=false',
      'sys_domain:r:sys_user_group=global',
      'sys_domain_path:s=/',
    ],
    acl(ANY, ['user_admin']),
    { numberPrefix: undefined },
  ),
  table(
    'sys_user_group',
    'Group',
    'name',
    [
      ...SYS_FIELDS,
      'name:s',
      'description:s',
      'manager:r:sys_user',
      'email:s',
      'active:b=true',
      'type:ll',
      'parent:r:sys_user_group',
      'cost_center:r:cmn_cost_center',
      'default_assignee:r:sys_user',
      'exclude_manager:b=false',
      'include_members:b=false',
    ],
    acl(ANY, ['user_admin']),
  ),
  table('sys_user_grmember', 'Group Member', 'user', [...SYS_FIELDS, 'user:r:sys_user', 'group:r:sys_user_group'], acl(ANY, ['user_admin'])),
  table(
    'sys_user_role',
    'Role',
    'name',
    [
      ...SYS_FIELDS,
      'name:s',
      'description:s',
      'suffix:s',
      'elevated_privilege:b=false',
      'assignable_by:r:sys_user_role',
      'includes_roles:s',
      'grantable:b=true',
    ],
    acl(ANY, ADMIN),
  ),
  table(
    'sys_user_has_role',
    'User Role',
    'role',
    [...SYS_FIELDS, 'user:r:sys_user', 'role:r:sys_user_role', 'state:c=active', 'inherited:b=false', 'inh_count:i=0', 'granted_by:r:sys_user_group'],
    acl(ANY, ['user_admin']),
  ),
  table(
    'sys_choice',
    'Choice',
    'label',
    [...SYS_FIELDS, 'name:tn|Table', 'element:s', 'value:s', 'label:s', 'sequence:i', 'inactive:b=false', 'language:s=en', 'dependent_value:s', 'hint:s'],
    acl(ANY, ['personalize_choices']),
  ),
  table(
    'sys_template',
    'Template',
    'name',
    [
      ...SYS_FIELDS,
      'name:s',
      'table:tn',
      'template:s',
      'short_description:s',
      'active:b=true',
      'global:b=true',
      'user:r:sys_user',
      'group:r:sys_user_group',
      'groups:ll',
      'next_child:r:sys_template',
      'view:s',
    ],
    acl(ANY, ['template_editor']),
  ),
  table(
    'sys_db_object',
    'Table',
    'label',
    [...SYS_FIELDS, 'name:s', 'label:s', 'super_class:r:sys_db_object|Extends table', 'number_ref:s', 'is_extendable:b=false', 'access:c=public'],
    acl(ANY, ADMIN),
  ),
  table(
    'sys_dictionary',
    'Dictionary Entry',
    'column_label',
    [
      ...SYS_FIELDS,
      'name:tn|Table',
      'element:s|Column name',
      'column_label:s',
      'internal_type:s|Type',
      'reference:tn',
      'max_length:i',
      'mandatory:b=false',
      'read_only:b=false',
      'active:b=true',
      'default_value:s',
      'choice:ci',
      'display:b=false',
    ],
    acl(ANY, ADMIN),
  ),
  table(
    'oauth_entity',
    'Application Registry',
    'name',
    [
      ...SYS_FIELDS,
      'name:s',
      'client_id:s',
      'client_secret:pw2',
      'type:c=client',
      'active:b=true',
      'access_token_lifespan:i',
      'refresh_token_lifespan:i',
      'redirect_url:s',
      'logo_url:s',
      'default_grant_type:c=password',
      'comments:s',
    ],
    acl(ADMIN, ADMIN),
  ),
  table('sys_journal_field', 'Journal Entry', 'value', [...SYS_FIELDS, 'name:tn|Table', 'element:s', 'element_id:s', 'value:s'], acl(ITIL, ADMIN)),
  table(
    'em_event',
    'Event',
    'source',
    [
      ...SYS_FIELDS,
      'source:s',
      'event_class:s',
      'node:s',
      'type:s',
      'resource:s',
      'metric_name:s',
      'message_key:s',
      'severity:ci',
      'description:s',
      'additional_info:s',
      'ci_type:s',
      'ci_identifier:s',
      'time_of_event:dt',
      'resolution_state:c=New',
      'state:c=Ready',
      'alert:r:em_alert',
      'processing_notes:s',
      'processed:dt',
      'classification:ci=0',
      'sys_domain:r:sys_user_group=global',
    ],
    acl(EVT_READ, ['evt_mgmt_operator', 'evt_mgmt_admin'], ADMIN, ['evt_mgmt_integration', 'evt_mgmt_admin']),
  ),
  table(
    'em_alert',
    'Alert',
    'number',
    [
      ...SYS_FIELDS,
      'number:s',
      'source:s',
      'event_class:s',
      'node:s',
      'type:s',
      'resource:s',
      'metric_name:s',
      'message_key:s',
      'cmdb_ci:r:cmdb_ci',
      'severity:ci',
      'state:c=Open',
      'description:s',
      'additional_info:s',
      'incident:r:task|Task',
      'initial_remote_time:dt',
      'last_remote_time:dt',
      'last_event_time:dt',
      'event_count:i=1',
      'acknowledged:b=false',
      'maintenance:b=false',
      'parent:r:em_alert',
      'group_source:ci',
      'correlation_rule_group:ci=0',
      'work_notes:j',
      'comments:j',
      'sys_domain:r:sys_user_group=global',
    ],
    acl([...EVT_READ, 'itil'], ['evt_mgmt_operator', 'evt_mgmt_admin'], ADMIN, ['evt_mgmt_integration', 'evt_mgmt_admin']),
    { numberPrefix: 'Alert', numberStart: 10001 },
  ),
];

export interface TableMeta {
  def: TableDef;
  name: string;
  /** Physical storage table (the root of the class hierarchy). */
  physical: string;
  /** Root of the hierarchy (same as physical). */
  root: string;
  /** Whether other classes share this storage (cmdb_ci …). */
  hierarchical: boolean;
  /** Fields of this class, inherited first. */
  fields: FieldDef[];
  fieldMap: Map<string, FieldDef>;
  /** This class and all its descendants. */
  classes: string[];
  /** Ancestors, nearest first, then this class last-to-first reversed: [self, parent, …, root]. */
  lineage: string[];
  numberPrefix?: string;
  numberStart?: number;
}

/** Fields that are never stored as columns. */
export function isVirtual(fd: FieldDef, meta: TableMeta): boolean {
  if (fd.type === 'journal' || fd.type === 'journal_list') return true;
  if (fd.name === 'sys_tags') return true;
  if (fd.name === 'sys_class_name' && !meta.hierarchical) return true;
  if (fd.name === 'task_effective_number') return true;
  return false;
}

export function sqlType(fd: FieldDef): string {
  if (fd.type === 'integer' || fd.type === 'boolean' || fd.intChoice) return 'INTEGER';
  if (fd.type === 'decimal') return 'REAL';
  return 'TEXT';
}

export function buildMetas(defs: TableDef[] = TABLE_DEFS): Map<string, TableMeta> {
  const byName = new Map(defs.map((d) => [d.name, d]));
  const metas = new Map<string, TableMeta>();
  const childrenOf = new Map<string, string[]>();
  for (const d of defs) {
    if (d.parent) {
      const list = childrenOf.get(d.parent) ?? [];
      list.push(d.name);
      childrenOf.set(d.parent, list);
    }
  }
  const descendants = (name: string): string[] => {
    const out = [name];
    for (const c of childrenOf.get(name) ?? []) out.push(...descendants(c));
    return out;
  };
  for (const d of defs) {
    const lineage: string[] = [];
    let cur: TableDef | undefined = d;
    while (cur) {
      lineage.push(cur.name);
      cur = cur.parent ? byName.get(cur.parent) : undefined;
    }
    const root = lineage[lineage.length - 1];
    const fields: FieldDef[] = [];
    const seen = new Set<string>();
    for (const t of [...lineage].reverse()) {
      for (const fd of byName.get(t)!.fields) {
        if (seen.has(fd.name)) continue;
        seen.add(fd.name);
        fields.push(fd);
      }
    }
    const classes = descendants(d.name);
    const rootDef = byName.get(root)!;
    metas.set(d.name, {
      def: d,
      name: d.name,
      physical: root,
      root,
      hierarchical: (childrenOf.get(root)?.length ?? 0) > 0,
      fields,
      fieldMap: new Map(fields.map((x) => [x.name, x])),
      classes,
      lineage,
      numberPrefix: d.numberPrefix ?? rootDef.numberPrefix,
      numberStart: d.numberStart ?? rootDef.numberStart,
    });
  }
  return metas;
}

/** All stored columns of a physical table: the union of the fields of every class stored in it. */
export function physicalColumns(metas: Map<string, TableMeta>, physical: string): FieldDef[] {
  const cols: FieldDef[] = [];
  const seen = new Set<string>();
  for (const m of metas.values()) {
    if (m.physical !== physical) continue;
    for (const fd of m.fields) {
      if (seen.has(fd.name) || isVirtual(fd, m)) continue;
      seen.add(fd.name);
      cols.push(fd);
    }
  }
  return cols;
}

/** The incident priority data lookup: (impact, urgency) → priority. */
export function priorityFor(impact: unknown, urgency: unknown): number | null {
  const i = Number(impact);
  const u = Number(urgency);
  if (![1, 2, 3].includes(i) || ![1, 2, 3].includes(u)) return null;
  return PRIORITY_MATRIX[i - 1][u - 1];
}

const PRIORITY_MATRIX = [
  [1, 2, 3],
  [2, 3, 4],
  [3, 4, 5],
];
