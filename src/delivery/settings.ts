/**
 * The delivery settings: what the delivery engine, ingest (group commit) and partner calls are tuned
 * with. They are read from the environment by `readSettings` in src/config/env.ts (ITSMC_DELIVERY_*,
 * ITSMC_INGEST_*, ITSMC_PARTNER_TIMEOUT_MS; the README's configuration table lists each with its default)
 * and reach the runtime through `Settings.delivery`; `StartOptions.delivery` overrides them (tests).
 */
import type { DeliveryOptions } from './engine.ts';
import type { IngestOptions } from './ingest.ts';

export interface DeliverySettings {
  /** False (ITSMC_DELIVERY=0): no delivery workers in this process; ingest still stores alerts and jobs. */
  enabled: boolean;
  engine: Partial<DeliveryOptions>;
  ingest: IngestOptions;
  partnerTimeoutMs?: number;
}
