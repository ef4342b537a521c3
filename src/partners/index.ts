import { registerPartner } from './registry.ts';
import { provancePartner } from './provance/index.ts';
import { serviceNowPartner } from './servicenow/index.ts';

// One line per partner product; nothing else in the connector names a partner.
registerPartner(serviceNowPartner);
registerPartner(provancePartner);
