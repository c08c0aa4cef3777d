// Abort callbacks without an EventTarget listener per call. A probe loop owns one AbortSignal for its whole life (one
// per peer and kind) and runs a probe on it every few seconds; `signal.addEventListener` + `removeEventListener` per
// probe costs an event-target listener record and a search of the listener list each time (~500 bytes and the
// hottest part of a TCP test's set-up at 1,000 peers). Here each signal gets one listener, on first use, that calls
// the callbacks registered at that moment; registering and unregistering a probe is a Set add and delete.

export interface AbortCallbacks {
  /** Calls `callback` once when `signal` aborts (at once, synchronously, if it already has). */
  onAbort(signal: AbortSignal, callback: () => void): void;
  /** Unregisters `callback` (nothing happens if it was not registered or has already been called). */
  offAbort(signal: AbortSignal, callback: () => void): void;
}

export function createAbortCallbacks(): AbortCallbacks {
  const callbacksBySignal = new WeakMap<AbortSignal, Set<() => void>>();

  function callbacksOf(signal: AbortSignal): Set<() => void> {
    let callbacks = callbacksBySignal.get(signal);
    if (callbacks === undefined) {
      const registered = new Set<() => void>();
      callbacks = registered;
      callbacksBySignal.set(signal, registered);
      signal.addEventListener(
        'abort',
        () => {
          const due = [...registered];
          registered.clear();
          for (const callback of due) callback();
        },
        { once: true },
      );
    }
    return callbacks;
  }

  return {
    onAbort(signal, callback) {
      if (signal.aborted) callback();
      else callbacksOf(signal).add(callback);
    },
    offAbort(signal, callback) {
      callbacksBySignal.get(signal)?.delete(callback);
    },
  };
}

/** A plain listener per call: for callers without a shared AbortCallbacks (a one-off probe, a test). Holds no state. */
export const DIRECT_ABORT_CALLBACKS: AbortCallbacks = {
  onAbort(signal, callback) {
    if (signal.aborted) callback();
    else signal.addEventListener('abort', callback, { once: true });
  },
  offAbort(signal, callback) {
    signal.removeEventListener('abort', callback);
  },
};
