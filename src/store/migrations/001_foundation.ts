import { sql, type Kysely, type Migration } from 'kysely';
import type { Dialect } from '../db.js';

/** The foundation schema: customers, identities, accounts, raw records, keys and staff. */
export function foundation(dialect: Dialect): Migration {
  const idType = dialect === 'postgres' ? 'bigserial' : 'integer';
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('customers')
        .addColumn('id', idType, (c) => (dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement()))
        .addColumn('user_id', 'text')
        .addColumn('email', 'text')
        .addColumn('name', 'text')
        .addColumn('traits', 'text', (c) => c.notNull().defaultTo('{}'))
        .addColumn('first_seen', 'bigint')
        .addColumn('last_seen', 'bigint')
        .addColumn('order_count', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('revenue', 'double precision', (c) => c.notNull().defaultTo(0))
        .addColumn('interaction_count', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('feedback_count', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('customers_user_id').unique().on('customers').column('user_id').execute();
      await db.schema.createIndex('customers_email').on('customers').column('email').execute();
      await db.schema.createIndex('customers_last_seen').on('customers').columns(['last_seen', 'id']).execute();
      await db.schema.createIndex('customers_revenue').on('customers').columns(['revenue', 'id']).execute();

      await db.schema
        .createTable('accounts')
        .addColumn('id', idType, (c) => (dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement()))
        .addColumn('group_id', 'text', (c) => c.notNull().unique())
        .addColumn('name', 'text')
        .addColumn('traits', 'text', (c) => c.notNull().defaultTo('{}'))
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('customer_accounts')
        .addColumn('customer_id', 'bigint', (c) => c.notNull().references('customers.id').onDelete('cascade'))
        .addColumn('account_id', 'bigint', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('customer_accounts_pk', ['customer_id', 'account_id'])
        .execute();
      await db.schema.createIndex('customer_accounts_account').on('customer_accounts').column('account_id').execute();

      await db.schema
        .createTable('identities')
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('value', 'text', (c) => c.notNull())
        .addColumn('customer_id', 'bigint', (c) => c.notNull().references('customers.id').onDelete('cascade'))
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('identities_pk', ['kind', 'value'])
        .execute();
      await db.schema.createIndex('identities_customer').on('identities').column('customer_id').execute();

      await db.schema
        .createTable('interactions')
        .addColumn('id', idType, (c) => (dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement()))
        .addColumn('customer_id', 'bigint', (c) => c.notNull().references('customers.id').onDelete('cascade'))
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('channel', 'text', (c) => c.notNull())
        .addColumn('direction', 'text', (c) => c.notNull())
        .addColumn('occurred_at', 'bigint', (c) => c.notNull())
        .addColumn('properties', 'text', (c) => c.notNull().defaultTo('{}'))
        .addColumn('source', 'text', (c) => c.notNull())
        .addColumn('source_id', 'text', (c) => c.notNull())
        .addColumn('received_at', 'bigint', (c) => c.notNull())
        .addUniqueConstraint('interactions_source_uq', ['source', 'source_id'])
        .execute();
      await db.schema
        .createIndex('interactions_customer_time')
        .on('interactions')
        .columns(['customer_id', 'occurred_at'])
        .execute();

      // Interactions per customer by channel and direction, kept by the writer, so that the
      // customer 360 never scans a busy customer's history to draw the mix.
      await db.schema
        .createTable('customer_channels')
        .addColumn('customer_id', 'bigint', (c) => c.notNull().references('customers.id').onDelete('cascade'))
        .addColumn('channel', 'text', (c) => c.notNull())
        .addColumn('direction', 'text', (c) => c.notNull())
        .addColumn('count', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('customer_channels_pk', ['customer_id', 'channel', 'direction'])
        .execute();

      await db.schema
        .createTable('orders')
        .addColumn('id', idType, (c) => (dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement()))
        .addColumn('customer_id', 'bigint', (c) => c.notNull().references('customers.id').onDelete('cascade'))
        .addColumn('order_id', 'text', (c) => c.notNull())
        .addColumn('occurred_at', 'bigint', (c) => c.notNull())
        .addColumn('total', 'double precision', (c) => c.notNull())
        .addColumn('currency', 'text', (c) => c.notNull())
        .addColumn('properties', 'text', (c) => c.notNull().defaultTo('{}'))
        .addColumn('source', 'text', (c) => c.notNull())
        .addColumn('source_id', 'text', (c) => c.notNull())
        .addColumn('received_at', 'bigint', (c) => c.notNull())
        .addUniqueConstraint('orders_source_uq', ['source', 'source_id'])
        .execute();
      await db.schema.createIndex('orders_customer_time').on('orders').columns(['customer_id', 'occurred_at']).execute();

      await db.schema
        .createTable('order_lines')
        .addColumn('order_ref', 'bigint', (c) => c.notNull().references('orders.id').onDelete('cascade'))
        .addColumn('line_no', 'integer', (c) => c.notNull())
        .addColumn('customer_id', 'bigint', (c) => c.notNull().references('customers.id').onDelete('cascade'))
        .addColumn('product_id', 'text', (c) => c.notNull())
        .addColumn('name', 'text')
        .addColumn('category', 'text')
        .addColumn('price', 'double precision', (c) => c.notNull())
        .addColumn('quantity', 'double precision', (c) => c.notNull())
        .addPrimaryKeyConstraint('order_lines_pk', ['order_ref', 'line_no'])
        .execute();
      await db.schema.createIndex('order_lines_customer').on('order_lines').column('customer_id').execute();

      await db.schema
        .createTable('products')
        .addColumn('product_id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text')
        .addColumn('category', 'text')
        .addColumn('price', 'double precision')
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('feedback')
        .addColumn('id', idType, (c) => (dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement()))
        .addColumn('customer_id', 'bigint', (c) => c.references('customers.id').onDelete('cascade'))
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('text', 'text', (c) => c.notNull())
        .addColumn('rating', 'double precision')
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('properties', 'text', (c) => c.notNull().defaultTo('{}'))
        .addColumn('source', 'text', (c) => c.notNull())
        .addColumn('source_id', 'text', (c) => c.notNull())
        .addColumn('received_at', 'bigint', (c) => c.notNull())
        .addUniqueConstraint('feedback_source_uq', ['source', 'source_id'])
        .execute();
      await db.schema.createIndex('feedback_customer_time').on('feedback').columns(['customer_id', 'created_at']).execute();

      await db.schema
        .createTable('api_keys')
        .addColumn('id', idType, (c) => (dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement()))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('scope', 'text', (c) => c.notNull())
        .addColumn('prefix', 'text', (c) => c.notNull())
        .addColumn('hash', 'text', (c) => c.notNull().unique())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('last_used_at', 'bigint')
        .addColumn('revoked_at', 'bigint')
        .execute();

      await db.schema
        .createTable('staff_users')
        .addColumn('id', idType, (c) => (dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement()))
        .addColumn('email', 'text', (c) => c.notNull().unique())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('role', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('staff_sessions')
        .addColumn('hash', 'text', (c) => c.primaryKey())
        .addColumn('staff_id', 'bigint', (c) => c.notNull().references('staff_users.id').onDelete('cascade'))
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('sign_in_tokens')
        .addColumn('hash', 'text', (c) => c.primaryKey())
        .addColumn('role', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addColumn('used_at', 'bigint')
        .execute();

      await db.schema
        .createTable('meta')
        .addColumn('key', 'text', (c) => c.primaryKey())
        .addColumn('value', 'text', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('demo_truth')
        .addColumn('user_id', 'text', (c) => c.primaryKey())
        .addColumn('params', 'text', (c) => c.notNull())
        .execute();

      if (dialect === 'postgres') {
        // Case-insensitive search over names and e-mails uses lower(); keep it indexable.
        await sql`create index customers_lower_name on customers (lower(name))`.execute(db);
      }
    },
  };
}
