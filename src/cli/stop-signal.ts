/** Resolves on the first SIGINT or SIGTERM; a second one is not caught and ends the process at once. */
export function stopSignal(): Promise<NodeJS.Signals> {
  return new Promise((ok) => {
    const on = (sig: NodeJS.Signals): void => {
      process.off('SIGINT', on);
      process.off('SIGTERM', on);
      ok(sig);
    };
    process.on('SIGINT', on);
    process.on('SIGTERM', on);
  });
}
