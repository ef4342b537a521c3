/**
 * Deterministic seed data for the ServiceNow sandbox: users, groups, roles, CMDB (computers, servers,
 * switches, services and their relations), choice lists, templates, the dictionary, the integration
 * OAuth client, and a realistic spread of incidents and change requests over `days` days.
 * Same seed (and anchor time) → same data. One transaction, prepared multi-row inserts.
 */
import type Database from 'better-sqlite3';
import { CHANGE_CATEGORIES, CHOICES, COMPUTER_OS, INCIDENT_CLOSE_CODES, SERVER_OS_LINUX, SERVER_OS_WIN, SUBCATEGORIES } from './choices.ts';
import { ADMIN_SYS_ID } from './events.ts';
import { hashPassword } from '../common/passwords.ts';
import { quoteIdent } from './query.ts';
import { Rng } from '../common/rng.ts';
import type { FieldDef } from './schema.ts';
import { isVirtual, priorityFor, TABLE_DEFS } from './schema.ts';
import type { SnStore } from './store.ts';
import { storedDefault } from './store.ts';
import { snDate, snDateTime } from './time.ts';

export interface SeedOptions {
  seed: number;
  days: number;
  /** Anchor: every seeded time is at or before this instant. */
  nowMs: number;
  incidents: number;
  changeRequests: number;
  computers: number;
}

export const SEEDED_CREDENTIALS = {
  admin: { user: 'admin', password: 'admin' },
  integration: { user: 'itsmc.integration', password: 'sandbox' },
  oauthClient: { clientId: 'itsmc-sandbox', clientSecret: 'sandbox-secret' },
} as const;

/** The roles ITSMC's ServiceNow app gives its integration user, plus the two Event Management roles. */
export const INTEGRATION_ROLES = [
  'personalize_choices',
  'import_transformer',
  'x_mioms_microsoft.user',
  'itil',
  'template_editor',
  'view_changer',
  'evt_mgmt_integration',
  'evt_mgmt_operator',
];

const ROLES: [string, string][] = [
  ['admin', 'System administrator'],
  ['itil', 'Fulfiller: works on incidents, problems and changes'],
  ['itil_admin', 'ITIL administrator'],
  ['user_admin', 'Manages users and groups'],
  ['personalize_choices', 'Can personalize choice lists'],
  ['import_transformer', 'Runs import set transforms'],
  ['x_mioms_microsoft.user', 'User App for ServiceNow and Microsoft OMS Integration'],
  ['template_editor', 'Creates and edits templates'],
  ['view_changer', 'Can change form and list views'],
  ['evt_mgmt_integration', 'Event Management integration (send events)'],
  ['evt_mgmt_operator', 'Event Management operator (work on alerts)'],
  ['evt_mgmt_user', 'Event Management read access'],
  ['evt_mgmt_admin', 'Event Management administrator'],
  ['cmdb_read', 'Read access to the CMDB'],
  ['asset', 'Asset management'],
  ['change_manager', 'Change manager'],
  ['approver_user', 'Can approve'],
  ['rest_api_explorer', 'REST API Explorer'],
  ['snc_platform_rest_api_access', 'Platform REST API access'],
];

const FIRST = [
  'Abel',
  'Beth',
  'Carla',
  'David',
  'Fred',
  'Gina',
  'Hector',
  'Irene',
  'Jamal',
  'Karen',
  'Luis',
  'Maya',
  'Nora',
  'Omar',
  'Priya',
  'Quinn',
  'Rita',
  'Sam',
  'Tara',
  'Umar',
  'Vera',
  'Wade',
  'Xena',
  'Yusuf',
  'Zoe',
  'Aiden',
  'Bianca',
  'Chen',
  'Dana',
  'Elena',
  'Felix',
  'Grace',
  'Hugo',
  'Ingrid',
  'Jonas',
  'Kira',
  'Lena',
  'Mateo',
  'Nadia',
  'Oscar',
  'Paula',
  'Rafael',
  'Sofia',
  'Tomas',
  'Ursula',
  'Viktor',
  'Wendy',
  'Yara',
];
const LAST = [
  'Tuter',
  'Anglin',
  'Fortino',
  'Loo',
  'Luddy',
  'Marsh',
  'Ortiz',
  'Novak',
  'Haddad',
  'Berg',
  'Santos',
  'Kim',
  'Olsen',
  'Farah',
  'Raman',
  'Hughes',
  'Moreau',
  'Keller',
  'Singh',
  'Malik',
  'Costa',
  'Dunn',
  'Petrov',
  'Aydin',
  'Brooks',
  'Walsh',
  'Silva',
  'Wang',
  'Reyes',
  'Ivanova',
  'Weber',
  'Lindqvist',
  'Dubois',
  'Nilsen',
  'Meyer',
  'Sato',
  'Fischer',
  'Rossi',
  'Nowak',
  'Okafor',
  'Lopez',
  'Romero',
  'Horvat',
  'Varga',
  'Engel',
  'Popescu',
  'Lund',
  'Ali',
];
const TITLES = [
  'Service Desk Analyst',
  'Network Engineer',
  'Database Administrator',
  'Systems Engineer',
  'Desktop Support Technician',
  'Application Analyst',
  'Change Manager',
  'IT Manager',
  'Linux Administrator',
  'Windows Administrator',
  'Accountant',
  'Sales Representative',
  'HR Generalist',
  'Marketing Specialist',
  'Project Manager',
  'Buyer',
];

const GROUPS: [string, string, number][] = [
  ['Service Desk', 'First line support for all end-user requests', 10],
  ['Network', 'LAN, WAN, VPN, DNS and firewall', 5],
  ['Database', 'Database administration (SQL Server, Oracle, DB2)', 4],
  ['Hardware', 'Desktop, laptop and peripheral support', 5],
  ['Software', 'Business applications and end-user software', 5],
  ['Windows Server Admins', 'Windows server operations', 4],
  ['Linux Server Admins', 'Linux server operations', 4],
  ['Change Advisory Board', 'Change approvals and scheduling', 4],
];

const SERVICES = ['Email', 'SAP ERP', 'Payroll', 'Customer Portal', 'VPN Service', 'Intranet', 'Data Warehouse', 'Printing'];
const DEPTS = ['FIN', 'HR', 'ENG', 'OPS', 'SAL', 'MKT', 'IT', 'LEG'];
const APPS = ['app', 'web', 'db', 'file', 'mail', 'sap', 'dc', 'etl', 'api', 'k8s'];

