/**
 * A leader's periodic duty (maintenance, archival): one pass every interval, never two at once,
 * and a failed pass reported and followed by the next one, so a duty resumes by itself after an
 * outage or a lost leadership.
 */
export class PeriodicDuty {
  private timer: NodeJS.Timeout | undefined;
  private running = false;

  constructor(
    private readonly intervalMs: number,
    private readonly pass: () => Promise<unknown>,
    private readonly onError: (error: unknown) => void,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.tick(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private async tick(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      await this.pass();
    } catch (error) {
      this.onError(error);
    } finally {
      this.running = false;
    }
  }
}
