import { STAGE_KEYS } from '../../src/models/stages/rules.js';
import type { Store } from '../../src/store/db.js';

/** How the stored stages agree with the demo's planted ones, over identified customers. */
export interface Agreement {
  customers: number;
  agree: number;
  share: number;
  /** confusion[truth][placed], in ladder order. */
  confusion: number[][];
}

export async function stageAgreement(store: Store): Promise<Agreement> {
  const rows = await store.db
    .selectFrom('demo_truth as t')
    .innerJoin('customers as c', 'c.user_id', 't.user_id')
    .innerJoin('customer_stages as s', 's.customer_id', 'c.id')
    .select(['t.params', 's.stage'])
    .execute();
  const confusion = STAGE_KEYS.map(() => STAGE_KEYS.map(() => 0));
  let agree = 0;
  for (const r of rows) {
    const truth = STAGE_KEYS.indexOf((JSON.parse(r.params) as { stage: (typeof STAGE_KEYS)[number] }).stage);
    if (truth < 0) throw new Error(`a planted stage outside the ladder: ${r.params.slice(0, 80)}`);
    confusion[truth]![r.stage]! += 1;
    if (truth === r.stage) agree++;
  }
  return { customers: rows.length, agree, share: rows.length > 0 ? agree / rows.length : 0, confusion };
}

/** The confusion matrix as a Markdown table. */
export function confusionTable(a: Agreement): string {
  const names = ['Introduction', 'Information', 'Commitment', 'Affinity', 'Co-creation'];
  const lines = [`| planted \\ placed | ${names.join(' | ')} | agree |`, `| --- |${names.map(() => ' ---: |').join('')} ---: |`];
  a.confusion.forEach((row, i) => {
    const n = row.reduce((x, y) => x + y, 0);
    lines.push(`| ${names[i]} | ${row.join(' | ')} | ${n > 0 ? `${((100 * row[i]!) / n).toFixed(1)}%` : '–'} |`);
  });
  return lines.join('\n');
}
