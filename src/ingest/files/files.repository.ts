import type { Conn } from '../../store/db.js';

/** The importer's own look-ups (everything it stores goes through the ingestion writer). */

/** Customers with a user id who have one of these e-mails, oldest first (the first one wins). */
export async function userIdsByEmail(db: Conn, emails: readonly string[]): Promise<{ user_id: string | null; email: string | null }[]> {
  return db.selectFrom('customers').select(['user_id', 'email']).where('email', 'in', emails).where('user_id', 'is not', null).orderBy('id').execute();
}
