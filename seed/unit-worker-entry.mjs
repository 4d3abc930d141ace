// Worker threads do not inherit the TypeScript loader on Node 20: register it here.
import { register } from 'tsx/esm/api';

register();
await import('./unit-worker.ts');
