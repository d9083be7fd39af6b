import type { Conn } from '../../store/db.js';
import { chunks } from '../../store/sql.js';
import type { Who } from '../records.js';
import { userIdsByEmail } from './files.repository.js';

/**
 * Identity by e-mail: customers, orders and feedback that name only an e-mail belong to the
 * customer who has that e-mail; when there is none, the e-mail becomes the user id.
 */
export class EmailIdentities {
  /** e-mail → user id of the customer who has it (or the e-mail itself when none does). */
  private readonly emails = new Map<string, string>();

  /** Gives every who named by an e-mail (the e-mail in its user id) its customer's user id. */
  async resolve(db: Conn, units: readonly { byEmail: Who | undefined }[]): Promise<void> {
    const pending: Who[] = [];
    for (const u of units) if (u.byEmail) pending.push(u.byEmail);
    if (pending.length === 0) return;
    if (this.emails.size > 100_000) this.emails.clear();
    const unknown = [...new Set(pending.map((w) => w.userId!).filter((e) => !this.emails.has(e)))];
    for (const part of chunks(unknown, 500)) {
      const rows = await userIdsByEmail(db, part);
      for (const r of rows) if (r.email !== null && !this.emails.has(r.email)) this.emails.set(r.email, r.user_id!);
      for (const e of part) if (!this.emails.has(e)) this.emails.set(e, e);
    }
    for (const w of pending) w.userId = this.emails.get(w.userId!) ?? w.userId;
  }
}
