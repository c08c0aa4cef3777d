// Splits a byte stream into newline-terminated lines in time linear in the input: chunks of the current line are kept
// as Buffers (never re-joined or re-searched), only each new chunk is searched for '\n', and a line that would exceed
// the cap fails before it is buffered — so at most `maxLineBytes` are ever held, whatever the peer sends.

export class LineTooLongError extends Error {
  readonly maxLineBytes: number;
  constructor(maxLineBytes: number) {
    super(`a message exceeds ${maxLineBytes} bytes`);
    this.name = 'LineTooLongError';
    this.maxLineBytes = maxLineBytes;
  }
}

export interface LineFramer {
  /** Feeds a chunk; returns the lines it completed (without '\n'), decoded as UTF-8. Throws LineTooLongError. */
  push(chunk: Buffer): string[];
  /** Bytes of an incomplete line held now. */
  bufferedBytes(): number;
  /** The most bytes of an incomplete line ever held (never more than the cap). */
  peakBufferedBytes(): number;
}

const NEWLINE = 0x0a;

export function createLineFramer(maxLineBytes: number): LineFramer {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let peak = 0;

  function take(tail: Buffer): string {
    const line = pending.length === 0 ? tail : Buffer.concat([...pending, tail], pendingBytes + tail.length);
    pending = [];
    pendingBytes = 0;
    return line.toString('utf8');
  }

  return {
    push(chunk) {
      const lines: string[] = [];
      let start = 0;
      for (let newline = chunk.indexOf(NEWLINE, start); newline !== -1; newline = chunk.indexOf(NEWLINE, start)) {
        if (pendingBytes + (newline - start) > maxLineBytes) throw new LineTooLongError(maxLineBytes);
        lines.push(take(chunk.subarray(start, newline)));
        start = newline + 1;
      }
      const rest = chunk.length - start;
      if (rest > 0) {
        if (pendingBytes + rest > maxLineBytes) throw new LineTooLongError(maxLineBytes);
        // A copy, so the socket's (possibly larger) chunk is not kept alive by a small tail.
        pending.push(Buffer.from(chunk.subarray(start)));
        pendingBytes += rest;
        peak = Math.max(peak, pendingBytes);
      }
      return lines;
    },
    bufferedBytes: () => pendingBytes,
    peakBufferedBytes: () => peak,
  };
}
