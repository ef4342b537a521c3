/**
 * Business object ids and field ids, resolved by name at run time (summary + template) rather than
 * hard-coded: Cherwell installations differ, and only the Incident ids are documented. Cached per server
 * and REST client for the life of the process and refreshed with the configuration sync.
 */
import { PartnerError } from '../partner.ts';

export interface BusObMeta {
  name: string;
  busObId: string;
  stateFieldId: string;
  states: string[];
  /** Field name (as Cherwell spells it) → `BO:…,FI:…` field id. */
  fieldIds: Map<string, string>;
}

export interface MetadataSource {
  summary(name: string): Promise<{ busObId: string; stateFieldId: string; states: string }>;
  template(busObId: string): Promise<{ name: string; fieldId: string }[]>;
}

const shared = new Map<string, Map<string, Promise<BusObMeta>>>();

export class MetadataCache {
  private readonly byName: Map<string, Promise<BusObMeta>>;

  constructor(
    key: string,
    private readonly source: MetadataSource,
  ) {
    let m = shared.get(key);
    if (!m) {
      m = new Map();
      shared.set(key, m);
    }
    this.byName = m;
  }

  private async load(name: string): Promise<BusObMeta> {
    const s = await this.source.summary(name);
    const fields = await this.source.template(s.busObId);
    return {
      name,
      busObId: s.busObId,
      stateFieldId: s.stateFieldId,
      states: s.states
        ? s.states
            .split(',')
            .map((x) => x.trim())
            .filter(Boolean)
        : [],
      fieldIds: new Map(fields.map((f) => [f.name, f.fieldId])),
    };
  }

  get(name: string): Promise<BusObMeta> {
    let p = this.byName.get(name);
    if (!p) {
      p = this.load(name);
      this.byName.set(name, p);
      p.catch(() => this.byName.delete(name));
    }
    return p;
  }

  /** Forgets and reloads (configuration sync). */
  refresh(name: string): Promise<BusObMeta> {
    this.byName.delete(name);
    return this.get(name);
  }
}

/** The field id of `name`; an exact match first, then ignoring case (`impact` → `Impact`). */
export function fieldId(meta: BusObMeta, name: string): string {
  const lower = name.toLowerCase();
  const id = meta.fieldIds.get(name) ?? [...meta.fieldIds].find(([n]) => n.toLowerCase() === lower)?.[1];
  if (!id) {
    throw new PartnerError(
      'invalid',
      `the Cherwell business object ${meta.name} has no field named ${name}; add it (CSM Administrator → Blueprint) or fix the action's field names`,
    );
  }
  return id;
}
