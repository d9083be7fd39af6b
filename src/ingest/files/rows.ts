import type { ColumnMap, Converted, ImportKind, RowContext } from './columns.js';
import { customerRow, eventRow, feedbackRow } from './columns.js';
import { OrderAssembler } from './orders.js';
import type { Sink } from './sink.js';

/** Rows of the column-mapped kinds (customers, orders, feedback, CSV events) → the sink. */
export interface RowHandler {
  row(map: ColumnMap, values: readonly unknown[], row: number): Promise<void> | undefined;
  /**
   * A row the reader already rejected (unparseable, invalid UTF-8); `values` holds the cells
   * that could be read, if any. Orders need to know, to reject the rest of that order.
   */
  rejected(row: number, map: ColumnMap | undefined, values: readonly unknown[] | undefined): Promise<void>;
  end(): Promise<void>;
}

/** The handler for a kind: orders are assembled from their line rows, other kinds convert row by row. */
export function rowHandler(kind: ImportKind, ctx: RowContext, sink: Sink): RowHandler {
  if (kind === 'orders') return new OrderAssembler(ctx, sink);
  const convert =
    kind === 'customers'
      ? (m: ColumnMap, v: readonly unknown[], r: number) => customerRow(m as ColumnMap<'customers'>, v, r, ctx)
      : kind === 'feedback'
        ? (m: ColumnMap, v: readonly unknown[], r: number) => feedbackRow(m as ColumnMap<'feedback'>, v, r, ctx)
        : (m: ColumnMap, v: readonly unknown[], r: number) => eventRow(m as ColumnMap<'events'>, v, r, ctx);
  return {
    row(map, values, row) {
      let converted: Converted;
      try {
        converted = convert(map, values, row);
      } catch (e) {
        return sink.rejectError(row, e);
      }
      return sink.accept(row, converted);
    },
    rejected: async () => undefined,
    end: async () => undefined,
  };
}
