import { createContext, useContext } from 'react';

export interface Me {
  kind: 'admin' | 'workspace-key';
  workspace: string | null;
  role: 'admin' | 'contributor' | 'reader';
}

export interface SessionValue {
  me: Me;
  workspace: string;
  workspaces: string[];
  /** Contributors and the admin see write controls; readers never do (and the API refuses them). */
  canWrite: boolean;
  setWorkspace(ws: string): void;
  signOut(): void;
}

export const SessionContext = createContext<SessionValue | null>(null);

export function useSession(): SessionValue {
  const s = useContext(SessionContext);
  if (!s) throw new Error('useSession outside the signed-in app');
  return s;
}
