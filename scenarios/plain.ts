/**
 * A plain measurement: the headline scenario's data and server (about 1 GB,
 * seed 23273, max_wal_size=64MB) with no simulated platform: no deadline,
 * no restarts. What `run`, `seed` and `sweep` use unless told otherwise, so
 * a failure they report comes from the migration, not from a fault.
 */
import { defineScenario } from '../harness/scenario/scenario-schema.ts';
import headline from './issue-23273.ts';

export default defineScenario({
  ...headline,
  name: 'plain',
  description: 'The headline data and server (~1 GB of incompressible chats, max_wal_size=64MB) with no faults: a plain measurement',
  faults: [],
  calibration: undefined,
});