const REL_TYPES: [string, string, string][] = [
  ['Depends on::Used by', 'Depends on', 'Used by'],
  ['Runs on::Runs', 'Runs on', 'Runs'],
  ['Connected by::Connects', 'Connected by', 'Connects'],
  ['Virtualized by::Virtualizes', 'Virtualized by', 'Virtualizes'],
  ['Hosted on::Hosts', 'Hosted on', 'Hosts'],
  ['Members::Member of', 'Members', 'Member of'],
];

const SHORT: Record<string, string[]> = {
  antivirus: ['Antivirus definitions out of date on {ci}', 'Antivirus scan blocking application on {ci}', 'Malware alert on {ci}'],
  email: ['Unable to send email from Outlook', 'Mailbox full, cannot receive messages', 'Email delivery delayed for {svc}', 'Shared mailbox not syncing'],
  'internal application': ['Cannot log in to {svc}', '{svc} shows error 500', 'Request access to {svc}', '{svc} report is slow'],
  os: ['Windows update failed on {ci}', 'Blue screen after reboot on {ci}', 'Cannot install software on {ci}', 'Profile corrupted on {ci}'],
  cpu: ['High CPU utilization on {ci}', 'CPU usage above 95% on {ci}', '{ci} fans loud and CPU throttling'],
  disk: ['Disk space low on {ci}', 'Disk C: over 90% full on {ci}', 'Disk errors reported on {ci}', 'Volume /var nearly full on {ci}'],
  keyboard: ['Keyboard not working', 'Several keys stuck on laptop keyboard', 'Need replacement keyboard'],
  memory: ['Memory utilization high on {ci}', 'Out of memory errors on {ci}', '{ci} swapping heavily'],
  monitor: ['External monitor not detected', 'Monitor flickering', 'Second screen shows no signal'],
  mouse: ['Mouse not responding', 'Wireless mouse keeps disconnecting'],
  dhcp: ['Unable to obtain IP address', 'DHCP scope exhausted in building B', 'Duplicate IP address detected'],
  dns: ['DNS resolution failing for {svc}', 'Cannot resolve internal host names', 'DNS record missing for {ci}'],
  'ip address': ['IP conflict on {ci}', 'Static IP request for {ci}'],
  vpn: ['VPN connection drops every few minutes', 'Cannot connect to VPN from home', 'VPN slow for remote users'],
  wireless: ['Wi-Fi unavailable on floor 3', 'Guest wireless not working', 'Wireless signal weak in meeting room'],
  db2: ['DB2 backup job failed on {ci}', 'DB2 lock timeouts on {ci}'],
  'ms sql server': ['SQL Server agent job failed on {ci}', 'Deadlocks on {ci}', 'SQL Server transaction log full on {ci}'],
  oracle: ['Oracle tablespace almost full on {ci}', 'Oracle listener down on {ci}', 'Slow queries on {ci}'],
};
const CLOSE_NOTES = [
  'Issue resolved after restarting the service.',
  'Applied the documented workaround; user confirmed it works.',
  'Replaced the faulty component.',
  'Cleaned up disk space and added monitoring.',
  'Reconfigured the client; confirmed with the caller.',
  'Root cause fixed by change; closing.',
  'Duplicate of an existing incident.',
  'User error, explained the correct procedure.',
  'Patched and rebooted during the maintenance window.',
];
const WORK_NOTES = [
  'Contacted the caller, gathering logs.',
  'Escalated to second line.',
  'Checked event logs; see attachment.',
  'Waiting for the vendor to respond.',
  'Workaround applied, monitoring.',
  'Reproduced the issue in test.',
];
const COMMENTS = ['Any update on this, please?', 'Thanks, it works again.', 'The problem came back this morning.', 'I will be out of office until Monday.'];
const CHANGE_SHORT = [
  'Apply monthly security patches to {ci}',
  'Upgrade {svc} to the next release',
  'Firewall rule change for {svc}',
  'Replace failed disk on {ci}',
  'Increase memory on {ci}',
  'Renew TLS certificate for {svc}',
  'Migrate {svc} database to new cluster',
  'Decommission {ci}',
  'Deploy hotfix for {svc}',
  'Network switch firmware upgrade',
];

const W_IMPACT: [number, number][] = [
  [1, 0.1],
  [2, 0.3],
  [3, 0.6],
];
const W_URGENCY: [number, number][] = [
  [1, 0.12],
  [2, 0.35],
  [3, 0.53],
];
const W_CATEGORY: [string, number][] = [
  ['inquiry', 0.25],
  ['software', 0.3],
  ['hardware', 0.2],
  ['network', 0.15],
  ['database', 0.1],
];
const W_CONTACT: [string, number][] = [
  ['email', 0.33],
  ['phone', 0.25],
  ['self-service', 0.25],
  ['walk-in', 0.05],
  ['chat', 0.08],
  ['virtual_agent', 0.04],
];
const W_HOLD: [number, number][] = [
  [1, 0.5],
  [4, 0.25],
  [3, 0.15],
  [5, 0.1],
];
const W_REASSIGN: [number, number][] = [
  [0, 0.75],
  [1, 0.2],
  [2, 0.05],
];
const W_CLOSE_CODE: [string, number][] = [
  [INCIDENT_CLOSE_CODES[7], 0.45],
  [INCIDENT_CLOSE_CODES[8], 0.2],
  [INCIDENT_CLOSE_CODES[3], 0.1],
  [INCIDENT_CLOSE_CODES[9], 0.08],
  [INCIDENT_CLOSE_CODES[4], 0.07],
  [INCIDENT_CLOSE_CODES[0], 0.05],
  [INCIDENT_CLOSE_CODES[1], 0.05],
];
const W_CHG_TYPE: [string, number][] = [
  ['normal', 0.6],
  ['standard', 0.3],
  ['emergency', 0.1],
];
const W_CHG_IMPACT: [number, number][] = [
  [1, 0.1],
  [2, 0.35],
  [3, 0.55],
];
const W_CHG_URGENCY: [number, number][] = [
  [1, 0.1],
  [2, 0.4],
  [3, 0.5],
];
const W_CHG_CLOSE: [string, number][] = [
  ['successful', 0.85],
  ['successful_issues', 0.1],
  ['unsuccessful', 0.05],
];
const W_RISK: [number, number][] = [
  [2, 0.15],
  [3, 0.5],
  [4, 0.35],
];

