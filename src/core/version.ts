import fs from 'node:fs';

/**
 * Rapport's version, read from package.json (its one definition): the file sits two levels up
 * from this module whether it runs from src/core or from the compiled dist/core.
 */
export const VERSION: string = (JSON.parse(fs.readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
