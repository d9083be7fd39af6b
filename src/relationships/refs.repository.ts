import type { Conn } from '../store/db.js';

/** The newest interaction, order and feedback ids (0 for an empty table): what a stages run has seen. */
export async function newestIds(db: Conn): Promise<{ interactions: number; orders: number; feedback: number }> {
  const [i, o, f] = await Promise.all([
    db.selectFrom('interactions').select((eb) => eb.fn.max('id').as('id')).executeTakeFirst(),
    db.selectFrom('orders').select((eb) => eb.fn.max('id').as('id')).executeTakeFirst(),
    db.selectFrom('feedback').select((eb) => eb.fn.max('id').as('id')).executeTakeFirst(),
  ]);
  return { interactions: Number(i?.id ?? 0), orders: Number(o?.id ?? 0), feedback: Number(f?.id ?? 0) };
}
