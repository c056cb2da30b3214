/**
 * The file baseline source's day so far (volume rule /2): the file's `uploadsByDate` for the event's local date plus
 * the uploads the playbook recorded for the user that day before the event, asked for the user's local day.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { stringify } from 'yaml';
import { FileUploadBaselines } from '../../src/connectors/local-files/client';
import type { RecordedUpload, RecordedUploads } from '../../src/contracts/ports';
import { tempDir } from '../helpers/fixtures';

const MB = 1_000_000;

/** The alerts recorded so far, answering for the window it is asked about, and remembering what it was asked. */
class Recorded implements RecordedUploads {
  readonly name = 'recorded-in-test';
  readonly asked: { user: string; from: string; to: string }[] = [];
  constructor(private readonly uploads: RecordedUpload[]) {}
  uploadsOf(user: string, window: { from: string; to: string }): Promise<RecordedUpload[]> {
    this.asked.push({ user, ...window });
    const [from, to] = [Date.parse(window.from), Date.parse(window.to)];
    return Promise.resolve(this.uploads.filter((u) => Date.parse(u.eventTime) >= from && Date.parse(u.eventTime) < to));
  }
}

function dataDir(entry: Record<string, unknown>): string {
  const dir = tempDir('soar-baseline-day-');
  writeFileSync(path.join(dir, 'upload-baselines.yaml'), stringify({ baselines: [entry] }));
  return dir;
}

describe('the file baseline source: the day so far', () => {
  test("adds the recorded alerts of the user's New York day before the event to the file's uploads on that date", async () => {
    const dir = dataDir({
      user: 'jdoe',
      dailyBytes: [20 * MB, 30 * MB],
      uploadsByDate: { '2026-11-27': 100 * MB, '2026-11-28': 999 * MB },
    });
    const recorded = new Recorded([
      { source: 'generic', alertId: 'a1', eventTime: '2026-11-27T23:00:00.000Z', bytesOut: 40 * MB }, // 18:00 in New York
      { source: 'generic', alertId: 'a2', eventTime: '2026-11-28T01:00:00.000Z', bytesOut: 40 * MB }, // 20:00
    ]);
    const finding = await new FileUploadBaselines(dir).baselineFor('JDOE', '2026-11-28T02:30:00.000Z', {
      timezone: 'America/New_York',
      timezoneSource: 'hr',
      recorded,
    });
    assert.deepEqual(recorded.asked, [{ user: 'JDOE', from: '2026-11-27T05:00:00.000Z', to: '2026-11-28T02:30:00.000Z' }]);
    assert.deepEqual(finding, {
      user: 'jdoe',
      days: 2,
      meanBytes: 25 * MB,
      stdDevBytes: 5 * MB,
      day: {
        timezone: 'America/New_York',
        timezoneSource: 'hr',
        date: '2026-11-27',
        start: '2026-11-27T05:00:00.000Z',
        end: '2026-11-28T05:00:00.000Z',
        priorBytes: 180 * MB,
        priorFrom: 'local-files:upload-baselines.yaml (100000000 bytes on 2026-11-27) + 2 alert(s) recorded by recorded-in-test',
      },
    });
  });

  test('without a day query the finding is the 30-day baseline alone, as before rule version /2', async () => {
    const dir = dataDir({ user: 'jdoe', dailyBytes: [20 * MB, 30 * MB] });
    assert.deepEqual(await new FileUploadBaselines(dir).baselineFor('jdoe', '2026-11-28T02:30:00.000Z'), {
      user: 'jdoe',
      days: 2,
      meanBytes: 25 * MB,
      stdDevBytes: 5 * MB,
    });
  });

  test('a date key that is not YYYY-MM-DD is refused, naming the file and the key', async () => {
    const dir = dataDir({ user: 'jdoe', dailyBytes: [], uploadsByDate: { '27/11/2026': 1 } });
    await assert.rejects(
      new FileUploadBaselines(dir).baselineFor('jdoe'),
      /upload-baselines\.yaml is invalid: baselines\.0\.uploadsByDate\.27\/11\/2026: keys are local dates, YYYY-MM-DD/,
    );
  });
});
