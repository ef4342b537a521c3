import { crashSafetySuite } from './crash-suite.ts';

crashSafetySuite('Provance');
