// Child processes do not inherit the TypeScript loader reliably (under tsx or vitest): register it here.
import { register } from 'tsx/esm/api';

register();
await import('./strategy-child.ts');
