/**
 * Base choice lists seeded into sys_choice. Values and labels follow partner-apis.md §1.8; where the
 * reference marks a list unverified (close codes, contact types, change risk/category) the values here
 * are a plausible base-instance set and can be changed at run time through the Table API (sys_choice is
 * a normal table), which is how a real instance is customised too.
 */
export interface ChoiceSeed {
  table: string;
  element: string;
  value: string;
  label: string;
  dependent?: string;
}

const out: ChoiceSeed[] = [];

function add(table: string, element: string, pairs: [string, string][], dependent?: string): void {
  for (const [value, label] of pairs) out.push({ table, element, value, label, dependent });
}

const INCIDENT_STATES: [string, string][] = [
  ['1', 'New'],
  ['2', 'In Progress'],
  ['3', 'On Hold'],
  ['6', 'Resolved'],
  ['7', 'Closed'],
  ['8', 'Canceled'],
];
const IMPACT: [string, string][] = [
  ['1', '1 - High'],
  ['2', '2 - Medium'],
  ['3', '3 - Low'],
];
const APPROVAL: [string, string][] = [
  ['not requested', 'Not Yet Requested'],
  ['requested', 'Requested'],
  ['approved', 'Approved'],
  ['rejected', 'Rejected'],
  ['cancelled', 'Cancelled'],
  ['not_required', 'No Longer Required'],
  ['duplicate', 'Duplicate'],
];
const ESCALATION: [string, string][] = [
  ['0', 'Normal'],
  ['1', 'Moderate'],
  ['2', 'High'],
  ['3', 'Overdue'],
];

add('incident', 'state', INCIDENT_STATES);
add('incident', 'incident_state', INCIDENT_STATES);
add('incident', 'impact', IMPACT);
add('incident', 'urgency', IMPACT);
add('incident', 'priority', [
  ['1', '1 - Critical'],
  ['2', '2 - High'],
  ['3', '3 - Moderate'],
  ['4', '4 - Low'],
  ['5', '5 - Planning'],
]);
add('incident', 'severity', [
  ['1', '1 - High'],
  ['2', '2 - Medium'],
  ['3', '3 - Low'],
]);
add('incident', 'hold_reason', [
  ['1', 'Awaiting Caller'],
  ['5', 'Awaiting Change'],
  ['3', 'Awaiting Problem'],
  ['4', 'Awaiting Vendor'],
]);
add('incident', 'category', [
  ['inquiry', 'Inquiry / Help'],
  ['software', 'Software'],
  ['hardware', 'Hardware'],
  ['network', 'Network'],
  ['database', 'Database'],
]);
export const SUBCATEGORIES: Record<string, [string, string][]> = {
  inquiry: [
    ['antivirus', 'Antivirus'],
    ['email', 'Email'],
    ['internal application', 'Internal Application'],
  ],
  software: [
    ['email', 'Email'],
    ['os', 'Operating System'],
  ],
  hardware: [
    ['cpu', 'CPU'],
    ['disk', 'Disk'],
    ['keyboard', 'Keyboard'],
    ['memory', 'Memory'],
    ['monitor', 'Monitor'],
    ['mouse', 'Mouse'],
  ],
  network: [
    ['dhcp', 'DHCP'],
    ['dns', 'DNS'],
    ['ip address', 'IP Address'],
    ['vpn', 'VPN'],
    ['wireless', 'Wireless'],
  ],
  database: [
    ['db2', 'DB2'],
    ['ms sql server', 'MS SQL Server'],
    ['oracle', 'Oracle'],
  ],
};
for (const [cat, subs] of Object.entries(SUBCATEGORIES)) add('incident', 'subcategory', subs, cat);
add('incident', 'contact_type', [
  ['email', 'Email'],
  ['phone', 'Phone'],
  ['self-service', 'Self-service'],
  ['walk-in', 'Walk-in'],
  ['chat', 'Chat'],
  ['virtual_agent', 'Virtual Agent'],
]);
export const INCIDENT_CLOSE_CODES = [
  'Duplicate',
  'Known error',
  'No resolution provided',
  'Resolved by caller',
  'Resolved by change',
  'Resolved by problem',
  'Resolved by request',
  'Solution provided',
  'Workaround provided',
  'User error',
];
add(
  'incident',
  'close_code',
  INCIDENT_CLOSE_CODES.map((c) => [c, c]),
);
add('incident', 'notify', [
  ['1', 'Do Not Notify'],
  ['2', 'Send Email'],
]);
add('incident', 'escalation', ESCALATION);
add('incident', 'approval', APPROVAL);
add('incident', 'upon_reject', [
  ['cancel', 'Cancel all future Tasks'],
  ['goto', 'Go to a previous Task'],
]);
add('incident', 'upon_approval', [
  ['proceed', 'Proceed to Next Task'],
  ['wait', 'Wait for a User to Close this task'],
]);