const HOUR = 3_600_000;
const DAY = 86_400_000;

/** Multi-row prepared INSERTs. */
class BulkInserter {
  private readonly one: Database.Statement;
  private readonly many: Database.Statement;
  private buf: unknown[] = [];
  private rows = 0;
  count = 0;

  constructor(
    db: Database.Database,
    table: string,
    readonly cols: string[],
    private readonly batch = Math.max(1, Math.min(200, Math.floor(30000 / cols.length))),
  ) {
    const tuple = `(${cols.map(() => '?').join(',')})`;
    const head = `INSERT INTO ${quoteIdent(table)} (${cols.map(quoteIdent).join(',')}) VALUES `;
    this.one = db.prepare(head + tuple);
    this.many = db.prepare(head + new Array(this.batch).fill(tuple).join(','));
  }

  add(values: unknown[]): void {
    if (values.length !== this.cols.length) throw new Error(`seed: ${values.length} values for ${this.cols.length} columns`);
    for (const v of values) this.buf.push(v === undefined ? null : v);
    this.rows++;
    this.count++;
    if (this.rows === this.batch) {
      this.many.run(this.buf);
      this.buf = [];
      this.rows = 0;
    }
  }

  /** Adds a record given as an object (keys must be among cols). */
  addRec(rec: Record<string, unknown>): void {
    this.add(this.cols.map((c) => rec[c]));
  }

  flush(): void {
    const n = this.cols.length;
    for (let r = 0; r < this.rows; r++) this.one.run(this.buf.slice(r * n, r * n + n));
    this.buf = [];
    this.rows = 0;
  }
}

function durationText(ms: number): string {
  return snDateTime(Math.max(0, ms));
}

interface Person {
  sysId: string;
  userName: string;
  name: string;
}

