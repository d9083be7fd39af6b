import { useEffect } from 'react';

/** Sets the browser tab title to "<page> · Rapport". */
export function usePageTitle(title: string | null): void {
  useEffect(() => {
    document.title = title ? `${title} · Rapport` : 'Rapport';
  }, [title]);
}
