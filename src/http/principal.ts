import { forbidden, unauthorized } from '../core/errors.js';
import type { KeyScope, StaffRole } from '../core/vocabulary.js';

/**
 * Who is calling, once their credentials are checked (auth/ resolves them): an API key with
 * its scope, or a signed-in staff user with their role. Portal users will be a third kind.
 */
export type Principal =
  | { kind: 'key'; id: number; name: string; scopes: ReadonlySet<KeyScope> }
  | { kind: 'staff'; id: number; name: string; role: StaffRole; scopes: ReadonlySet<KeyScope> };

/**
 * Who may call a route, declared on the route (route.ts) and checked in one place
 * (`authorize`), and what the OpenAPI document says:
 * - `none`: anyone (sign-in, sign-out, the session check, which answer for themselves);
 * - `ingest`, `read`, `admin`: a key of that scope, or a staff session whose role grants it
 *   (an admin key or admin staff may do everything);
 * - `editor`: a person's edit (renames, merges, splits, tags): a signed-in staff user or an admin
 *   key; a read key, used by dashboards and scripts, may look but not edit.
 */
export type Policy = 'none' | KeyScope | 'editor';

/** The scopes an API key of `scope` has: an admin key can do everything, the others their own. */
export function scopesOf(scope: KeyScope): ReadonlySet<KeyScope> {
  return new Set<KeyScope>(scope === 'admin' ? ['admin', 'read', 'ingest'] : [scope]);
}

/** Checks a route's policy: 401 without credentials, 403 with credentials that don't suffice. */
export function authorize(policy: Policy, principal: Principal | null): void {
  if (policy === 'none') return;
  if (!principal) throw unauthorized();
  if (policy === 'editor') {
    if (principal.kind === 'staff' || principal.scopes.has('admin')) return;
    throw forbidden('edits need a signed-in team member or an admin key');
  }
  if (!principal.scopes.has(policy)) throw forbidden(`this endpoint needs a key of scope "${policy}"`);
}

/** Who may call a route of this policy, in words (the OpenAPI document). */
export function describePolicy(policy: Policy): string {
  switch (policy) {
    case 'none':
      return 'anyone';
    case 'ingest':
      return 'an ingest key (HTTP Basic with the write key as user name, or Bearer), or an admin key';
    case 'read':
      return 'a read or admin key, or a signed-in staff user';
    case 'admin':
      return 'an admin key, or a signed-in admin';
    case 'editor':
      return 'a signed-in staff user or an admin key';
  }
}
