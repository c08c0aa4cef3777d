// The probe side of UDP shared by the naive prober (naive-prober.mjs) and the synthetic peers' own probes of the agent
// (synthetic-peers.ts, bidirectional mode): rounds of `packets` datagrams of `packetSize` bytes `spacingMs` apart, each
// with its own 32-bit id in the first 4 bytes and its send time (monotonic clock) kept until its reply or its timeout.
// Plain JavaScript importing no module at all: the naive prober must not load Node's type-stripping compiler (MiBs of
// RSS in the figure it is compared by). Its types are in udp-rounds.d.mts.

export function createUdpRounds({ port, packets, packetSize, spacingMs, timeoutMs, onSent, onLost }) {
  /** Outstanding packets: id → send time (process.hrtime.bigint()); insertion order is send order. */
  const outstanding = new Map();
  let nextId = 1;
  return {
    send(socket, target) {
      let sent = 0;
      const sendOne = () => {
        const id = nextId;
        nextId = (nextId + 1) >>> 0 || 1;
        const payload = Buffer.alloc(packetSize);
        payload.writeUInt32BE(id, 0);
        outstanding.set(id, process.hrtime.bigint());
        socket.send(payload, port, target);
        onSent();
        if (++sent < packets) setTimeout(sendOne, spacingMs);
      };
      sendOne();
    },
    reply(message, receivedAt) {
      if (message.length < 4) return 'short';
      const id = message.readUInt32BE(0);
      const sentAt = outstanding.get(id);
      if (sentAt === undefined) return 'unknown';
      outstanding.delete(id);
      return Number(receivedAt - sentAt) / 1000;
    },
    startSweeping() {
      const sweeper = setInterval(() => {
        const cutoff = process.hrtime.bigint() - BigInt(timeoutMs) * 1_000_000n;
        for (const [id, sentAt] of outstanding) {
          if (sentAt > cutoff) break;
          outstanding.delete(id);
          onLost();
        }
      }, 50);
      sweeper.unref();
    },
  };
}