export function seedStore(store: SnStore, opts: SeedOptions): void {
  const db = store.db;
  const now = Math.floor(opts.nowMs / 1000) * 1000;
  const days = Math.max(1, opts.days);
  const windowStart = now - days * DAY;
  const base = opts.seed >>> 0;
  const rngFor = (k: number): Rng => new Rng((Math.imul(base, 0x9e3779b1) + k * 0x632be5ab) >>> 0);
  const rMeta = rngFor(1);
  const sys = (r: Rng = rMeta): string => r.sysId();
  const past = (r: Rng, minDaysBefore: number, maxDaysBefore: number): string =>
    snDateTime(windowStart - (minDaysBefore + r.next() * (maxDaysBefore - minDaysBefore)) * DAY);

  /** Record with the table's defaults plus system fields. */
  const withDefaults = (table: string, rec: Record<string, unknown>, createdBy = 'admin'): Record<string, unknown> => {
    const meta = store.metas.get(table)!;
    const out: Record<string, unknown> = {};
    for (const fd of meta.fields) {
      if (isVirtual(fd, meta)) continue;
      if (fd.default !== undefined) out[fd.name] = storedDefault(fd);
    }
    out.sys_created_by = createdBy;
    out.sys_updated_by = createdBy;
    out.sys_mod_count = 0;
    if (meta.hierarchical) out.sys_class_name = table;
    Object.assign(out, rec);
    out.sys_updated_on ??= out.sys_created_on;
    return out;
  };
  const colsOf = (table: string, extra: string[] = []): string[] => {
    const meta = store.metas.get(table)!;
    const cols = store.columns.get(meta.physical)!.map((f: FieldDef) => f.name);
    return [...new Set([...cols, ...extra])];
  };
  const inserters = new Map<string, BulkInserter>();
  const put = (table: string, rec: Record<string, unknown>, createdBy?: string): void => {
    const meta = store.metas.get(table)!;
    let ins = inserters.get(meta.physical);
    if (!ins) {
      ins = new BulkInserter(db, meta.physical, colsOf(table), 50);
      inserters.set(meta.physical, ins);
    }
    ins.addRec(withDefaults(table, rec, createdBy));
  };

  const run = db.transaction(() => {
    // ------------------------------------------------------------ roles
    const roleIds = new Map<string, string>();
    for (const [name, description] of ROLES) {
      const id = sys();
      roleIds.set(name, id);
      put('sys_user_role', { sys_id: id, name, description, sys_created_on: past(rMeta, 300, 400) });
    }

    // ------------------------------------------------------------ users
    const rUsers = rngFor(2);
    const people: Person[] = [];
    const userRec = (p: Record<string, unknown>): void => put('sys_user', { sys_created_on: past(rUsers, 200, 400), ...p });
    userRec({
      sys_id: ADMIN_SYS_ID,
      user_name: 'admin',
      first_name: 'System',
      last_name: 'Administrator',
      name: 'System Administrator',
      email: 'admin@example.com',
      title: 'System Administrator',
      user_password: hashPassword(SEEDED_CREDENTIALS.admin.password, rUsers.sysId()),
    });
    const integrationId = sys(rUsers);
    userRec({
      sys_id: integrationId,
      user_name: SEEDED_CREDENTIALS.integration.user,
      first_name: 'ITSMC',
      last_name: 'Integration',
      name: 'ITSMC Integration',
      email: 'itsmc.integration@example.com',
      title: 'Integration user',
      user_password: hashPassword(SEEDED_CREDENTIALS.integration.password, rUsers.sysId()),
    });
    const usedNames = new Set<string>();
    for (let i = 0; i < 48; i++) {
      let first = FIRST[i % FIRST.length];
      let last = rUsers.pick(LAST);
      while (usedNames.has(`${first}.${last}`)) {
        first = rUsers.pick(FIRST);
        last = rUsers.pick(LAST);
      }
      usedNames.add(`${first}.${last}`);
      const userName = `${first}.${last}`.toLowerCase();
      const id = sys(rUsers);
      const name = `${first} ${last}`;
      people.push({ sysId: id, userName, name });
      userRec({
        sys_id: id,
        user_name: userName,
        first_name: first,
        last_name: last,
        name,
        email: `${userName}@example.com`,
        title: i < 34 ? TITLES[i % 10] : TITLES[10 + (i % 6)],
        phone: `+1 555 01${String(i).padStart(2, '0')}`,
        employee_number: `E${String(1000 + i)}`,
        active: i === 45 || i === 46 ? 0 : 1,
        time_zone: rUsers.pick(['GMT', 'US/Eastern', 'Europe/Berlin', 'US/Pacific']),
        last_login_time: snDateTime(now - rUsers.int(1, 30 * 24) * HOUR),
      });
    }
    const agents = people.slice(0, 34);
    const endUsers = people.slice(34);
    const grant = (user: string, role: string, granted?: string): void =>
      put('sys_user_has_role', {
        sys_id: sys(),
        user,
        role: roleIds.get(role)!,
        granted_by: granted ?? null,
        sys_created_on: past(rMeta, 100, 200),
      });
    grant(ADMIN_SYS_ID, 'admin');
    for (const role of INTEGRATION_ROLES) grant(integrationId, role);

    // ------------------------------------------------------------ groups
    const groupIds = new Map<string, string>();
    const members = new Map<string, Person[]>();
    let a = 0;
    for (const [gname, description, size] of GROUPS) {
      const id = sys();
      groupIds.set(gname, id);
      const list: Person[] = [];
      for (let k = 0; k < size; k++) list.push(agents[a++ % agents.length]);
      members.set(gname, list);
      put('sys_user_group', {
        sys_id: id,
        name: gname,
        description,
        manager: list[0].sysId,
        email: `${gname.toLowerCase().replace(/ /g, '.')}@example.com`,
        type: null,
        sys_created_on: past(rMeta, 300, 400),
      });
      for (const p of list) {
        put('sys_user_grmember', { sys_id: sys(), user: p.sysId, group: id, sys_created_on: past(rMeta, 100, 300) });
        grant(p.sysId, 'itil', id);
        if (gname === 'Change Advisory Board') grant(p.sysId, 'change_manager', id);
      }
    }
    grant(agents[0].sysId, 'user_admin');
    grant(agents[1].sysId, 'template_editor');

    // ------------------------------------------------------------ CMDB
    const rCi = rngFor(3);
    interface Ci {
      sysId: string;
      name: string;
      cls: string;
    }
    const computers: Ci[] = [];
    const servers: Ci[] = [];
    const services: Ci[] = [];
    const switches: Ci[] = [];
    const nComputers = Math.max(0, opts.computers);
    const nServers = Math.round(nComputers * 0.3);
    const supportGroup = (cls: string): string =>
      groupIds.get(cls === 'cmdb_ci_linux_server' ? 'Linux Server Admins' : cls === 'cmdb_ci_win_server' ? 'Windows Server Admins' : 'Hardware')!;
    for (let i = 0; i < nComputers; i++) {
      const isServer = i < nServers;
      let cls = 'cmdb_ci_computer';
      let name: string;
      let os: string;
      if (isServer) {
        const r = rCi.next();
        cls = r < 0.45 ? 'cmdb_ci_win_server' : r < 0.9 ? 'cmdb_ci_linux_server' : 'cmdb_ci_server';
        const app = APPS[i % APPS.length];
        name = cls === 'cmdb_ci_linux_server' ? `lnx-${app}-${String(i + 1).padStart(3, '0')}` : `SRV-${app.toUpperCase()}-${String(i + 1).padStart(3, '0')}`;
        os = cls === 'cmdb_ci_linux_server' ? rCi.pick(SERVER_OS_LINUX) : rCi.pick(SERVER_OS_WIN);
      } else {
        const laptop = rCi.chance(0.6);
        name = `${laptop ? 'LT' : 'DT'}-${DEPTS[i % DEPTS.length]}-${String(i + 1).padStart(4, '0')}`;
        os = rCi.pick(COMPUTER_OS);
      }
      const id = sys(rCi);
      const ci = { sysId: id, name, cls };
      (isServer ? servers : computers).push(ci);
      const virtual = isServer && rCi.chance(0.55);
      const created = windowStart - rCi.int(30, 900) * DAY;
      const installStatus = rCi.weighted<number>([
        [1, 0.9],
        [6, 0.03],
        [3, 0.03],
        [7, 0.04],
      ]);
      const host = name.toLowerCase();
      put(
        cls,
        {
          sys_id: id,
          name,
          short_description: isServer ? `${os} server` : `${os} ${name.startsWith('LT') ? 'laptop' : 'desktop'}`,
          ip_address: `10.${isServer ? 20 : 40 + (i % 8)}.${(i >> 8) & 255}.${i & 255 || 1}`,
          mac_address: Array.from({ length: 6 }, () => rCi.int(0, 255).toString(16).padStart(2, '0')).join(':'),
          fqdn: `${host}.corp.example.com`,
          dns_domain: 'corp.example.com',
          host_name: host,
          serial_number: `SN${rCi.u32().toString(36).toUpperCase()}`,
          asset_tag: `P${String(100000 + i)}`,
          category: isServer ? 'Hardware' : 'Hardware',
          subcategory: 'Computer',
          environment: isServer
            ? rCi.weighted([
                ['Production', 0.6],
                ['Test', 0.25],
                ['Development', 0.15],
              ] as const)
            : null,
          used_for: isServer ? 'Production' : null,
          install_status: installStatus,
          operational_status: installStatus === 7 ? 6 : installStatus === 3 ? 3 : 1,
          hardware_status: installStatus === 7 ? 'retired' : installStatus === 3 ? 'in_maintenance' : 'installed',
          assigned_to: isServer ? null : rCi.pick(people).sysId,
          support_group: supportGroup(cls),
          assignment_group: supportGroup(cls),
          managed_by: isServer ? rCi.pick(agents).sysId : null,
          discovery_source: rCi.weighted([
            ['ServiceNow', 0.6],
            ['SCCM', 0.3],
            ['Manual Entry', 0.1],
          ] as const),
          first_discovered: snDateTime(created),
          last_discovered: snDateTime(now - rCi.int(1, 72) * HOUR),
          os,
          os_version: os.startsWith('Windows')
            ? rCi.pick(['10.0.19045', '10.0.22631', '10.0.17763', '10.0.20348'])
            : rCi.pick(['8.9', '9.3', '22.04', '24.04', '15.5']),
          cpu_count: isServer ? rCi.pick([2, 4, 8, 16]) : 1,
          cpu_core_count: isServer ? rCi.pick([4, 8, 16]) : rCi.pick([4, 8]),
          cpu_speed: rCi.pick([2100, 2400, 2900, 3200]),
          cpu_type: rCi.pick(['Intel(R) Xeon(R) Gold 6338', 'AMD EPYC 7543', 'Intel(R) Core(TM) i7-1265U', 'Intel(R) Core(TM) i5-1345U']),
          ram: isServer ? rCi.pick([8192, 16384, 32768, 65536]) : rCi.pick([8192, 16384, 32768]),
          disk_space: isServer ? rCi.pick([100, 250, 500, 1000]) : rCi.pick([256, 512]),
          form_factor: isServer ? (virtual ? 'virtual' : 'rack mount') : name.startsWith('LT') ? 'laptop' : 'desktop',
          virtual: virtual ? 1 : 0,
          classification: isServer ? 'Production' : null,
          kernel_release: cls === 'cmdb_ci_linux_server' ? rCi.pick(['5.14.0-362.el9', '6.8.0-45-generic', '5.15.0-122-generic']) : null,
          warranty_expiration: snDate(now + rCi.int(-200, 900) * DAY),
          purchase_date: snDate(created - rCi.int(0, 30) * DAY),
          install_date: snDateTime(created),
          sys_created_on: snDateTime(created),
          sys_updated_on: snDateTime(now - rCi.int(1, 72) * HOUR),
        },
        'discovery',
      );
    }
    for (let i = 0; i < SERVICES.length; i++) {
      const id = sys(rCi);
      services.push({ sysId: id, name: SERVICES[i], cls: 'cmdb_ci_service' });
      put('cmdb_ci_service', {
        sys_id: id,
        name: SERVICES[i],
        short_description: `${SERVICES[i]} business service`,
        busines_criticality: rCi.pick(['1 - most critical', '2 - somewhat critical', '3 - less critical']),
        used_for: 'Production',
        owned_by: rCi.pick(agents).sysId,
        support_group: groupIds.get('Software'),
        sys_created_on: past(rCi, 100, 400),
      });
    }
    for (let i = 0; i < 12; i++) {
      const id = sys(rCi);
      const name = `sw-core-${String(i + 1).padStart(2, '0')}`;
      switches.push({ sysId: id, name, cls: 'cmdb_ci_netgear' });
      put('cmdb_ci_netgear', {
        sys_id: id,
        name,
        short_description: 'Core switch',
        ip_address: `10.0.0.${i + 2}`,
        fqdn: `${name}.corp.example.com`,
        ports: 48,
        can_switch: 1,
        can_route: i < 2 ? 1 : 0,
        support_group: groupIds.get('Network'),
        assignment_group: groupIds.get('Network'),
        sys_created_on: past(rCi, 100, 400),
      });
    }
    const relIds = new Map<string, string>();
    for (const [name, pd, cd] of REL_TYPES) {
      const id = sys();
      relIds.set(name, id);
      put('cmdb_rel_type', { sys_id: id, name, parent_descriptor: pd, child_descriptor: cd, sys_created_on: past(rMeta, 300, 400) });
    }
    const rel = (parent: Ci, child: Ci, type: string): void =>
      put(
        'cmdb_rel_ci',
        { sys_id: sys(rCi), parent: parent.sysId, child: child.sysId, type: relIds.get(type)!, sys_created_on: past(rCi, 1, 100) },
        'discovery',
      );
    if (servers.length) {
      for (const s of services) {
        const n = rCi.int(3, 6);
        for (let k = 0; k < n; k++) rel(s, rCi.pick(servers), 'Depends on::Used by');
      }
      const hosts = servers.filter((_, i) => i % 10 === 0);
      for (const s of servers) {
        rel(s, switches[rCi.int(0, switches.length - 1)], 'Connected by::Connects');
        if (hosts.length && !hosts.includes(s) && rCi.chance(0.4)) rel(s, rCi.pick(hosts), 'Virtualized by::Virtualizes');
      }
    }

    // ------------------------------------------------------------ choices, dictionary, templates, OAuth
    const seq = new Map<string, number>();
    for (const c of CHOICES) {
      const k = `${c.table}.${c.element}`;
      const n = (seq.get(k) ?? 0) + 10;
      seq.set(k, n);
      put('sys_choice', {
        sys_id: sys(),
        name: c.table,
        element: c.element,
        value: c.value,
        label: c.label,
        sequence: n,
        dependent_value: c.dependent ?? null,
        sys_created_on: past(rMeta, 300, 400),
      });
    }
    const objIds = new Map<string, string>();
    for (const d of TABLE_DEFS) objIds.set(d.name, sys());
    for (const d of TABLE_DEFS) {
      put('sys_db_object', {
        sys_id: objIds.get(d.name),
        name: d.name,
        label: d.label,
        super_class: d.parent ? objIds.get(d.parent) : null,
        number_ref: d.numberPrefix ?? null,
        is_extendable: TABLE_DEFS.some((x) => x.parent === d.name) ? 1 : 0,
        sys_created_on: past(rMeta, 300, 400),
      });
      for (const fd of d.fields) {
        put('sys_dictionary', {
          sys_id: sys(),
          name: d.name,
          element: fd.name,
          column_label: fd.label,
          internal_type: fd.type === 'datetime' ? 'glide_date_time' : fd.type === 'date' ? 'glide_date' : fd.intChoice ? 'integer' : fd.type,
          reference: fd.ref ?? null,
          max_length:
            fd.type === 'string' ? (fd.name === 'description' || fd.name.endsWith('_notes') ? 4000 : fd.name === 'short_description' ? 160 : 100) : 40,
          default_value: fd.default ?? null,
          choice: CHOICES.some((c) => c.element === fd.name && (c.table === d.name || c.table === 'incident')) ? 1 : null,
          display: d.display === fd.name ? 1 : 0,
          read_only: fd.name.startsWith('sys_') ? 1 : 0,
          sys_created_on: past(rMeta, 300, 400),
        });
      }
    }
    const g = (n: string): string => groupIds.get(n)!;
    const templates: [string, string, string, string][] = [
      [
        'Password reset',
        'incident',
        'Password reset request',
        `short_description=Password reset request^category=inquiry^subcategory=internal application^contact_type=phone^impact=3^urgency=3^assignment_group=${g('Service Desk')}^EQ`,
      ],
      [
        'Email outage',
        'incident',
        'Email service unavailable',
        `short_description=Email service unavailable^category=software^subcategory=email^impact=1^urgency=1^assignment_group=${g('Software')}^business_service=${services[0].sysId}^EQ`,
      ],
      [
        'Network connectivity',
        'incident',
        'Network connectivity problem',
        `short_description=Network connectivity problem^category=network^impact=2^urgency=2^assignment_group=${g('Network')}^EQ`,
      ],
      [
        'Hardware failure',
        'incident',
        'Hardware failure',
        `short_description=Hardware failure^category=hardware^impact=3^urgency=2^assignment_group=${g('Hardware')}^EQ`,
      ],
      [
        'Database performance',
        'incident',
        'Database performance degraded',
        `short_description=Database performance degraded^category=database^impact=2^urgency=2^assignment_group=${g('Database')}^EQ`,
      ],
      [
        'Azure Monitor alert',
        'incident',
        'Alert raised by Azure Monitor',
        `category=software^contact_type=email^impact=2^urgency=2^assignment_group=${g('Service Desk')}^work_notes=Created from a monitoring alert^EQ`,
      ],
      [
        'Standard server patching',
        'change_request',
        'Monthly server patching',
        `short_description=Monthly security patching^type=standard^category=System Software^risk=4^impact=3^assignment_group=${g('Windows Server Admins')}^implementation_plan=Apply patches, reboot, verify services^backout_plan=Uninstall patches and reboot^EQ`,
      ],
      [
        'Firewall rule change',
        'change_request',
        'Firewall rule change',
        `short_description=Firewall rule change^type=normal^category=Network^risk=3^impact=2^assignment_group=${g('Network')}^EQ`,
      ],
      [
        'Emergency hotfix',
        'change_request',
        'Emergency hotfix',
        `short_description=Emergency hotfix^type=emergency^category=Software^risk=2^impact=1^urgency=1^assignment_group=${g('Software')}^EQ`,
      ],
      [
        'Database upgrade',
        'change_request',
        'Database version upgrade',
        `short_description=Database version upgrade^type=normal^category=Applications Software^risk=2^impact=2^assignment_group=${g('Database')}^EQ`,
      ],
    ];
    for (const [name, table, short, template] of templates) {
      put('sys_template', { sys_id: sys(), name, table, short_description: short, template, global: 1, sys_created_on: past(rMeta, 30, 200) });
    }
    put('oauth_entity', {
      sys_id: sys(),
      name: 'itsmc-sandbox',
      client_id: SEEDED_CREDENTIALS.oauthClient.clientId,
      client_secret: SEEDED_CREDENTIALS.oauthClient.clientSecret,
      comments: 'OAuth client for the ITSM connector (sandbox)',
      sys_created_on: past(rMeta, 10, 30),
    });
    for (const ins of inserters.values()) ins.flush();

    // ------------------------------------------------------------ incidents
    seedIncidents(db, store, (Math.imul(base, 0x9e3779b1) + 4 * 0x632be5ab) >>> 0, {
      n: Math.max(0, opts.incidents),
      now,
      windowStart,
      people,
      agents,
      endUsers,
      members,
      groupIds,
      computers,
      servers,
      services,
    });
    seedChanges(db, store, (Math.imul(base, 0x9e3779b1) + 5 * 0x632be5ab) >>> 0, {
      n: Math.max(0, opts.changeRequests),
      now,
      windowStart,
      agents,
      members,
      groupIds,
      servers,
      computers,
      services,
    });
    store.setCounter('em_alert', 10001);
  });
  run();
  for (const m of store.metas.values()) store.touched(m.physical);
}

