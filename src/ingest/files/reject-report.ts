import { once } from 'node:events';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { RapportError } from '../../core/errors.js';

/** The report of rejected rows: CSV with row,field,reason, opened at the first rejection. */

export class RejectReport {
  count = 0;
  private stream: fs.WriteStream | undefined;
  private failure: Error | undefined;

  /** `input`: the imported file, when the report may move to the working directory (default path only). */
  constructor(
    public path: string,
    private readonly input: string | undefined,
  ) {}

  async add(row: number, field: string, reason: string): Promise<void> {
    this.count++;
    if (!this.stream) await this.open();
    if (this.failure) throw this.failure;
    const line = `${row},${csvCell(field)},${csvCell(reason)}\n`;
    if (!this.stream!.write(line)) await once(this.stream!, 'drain');
  }

  private async open(): Promise<void> {
    let handle: fsp.FileHandle;
    try {
      handle = await fsp.open(this.path, 'w');
    } catch (e) {
      // Next to the input when that directory is writable, else in the working directory.
      const code = (e as NodeJS.ErrnoException).code;
      const fallback = this.input === undefined ? undefined : path.resolve(`${path.basename(this.input)}.rejected.csv`);
      if (fallback === undefined || !['EACCES', 'EPERM', 'EROFS'].includes(code ?? '') || fallback === this.path) {
        throw new RapportError('unreadable_file', `cannot write the report ${this.path}: ${(e as Error).message}`);
      }
      this.path = fallback;
      handle = await fsp.open(this.path, 'w');
    }
    this.stream = handle.createWriteStream();
    this.stream.on('error', (e) => (this.failure = e));
    this.stream.write('row,field,reason\n');
  }

  async close(): Promise<void> {
    if (!this.stream) return;
    const s = this.stream;
    // A failed write (a full disk: ENOSPC) reaches end's callback before the 'error' event.
    await new Promise<void>((resolve, reject) => s.end((e?: Error | null) => (e ? reject(e) : resolve())));
    if (this.failure) throw this.failure;
  }
}

function csvCell(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}
