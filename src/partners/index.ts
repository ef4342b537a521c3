import { registerPartner } from './registry.ts';
import { serviceNowPartner } from './servicenow/index.ts';
import { cherwellPartner } from './cherwell/index.ts';

// One line per partner product; nothing else in the connector names a partner.
registerPartner(serviceNowPartner);
registerPartner(cherwellPartner);
