import { createContext, useContext } from 'react';
import type { SessionUser } from '../api/types.js';

export interface Session {
  user: SessionUser;
  signOut: () => Promise<void>;
}

export const SessionContext = createContext<Session | null>(null);

/** The signed-in user; only rendered inside the signed-in shell. */
export function useSession(): Session {
  const s = useContext(SessionContext);
  if (!s) throw new Error('useSession outside the signed-in app');
  return s;
}