add('change_request', 'state', [
  ['-5', 'New'],
  ['-4', 'Assess'],
  ['-3', 'Authorize'],
  ['-2', 'Scheduled'],
  ['-1', 'Implement'],
  ['0', 'Review'],
  ['3', 'Closed'],
  ['4', 'Canceled'],
]);
add('change_request', 'type', [
  ['standard', 'Standard'],
  ['normal', 'Normal'],
  ['emergency', 'Emergency'],
]);
add('change_request', 'risk', [
  ['1', 'Very High'],
  ['2', 'High'],
  ['3', 'Moderate'],
  ['4', 'Low'],
]);
add('change_request', 'impact', IMPACT);
add('change_request', 'urgency', IMPACT);
add('change_request', 'priority', [
  ['1', '1 - Critical'],
  ['2', '2 - High'],
  ['3', '3 - Moderate'],
  ['4', '4 - Low'],
]);
export const CHANGE_CATEGORIES = [
  'Hardware',
  'Software',
  'Service',
  'System Software',
  'Applications Software',
  'Network',
  'Telecom',
  'Documentation',
  'Other',
];
add(
  'change_request',
  'category',
  CHANGE_CATEGORIES.map((c) => [c, c]),
);
add('change_request', 'close_code', [
  ['successful', 'Successful'],
  ['successful_issues', 'Successful with issues'],
  ['unsuccessful', 'Unsuccessful'],
]);
add('change_request', 'conflict_status', [
  ['Not Run', 'Not Run'],
  ['Conflict', 'Conflict'],
  ['No Conflict', 'No Conflict'],
]);
add('change_request', 'phase', [
  ['requested', 'Requested'],
  ['scheduled', 'Scheduled'],
  ['implementation', 'Implementation'],
  ['review', 'Review'],
  ['closed', 'Closed'],
]);
add('change_request', 'phase_state', [
  ['open', 'Open'],
  ['on_hold', 'On Hold'],
  ['closed', 'Closed'],
]);
add('change_request', 'scope', [
  ['1', 'Extra Large'],
  ['2', 'Large'],
  ['3', 'Medium'],
  ['4', 'Small'],
  ['5', 'Extra Small'],
]);
add('change_request', 'escalation', ESCALATION);
add('change_request', 'approval', APPROVAL);

add('cmdb_ci', 'install_status', [
  ['0', 'Implementing'],
  ['1', 'Installed'],
  ['2', 'On Order'],
  ['3', 'In Maintenance'],
  ['4', 'Pending Install'],
  ['5', 'Pending Repair'],
  ['6', 'In Stock'],
  ['7', 'Retired'],
  ['8', 'Stolen'],
  ['100', 'Absent'],
]);
add('cmdb_ci', 'operational_status', [
  ['1', 'Operational'],
  ['2', 'Non-Operational'],
  ['3', 'Repair in Progress'],
  ['4', 'DR Standby'],
  ['5', 'Ready'],
  ['6', 'Retired'],
  ['7', 'Pipeline'],
  ['8', 'Catalog'],
]);
add('cmdb_ci', 'environment', [
  ['Development', 'Development'],
  ['Production', 'Production'],
  ['Test', 'Test'],
]);
add('cmdb_ci', 'used_for', [
  ['Production', 'Production'],
  ['Staging', 'Staging'],
  ['QA', 'QA'],
  ['Test', 'Test'],
  ['Development', 'Development'],
  ['Demonstration', 'Demonstration'],
  ['Training', 'Training'],
  ['Disaster recovery', 'Disaster recovery'],
]);
add('cmdb_ci', 'discovery_source', [
  ['ServiceNow', 'ServiceNow'],
  ['Manual Entry', 'Manual Entry'],
  ['SCCM', 'SCCM'],
  ['Other Automated', 'Other Automated'],
]);
add('cmdb_ci_hardware', 'hardware_status', [
  ['installed', 'Installed'],
  ['in_maintenance', 'In Maintenance'],
  ['retired', 'Retired'],
  ['in_stock', 'In Stock'],
]);
export const COMPUTER_OS = ['Windows 10 Enterprise', 'Windows 11 Enterprise', 'Windows 11 Pro', 'Mac OS 13', 'Linux Ubuntu'];
export const SERVER_OS_WIN = ['Windows 2016 Datacenter', 'Windows 2019 Datacenter', 'Windows 2022 Standard'];
export const SERVER_OS_LINUX = ['Linux Red Hat', 'Linux Ubuntu', 'Linux SuSE', 'Linux CentOS'];
add(
  'cmdb_ci_computer',
  'os',
  [...new Set([...COMPUTER_OS, ...SERVER_OS_WIN, ...SERVER_OS_LINUX])].map((o) => [o, o]),
);
add('cmdb_ci_computer', 'form_factor', [
  ['desktop', 'Desktop'],
  ['laptop', 'Laptop'],
  ['rack mount', 'Rack Mount'],
  ['virtual', 'Virtual'],
]);
add('cmdb_ci_server', 'classification', [
  ['Production', 'Production'],
  ['Development', 'Development'],
  ['Test', 'Test'],
  ['Production Support', 'Production Support'],
]);
add('cmdb_ci_service', 'busines_criticality', [
  ['1 - most critical', '1 - most critical'],
  ['2 - somewhat critical', '2 - somewhat critical'],
  ['3 - less critical', '3 - less critical'],
  ['4 - not critical', '4 - not critical'],
]);
add('em_alert', 'state', [
  ['Open', 'Open'],
  ['Reopen', 'Reopen'],
  ['Flapping', 'Flapping'],
  ['Closed', 'Closed'],
]);
const EVT_SEVERITY: [string, string][] = [
  ['0', 'Clear'],
  ['1', 'Critical'],
  ['2', 'Major'],
  ['3', 'Minor'],
  ['4', 'Warning'],
  ['5', 'OK'],
];
add('em_alert', 'severity', EVT_SEVERITY);
add('em_event', 'severity', EVT_SEVERITY);
add('em_event', 'state', [
  ['Ready', 'Ready'],
  ['Processed', 'Processed'],
  ['Error', 'Error'],
  ['Ignored', 'Ignored'],
]);
add('em_event', 'resolution_state', [
  ['New', 'New'],
  ['Closing', 'Closing'],
]);
add('sys_user_has_role', 'state', [
  ['active', 'Active'],
  ['pending', 'Pending'],
]);
add('oauth_entity', 'type', [
  ['client', 'OAuth Client'],
  ['provider', 'OAuth Provider'],
]);

export const CHOICES: readonly ChoiceSeed[] = out;
