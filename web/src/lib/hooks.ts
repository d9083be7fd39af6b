import { useEffect, useState } from 'react';
import { api, ApiError } from '../api/client.js';

export type AsyncState<T> =
  | { status: 'loading' }
  | { status: 'error'; error: ApiError | Error }
  | { status: 'ready'; data: T };

/**
 * Runs `load` whenever `deps` change and aborts the previous call, so a slow answer to an
 * old query never overwrites a newer one.
 */
export function useApi<T>(load: (signal: AbortSignal) => Promise<T>, deps: readonly unknown[]): AsyncState<T> & { reload: () => void } {
  const [state, setState] = useState<AsyncState<T>>({ status: 'loading' });
  const [attempt, setAttempt] = useState(0);
  useEffect(() => {
    const ctl = new AbortController();
    setState({ status: 'loading' });
    load(ctl.signal).then(
      (data) => {
        if (!ctl.signal.aborted) setState({ status: 'ready', data });
      },
      (error: unknown) => {
        if (!ctl.signal.aborted) setState({ status: 'error', error: error instanceof Error ? error : new Error(String(error)) });
      },
    );
    return () => ctl.abort();
    // `load` is a fresh closure every render; `deps` say when it really changed.
  }, [...deps, attempt]);
  return { ...state, reload: () => setAttempt((n) => n + 1) };
}

/** `value`, once it has stopped changing for `ms` milliseconds. */
export function useDebounced<T>(value: T, ms: number): T {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const t = setTimeout(() => setSettled(value), ms);
    return () => clearTimeout(t);
  }, [value, ms]);
  return settled;
}

/** A clock reading that advances every minute, for "3 minutes ago" labels. */
export function useNow(intervalMs = 60_000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), intervalMs);
    return () => clearInterval(t);
  }, [intervalMs]);
  return now;
}

/** One answer for every component that asks within a minute (a board of theme cards asks once). */
let currencyAsked: { at: number; answer: Promise<string | null> } | undefined;

function askValueCurrency(): Promise<string | null> {
  if (!currencyAsked || Date.now() - currencyAsked.at > 60_000) {
    const answer = api.valueCurrency().then((r) => r.currency);
    currencyAsked = { at: Date.now(), answer };
    answer.catch(() => {
      if (currencyAsked?.answer === answer) currencyAsked = undefined;
    });
  }
  return currencyAsked.answer;
}

/**
 * The currency the value figures are in (CLV, value at risk, value at stake), for pages whose
 * own answers carry amounts but not their currency; null until known or without orders (the
 * amount is then shown bare).
 */
export function useValueCurrency(): string | null {
  const [currency, setCurrency] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    askValueCurrency().then(
      (c) => {
        if (live) setCurrency(c);
      },
      () => undefined,
    );
    return () => {
      live = false;
    };
  }, []);
  return currency;
}