interface IncidentCtx {
  n: number;
  now: number;
  windowStart: number;
  people: Person[];
  agents: Person[];
  endUsers: Person[];
  members: Map<string, Person[]>;
  groupIds: Map<string, string>;
  computers: { sysId: string; name: string; cls: string }[];
  servers: { sysId: string; name: string; cls: string }[];
  services: { sysId: string; name: string; cls: string }[];
}

function recordRng(streamSeed: number, i: number): Rng {
  return new Rng((streamSeed ^ Math.imul(i + 1, 0x85ebca6b)) >>> 0);
}

/** Creation times over the window, weighted to weekdays and office hours, sorted. */
function creationTimes(r: Rng, n: number, start: number, end: number): Float64Array {
  const out = new Float64Array(n);
  const span = Math.max(1, end - start);
  for (let i = 0; i < n; i++) {
    for (;;) {
      const t = start + r.next() * span;
      const d = new Date(t);
      const dow = d.getUTCDay();
      const h = d.getUTCHours();
      let w = dow === 0 || dow === 6 ? 0.3 : 1;
      w *= h >= 8 && h < 18 ? 1 : 0.25;
      if (r.next() < w) {
        out[i] = Math.floor(t / 1000) * 1000;
        break;
      }
    }
  }
  out.sort();
  return out;
}

