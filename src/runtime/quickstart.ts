import path from 'node:path';
import type { ConnectionService } from '../connections/service.ts';
import type { Store } from '../store/store.ts';
import type { ConnectionInput } from '../connections/model.ts';
import { sandboxConnectionName, type PartnerDescriptor, type RunningSandbox, type SandboxSection } from '../partners/descriptor.ts';
import { sandboxedPartners, type PartnerType } from '../partners/registry.ts';

export interface QuickStartSandbox {
  partnerType: string;
  displayName: string;
  /** The connection `<type lowercased>-sandbox` in workspace `default`. */
  connectionName: string;
  sandbox: RunningSandbox;
}

/** The host:port entries of the bundled sandboxes, allow-listed for the SSRF guard. */
export function sandboxHosts(ports: Record<string, number>): string[] {
  return Object.values(ports).map((port) => `127.0.0.1:${port}`);
}

/**
 * Quick start: every registered partner's sandbox on 127.0.0.1 at its quick-start port (its own data under
 * <dataDir>/sandbox) and a connection `<type>-sandbox` to each in workspace `default`, created once.
 */
export async function startQuickStart(opts: {
  dataDir: string;
  store: Store;
  connections: ConnectionService;
  ports: Record<string, number>;
}): Promise<QuickStartSandbox[]> {
  const started: QuickStartSandbox[] = [];
  try {
    for (const partner of sandboxedPartners()) {
      const sandbox = await partner.sandbox.start({
        host: '127.0.0.1',
        port: opts.ports[partner.type] ?? partner.sandbox.quickStart.defaultPort,
        dataDir: path.join(opts.dataDir, 'sandbox'),
      });
      const connectionName = sandboxConnectionName(partner.type);
      started.push({ partnerType: partner.type, displayName: partner.displayName, connectionName, sandbox });
      if (!(await opts.store.connections.get('default', connectionName))) {
        const refreshTokenLifetimeSeconds = await partner.sandbox.refreshTokenLifetime?.(sandbox.url);
        await opts.connections.put(
          'default',
          connectionName,
          sandboxConnectionInput(partner, sandbox.url, {
            syncDataDays: 120,
            createNewConfigurationItems: true,
            ...(refreshTokenLifetimeSeconds ? { refreshTokenLifetimeSeconds } : {}),
          }),
        );
      }
    }
  } catch (err) {
    await Promise.all(started.map((s) => s.sandbox.close()));
    throw err;
  }
  return started;
}

/** A connection to a partner's sandbox with its seeded integration user and OAuth client. */
export function sandboxConnectionInput(
  partner: Pick<PartnerDescriptor, 'type' | 'syncScopes'> & { sandbox: Pick<SandboxSection, 'credentials'> },
  serverUrl: string,
  extra: Partial<ConnectionInput> = {},
): ConnectionInput {
  return {
    ...partner.sandbox.credentials(serverUrl),
    partnerType: partner.type as PartnerType,
    dataSyncScope: [...partner.syncScopes],
    ...extra,
  };
}
