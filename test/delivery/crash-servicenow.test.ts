import { crashSafetySuite } from './crash-suite.ts';

crashSafetySuite('ServiceNow');
