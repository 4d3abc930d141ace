/**
 * Progress on stderr: a bar on a terminal, a line every few seconds
 * otherwise, nothing but phase changes under CI or --quiet.
 */
import cliProgress from 'cli-progress';
import type { Sample } from '../result/run-result.ts';
import type { SeedProgress } from '../../seed/seeder.ts';
import { formatBytes, formatDuration } from '../units.ts';

interface DisplayOptions {
  tty: boolean;
  ci: boolean;
  quiet: boolean;
  write: (line: string) => void;
}

export class ProgressDisplay {
  private bar: cliProgress.SingleBar | undefined;
  private seedStart = 0;
  private lastLine = 0;
  private lastPhase = '';

  constructor(private readonly o: DisplayOptions) {}

  private get interactive(): boolean {
    return this.o.tty && !this.o.ci && !this.o.quiet;
  }

  seed(p: SeedProgress): void {
    if (p.phase !== this.lastPhase) {
      if (this.bar && p.phase !== 'load') {
        this.bar.stop();
        this.bar = undefined;
      }
      this.lastPhase = p.phase;
      if (p.phase === 'load') this.seedStart = performance.now();
      else if (!this.o.quiet) this.o.write(`seeding: ${p.phase === 'done' ? 'done' : p.phase}`);
    }
    if (p.phase !== 'load' || !p.bytesTotal) return;
    const mb = (b: number) => Math.round(b / 1048576);
    const secs = (performance.now() - this.seedStart) / 1000;
    const rate = secs > 0.5 ? p.bytesDone / 1048576 / secs : 0;
    if (this.interactive) {
      if (!this.bar) {
        this.bar = new cliProgress.SingleBar(
          { format: 'seeding |{bar}| {percentage}% {value}/{total} MB · {rate} MB/s · ETA {eta_formatted}', hideCursor: true, stream: process.stderr, etaBuffer: 20 },
          cliProgress.Presets.shades_classic,
        );
        this.bar.start(mb(p.bytesTotal), mb(p.bytesDone), { rate: '0' });
      }
      this.bar.update(mb(p.bytesDone), { rate: rate.toFixed(0) });
      return;
    }
    if (this.o.quiet || this.o.ci) {
      return;
    }
    const now = performance.now();
    if (now - this.lastLine > 5000 || p.bytesDone >= p.bytesTotal) {
      this.lastLine = now;
      const eta = rate > 0 ? ((p.bytesTotal - p.bytesDone) / 1048576 / rate) * 1000 : NaN;
      this.o.write(`seeding: ${mb(p.bytesDone)}/${mb(p.bytesTotal)} MB · ${rate.toFixed(0)} MB/s · ETA ${formatDuration(eta)}`);
    }
  }

  sample(strategy: string, s: Sample): void {
    if (this.o.quiet) return;
    const line = `${strategy} · attempt ${s.attempt} · ${formatDuration(s.tMs)} · WAL ${formatBytes(s.walBytes)} · ${s.rows.toLocaleString('en-US')} rows${s.probeMs !== null && s.probeMs > 1000 ? ` · writes to chat blocked ${formatDuration(s.probeMs)}` : ''}`;
    if (this.interactive) {
      process.stderr.write(`\r\x1b[2K${line}`);
      return;
    }
    const now = performance.now();
    if (now - this.lastLine > (this.o.ci ? 30_000 : 5000)) {
      this.lastLine = now;
      this.o.write(line);
    }
  }

  /** End a live line before other output. */
  clear(): void {
    this.bar?.stop();
    this.bar = undefined;
    if (this.interactive) process.stderr.write('\r\x1b[2K');
  }
}