function seedIncidents(db: Database.Database, store: SnStore, streamSeed: number, c: IncidentCtx): void {
  const cols = [
    'sys_id',
    'number',
    'sys_created_on',
    'sys_created_by',
    'sys_updated_on',
    'sys_updated_by',
    'sys_mod_count',
    'state',
    'incident_state',
    'impact',
    'urgency',
    'priority',
    'severity',
    'category',
    'subcategory',
    'contact_type',
    'caller_id',
    'opened_by',
    'opened_at',
    'assignment_group',
    'assigned_to',
    'cmdb_ci',
    'business_service',
    'short_description',
    'description',
    'resolved_at',
    'resolved_by',
    'closed_at',
    'closed_by',
    'close_code',
    'close_notes',
    'hold_reason',
    'active',
    'reassignment_count',
    'correlation_id',
    'correlation_display',
    'made_sla',
    'calendar_duration',
    'calendar_stc',
  ];
  const ins = new BulkInserter(db, 'incident', cols);
  const jins = new BulkInserter(db, 'sys_journal_field', [
    'sys_id',
    'sys_created_on',
    'sys_created_by',
    'sys_updated_on',
    'sys_updated_by',
    'sys_mod_count',
    'name',
    'element',
    'element_id',
    'value',
  ]);
  const times = creationTimes(new Rng(streamSeed), c.n, c.windowStart, c.now - 60_000);
  const groupFor: Record<string, string[]> = {
    inquiry: ['Service Desk'],
    software: ['Software', 'Service Desk'],
    hardware: ['Hardware', 'Service Desk'],
    network: ['Network'],
    database: ['Database'],
  };
  const medianHours = [0, 4, 10, 30, 60, 120];
  const sd = c.members.get('Service Desk')!;
  for (let i = 0; i < c.n; i++) {
    // One stream per record: its sys_id and attributes stay the same whatever the anchor time is.
    const r = recordRng(streamSeed, i);
    const sysId = r.sysId();
    const created = times[i];
    const impact = r.weighted(W_IMPACT);
    const urgency = r.weighted(W_URGENCY);
    const priority = priorityFor(impact, urgency)!;
    const category = r.weighted(W_CATEGORY);
    const sub = r.pick(SUBCATEGORIES[category])[0];
    const contact = r.weighted(W_CONTACT);
    const caller = r.chance(0.7) ? r.pick(c.endUsers) : r.pick(c.people);
    const serverish = category === 'database' || category === 'network' || (category === 'software' && r.chance(0.4));
    let gname = r.pick(groupFor[category]);
    let ci: { sysId: string; name: string; cls: string } | undefined;
    if (r.chance(0.65)) {
      if (serverish && c.servers.length) ci = r.pick(c.servers);
      else if (c.computers.length) ci = r.pick(c.computers);
    }
    if (ci && category !== 'network' && category !== 'database' && r.chance(0.5)) {
      if (ci.cls === 'cmdb_ci_linux_server') gname = 'Linux Server Admins';
      else if (ci.cls === 'cmdb_ci_win_server') gname = 'Windows Server Admins';
    }
    const svc = r.chance(0.3) ? r.pick(c.services) : undefined;
    const group = c.groupIds.get(gname)!;
    const assignee = r.pick(c.members.get(gname)!);
    const opener = contact === 'self-service' || contact === 'virtual_agent' ? caller : r.pick(sd);
    const phrase = r.pick(SHORT[sub] ?? ['Issue reported']);
    const short = phrase.replace('{ci}', ci?.name ?? 'my computer').replace('{svc}', svc?.name ?? 'the portal');
    const description = `${short}. Reported by ${caller.name} via ${contact}. ${r.pick([
      'Started this morning.',
      'Affects several colleagues.',
      'Happens intermittently.',
      'Blocking daily work.',
      'No workaround known.',
    ])}`;
    const canceled = r.chance(0.02);
    const resolveAfter = Math.max(5 * 60_000, r.logNormal(medianHours[priority] * HOUR, 1.0));
    const resolvedAtMs = created + resolveAfter;
    const autoClose = 7 * 86_400_000;
    let state: number;
    let updated = created;
    let resolvedAt: string | null = null;
    let closedAt: string | null = null;
    let closeCode: string | null = null;
    let closeNotes: string | null = null;
    let holdReason: number | null = null;
    let assigned: Person | undefined = assignee;
    let updatedBy = assignee.userName;
    let mods: number;
    if (canceled) {
      state = 8;
      updated = Math.min(c.now, created + r.int(10, 600) * 60_000);
      mods = r.int(1, 3);
    } else if (resolvedAtMs <= c.now) {
      resolvedAt = snDateTime(resolvedAtMs);
      closeCode = r.weighted(W_CLOSE_CODE);
      closeNotes = r.pick(CLOSE_NOTES);
      if (resolvedAtMs + autoClose <= c.now) {
        state = 7;
        closedAt = snDateTime(resolvedAtMs + autoClose);
        updated = resolvedAtMs + autoClose;
        updatedBy = 'system';
        mods = r.int(5, 12);
      } else {
        state = 6;
        updated = resolvedAtMs;
        mods = r.int(4, 9);
      }
    } else if (c.now - created < 30 * 60_000 && r.chance(0.7)) {
      state = 1;
      assigned = undefined;
      updatedBy = opener.userName;
      mods = 0;
    } else {
      state = r.chance(0.85) ? 2 : 3;
      if (state === 3) holdReason = r.weighted(W_HOLD);
      updated = created + r.next() * (c.now - created);
      mods = r.int(1, 6);
    }
    updated = Math.min(c.now, Math.max(created, Math.floor(updated / 1000) * 1000));
    const createdText = snDateTime(created);
    const duration = resolvedAt ? resolvedAtMs - created : 0;
    const corr = r.chance(0.08);
    ins.add([
      sysId,
      'INC' + String(10001 + i).padStart(7, '0'),
      createdText,
      opener.userName,
      snDateTime(updated),
      updatedBy,
      mods,
      state,
      state,
      impact,
      urgency,
      priority,
      3,
      category,
      sub,
      contact,
      caller.sysId,
      opener.sysId,
      createdText,
      state === 1 && r.chance(0.5) ? null : group,
      assigned?.sysId ?? null,
      ci?.sysId ?? null,
      svc?.sysId ?? null,
      short,
      description,
      resolvedAt,
      resolvedAt ? assignee.sysId : null,
      closedAt,
      closedAt ? assignee.sysId : null,
      closeCode,
      closeNotes,
      holdReason,
      state === 7 || state === 8 ? 0 : 1,
      r.weighted(W_REASSIGN),
      corr ? `azmon-${r.sysId().slice(0, 24)}` : null,
      corr ? 'Azure Monitor' : null,
      r.chance(0.9) ? 1 : 0,
      resolvedAt ? durationText(duration) : null,
      resolvedAt ? Math.round(duration / 1000) : null,
    ]);
    if (r.chance(0.2) && updated > created) {
      const at = snDateTime(created + r.next() * (updated - created));
      jins.add([r.sysId(), at, assignee.userName, at, assignee.userName, 0, 'incident', 'work_notes', sysId, r.pick(WORK_NOTES)]);
    }
    if (r.chance(0.1) && updated > created) {
      const at = snDateTime(created + r.next() * (updated - created));
      jins.add([r.sysId(), at, caller.userName, at, caller.userName, 0, 'incident', 'comments', sysId, r.pick(COMMENTS)]);
    }
  }
  ins.flush();
  jins.flush();
  store.setCounter('incident', 10001 + c.n);
}

