import type { Kysely, Migration } from 'kysely';
import type { Dialect } from '../db.js';

/**
 * The accounts list, most valuable first: an index on the accounts' Lifetime Opportunity Value
 * (`account_stages.lov`, then the account id), so that a page of the list reads that many index
 * entries instead of sorting every account.
 */
export function accountList(dialect: Dialect): Migration {
  void dialect;
  return {
    async up(db: Kysely<unknown>) {
      await db.schema.createIndex('account_stages_lov').on('account_stages').columns(['lov', 'account_id']).execute();
    },
  };
}
