/** Test helpers for the actions layer (imported only by *.test.ts). */
import type { NormalizedAlert } from '../core/alert.ts';
import type { LinkState } from './grouping.ts';
import type { TicketConfiguration, TicketConfigurationInput } from './ticket-config.ts';
import { normalizeTicketConfiguration } from './ticket-config.ts';

export function mkAlert(p: Partial<NormalizedAlert> = {}): NormalizedAlert {
  return {
    family: 'azure-common-metric',
    alertId: 'alert-1',
    rule: 'High CPU',
    severity: 'Sev2',
    signalType: 'Metric',
    monitorCondition: 'Fired',
    firedAt: '2024-01-01T10:00:00.000Z',
    targets: ['/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm-1'],
    configurationItems: ['vm-1'],
    description: 'CPU above 90%',
    link: 'https://portal.azure.com/#resource/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm-1',
    labels: { team: 'ops' },
    raw: {},
    ...p,
  };
}

export function mkCfg(p: Partial<TicketConfigurationInput> = {}): TicketConfiguration {
  return normalizeTicketConfiguration({ WorkItemType: 'Incident', ...p });
}

export function mkLink(p: Partial<LinkState> = {}): LinkState {
  return {
    workItem: { type: 'Incident', id: 'sys1', number: 'INC0010001', closed: false },
    lastAlertId: 'alert-0',
    lastCondition: 'Fired',
    lastNoteAt: '2024-01-01T09:00:00.000Z',
    pendingOccurrences: 0,
    cis: ['vm-1'],
    generation: 0,
    firing: ['alert-0'],
    seen: ['Fired:alert-0'],
    ...p,
  };
}
