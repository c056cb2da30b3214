/** Writes each run's final report as Markdown and JSON under `<dataDir>/reports/`. Overwriting is idempotent. */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { RunState } from '../../contracts/playbook';
import type { ReportSink } from '../../contracts/ports';

export class FileReportSink implements ReportSink {
  readonly name = 'file';
  readonly dir: string;
  constructor(dataDir: string) {
    this.dir = path.join(dataDir, 'reports');
  }

  async publish(state: RunState): Promise<{ location: string }> {
    const base = path.join(this.dir, state.workflowId.replace(/[^A-Za-z0-9._-]/g, '_'));
    await mkdir(this.dir, { recursive: true });
    await writeFile(`${base}.json`, `${JSON.stringify(state, null, 2)}\n`, 'utf8');
    await writeFile(`${base}.md`, state.report?.markdown ?? '', 'utf8');
    return { location: `${base}.md` };
  }
}
