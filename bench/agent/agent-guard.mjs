// Preloaded into the agent child (`node --import`): the agent exits when the benchmark that started it goes away (IPC
// channel closed, even if the benchmark was SIGKILLed) or after a hard deadline. Nothing else in the agent changes.
// Plain JavaScript: a .ts preload would make Node load its type-stripping compiler into the agent (MiBs of RSS).
const deadlineMs = Number(process.env.KCONMON_BENCH_DEADLINE_MS ?? '');
if (process.channel) {
  process.on('disconnect', () => process.exit(0));
  process.channel.unref();
}
if (Number.isFinite(deadlineMs) && deadlineMs > 0) setTimeout(() => process.exit(3), deadlineMs).unref();
