import type { KeyScope } from '../store/schema.js';

/** The scopes an API key can have, from least to most. */
export const KEY_SCOPES: readonly KeyScope[] = ['ingest', 'read', 'admin'];
