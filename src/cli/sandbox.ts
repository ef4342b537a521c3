import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { sandboxedPartners } from '../partners/registry.ts';

/** `itsmc sandbox <partner>`: runs a registered partner's emulator until SIGINT/SIGTERM. */
export function registerSandboxCommand(program: Command): void {
  const partners = sandboxedPartners();
  const names = partners.map((p) => p.type.toLowerCase());
  program
    .command('sandbox')
    .description(`Run a bundled ITSM emulator (${names.join(', ')})`)
    .argument('<partner>', names.join(' | '))
    .option('--port <port>', 'port to listen on (default: the partner’s quick-start port)')
    .option('--host <host>', 'address to bind', '127.0.0.1')
    .option('--tls-cert <file>', 'PEM certificate (HTTPS)')
    .option('--tls-key <file>', 'PEM private key (HTTPS)')
    .option('--seed <n>', 'seed of the generated data', '1')
    .option('--days <d>', 'days of history', '120')
    .option('--data-dir <dir>', 'keep the emulator’s data in <dir> (seeded on first creation only)')
    .action(async (name: string, o: Record<string, string | undefined>) => {
      const partner = partners.find((p) => p.type.toLowerCase() === name.toLowerCase());
      if (!partner) throw new Error(`no sandbox for '${name}'; choose one of ${names.join(', ')}`);
      if (!!o.tlsCert !== !!o.tlsKey) throw new Error('--tls-cert and --tls-key go together');
      const int = (v: string | undefined): number | undefined => (v === undefined ? undefined : Number.parseInt(v, 10));
      const sb = await partner.sandbox.start({
        host: o.host,
        port: int(o.port) ?? partner.sandbox.quickStart.defaultPort,
        seed: int(o.seed),
        days: int(o.days),
        dataDir: o.dataDir,
        tls: o.tlsCert && o.tlsKey ? { cert: readFileSync(o.tlsCert, 'utf8'), key: readFileSync(o.tlsKey, 'utf8') } : undefined,
      });
      process.stdout.write(`${partner.displayName} sandbox listening on ${sb.url}\n${partner.sandbox.banner ?? ''}`);
      await new Promise<void>((resolve) => {
        const stop = (): void => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          resolve();
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
      await sb.close();
    });
}