interface ChangeCtx {
  n: number;
  now: number;
  windowStart: number;
  agents: Person[];
  members: Map<string, Person[]>;
  groupIds: Map<string, string>;
  servers: { sysId: string; name: string; cls: string }[];
  computers: { sysId: string; name: string; cls: string }[];
  services: { sysId: string; name: string; cls: string }[];
}

function seedChanges(db: Database.Database, store: SnStore, streamSeed: number, c: ChangeCtx): void {
  const cols = [
    'sys_id',
    'number',
    'sys_created_on',
    'sys_created_by',
    'sys_updated_on',
    'sys_updated_by',
    'sys_mod_count',
    'state',
    'type',
    'risk',
    'impact',
    'urgency',
    'priority',
    'category',
    'short_description',
    'description',
    'justification',
    'implementation_plan',
    'backout_plan',
    'test_plan',
    'requested_by',
    'requested_by_date',
    'opened_by',
    'opened_at',
    'assignment_group',
    'assigned_to',
    'cmdb_ci',
    'business_service',
    'start_date',
    'end_date',
    'work_start',
    'work_end',
    'closed_at',
    'closed_by',
    'close_code',
    'close_notes',
    'approval',
    'phase',
    'phase_state',
    'conflict_status',
    'active',
    'scope',
    'cab_required',
    'production_system',
  ];
  const ins = new BulkInserter(db, 'change_request', cols);
  const times = creationTimes(new Rng(streamSeed), c.n, c.windowStart, c.now - 60_000);
  const groups = ['Windows Server Admins', 'Linux Server Admins', 'Network', 'Database', 'Software', 'Hardware'];
  for (let i = 0; i < c.n; i++) {
    // One stream per record: its sys_id and attributes stay the same whatever the anchor time is.
    const r = recordRng(streamSeed, i);
    const sysId = r.sysId();
    const created = times[i];
    const type = r.weighted(W_CHG_TYPE);
    const lead = type === 'emergency' ? r.int(1, 24) * HOUR : type === 'standard' ? r.int(1, 3) * DAY : r.int(3, 14) * DAY;
    const start = Math.floor((created + lead) / 60_000) * 60_000;
    const end = start + r.int(1, 8) * HOUR;
    const review = r.int(1, 3) * DAY;
    const impact = r.weighted(W_CHG_IMPACT);
    const urgency = r.weighted(W_CHG_URGENCY);
    const priority = Math.min(4, priorityFor(impact, urgency)!);
    const gname = r.pick(groups);
    const assignee = r.pick(c.members.get(gname)!);
    const requester = r.pick(c.agents);
    const ci = r.chance(0.75) && c.servers.length ? r.pick(c.servers) : r.chance(0.3) && c.computers.length ? r.pick(c.computers) : undefined;
    const svc = r.chance(0.5) ? r.pick(c.services) : undefined;
    const short = r
      .pick(CHANGE_SHORT)
      .replace('{ci}', ci?.name ?? 'core switches')
      .replace('{svc}', svc?.name ?? 'the intranet');
    let state: number;
    let updated: number;
    let workStart: number | null = null;
    let workEnd: number | null = null;
    let closed: number | null = null;
    let closeCode: string | null = null;
    let approval = 'approved';
    let phase: string;
    if (r.chance(0.03)) {
      state = 4;
      updated = Math.min(c.now, created + r.int(1, 48) * HOUR);
      approval = r.chance(0.5) ? 'rejected' : 'cancelled';
      phase = 'closed';
    } else if (end + review <= c.now) {
      state = 3;
      workStart = start + r.int(-10, 30) * 60_000;
      workEnd = end + r.int(-30, 60) * 60_000;
      closed = end + review;
      updated = closed;
      closeCode = r.weighted(W_CHG_CLOSE);
      phase = 'closed';
    } else if (end <= c.now) {
      state = 0;
      workStart = start;
      workEnd = Math.min(c.now, end + r.int(0, 30) * 60_000);
      updated = workEnd;
      phase = 'review';
    } else if (start <= c.now) {
      state = -1;
      workStart = start;
      updated = start;
      phase = 'implementation';
    } else {
      const age = c.now - created;
      state = type === 'standard' || age > 2 * DAY ? -2 : age > DAY ? -3 : age > 4 * HOUR ? -4 : -5;
      approval = state === -2 ? 'approved' : state === -3 ? 'requested' : 'not requested';
      phase = state === -2 ? 'scheduled' : 'requested';
      updated = created + r.next() * age;
    }
    updated = Math.min(c.now, Math.max(created, Math.floor(updated / 1000) * 1000));
    const createdText = snDateTime(created);
    ins.add([
      sysId,
      'CHG' + String(30001 + i).padStart(7, '0'),
      createdText,
      requester.userName,
      snDateTime(updated),
      state === 3 ? assignee.userName : requester.userName,
      state === 3 ? r.int(6, 14) : r.int(1, 6),
      state,
      type,
      r.weighted(W_RISK),
      impact,
      urgency,
      priority,
      r.pick(['Hardware', 'Software', 'System Software', 'Applications Software', 'Network', 'Other', CHANGE_CATEGORIES[2]]),
      short,
      `${short}. Requested by ${requester.name}.`,
      'Keep systems supported and secure.',
      '1. Notify users\n2. Apply the change\n3. Verify service health',
      'Restore from the pre-change snapshot.',
      'Run the smoke test checklist.',
      requester.sysId,
      snDateTime(start + DAY),
      requester.sysId,
      createdText,
      c.groupIds.get(gname)!,
      state === -5 ? null : assignee.sysId,
      ci?.sysId ?? null,
      svc?.sysId ?? null,
      snDateTime(start),
      snDateTime(end),
      workStart === null ? null : snDateTime(workStart),
      workEnd === null ? null : snDateTime(workEnd),
      closed === null ? null : snDateTime(closed),
      closed === null ? null : assignee.sysId,
      closeCode,
      closeCode ? (closeCode === 'successful' ? 'Implemented as planned.' : 'Implemented; see notes for issues.') : null,
      approval,
      phase,
      state === 3 || state === 4 ? 'closed' : 'open',
      state <= -4 ? 'Not Run' : 'No Conflict',
      state === 3 || state === 4 ? 0 : 1,
      r.int(2, 4),
      type === 'normal' ? 1 : 0,
      ci && ci.cls !== 'cmdb_ci_computer' ? 1 : 0,
    ]);
  }
  ins.flush();
  store.setCounter('change_request', 30001 + c.n);
}
