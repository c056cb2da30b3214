/**
 * Reading the file-backed sources' data files ahead (`warmDataFiles`, called by a worker at start-up): every file
 * is read and validated once, a file that cannot be read is reported and not thrown, and a later lookup still sees
 * an edit and still reports a broken file.
 */
import assert from 'node:assert/strict';
import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import {
  FileChangeRecords,
  FileCloudStorageCatalog,
  FileDeviceInventory,
  FileHrDirectory,
  FileUploadBaselines,
} from '../../src/connectors/local-files/client';
import { warmDataFiles } from '../../src/wiring';
import { tempDir } from '../helpers/fixtures';

const SHIPPED = path.resolve(__dirname, '../../config/data');

function sourcesIn(dir: string) {
  return {
    cloudStorage: new FileCloudStorageCatalog(dir),
    hr: new FileHrDirectory(dir),
    changes: new FileChangeRecords(dir),
    devices: new FileDeviceInventory(dir),
    baselines: new FileUploadBaselines(dir),
  };
}

describe('file-backed sources read ahead', () => {
  test('the shipped data files are all read and validated', async () => {
    const dir = tempDir('soar-warm-');
    cpSync(SHIPPED, dir, { recursive: true });
    const warmed = await warmDataFiles(sourcesIn(dir));
    assert.deepEqual(
      warmed.map((w) => [path.basename(w.file), w.ok]).sort(),
      [
        ['cloud-storage.yaml', true],
        ['devices.yaml', true],
        ['hr-directory.yaml', true],
        ['policy-changes.yaml', true],
        ['upload-baselines.yaml', true],
      ],
    );
  });

  test('a missing or invalid file is reported, not thrown; the lookup still fails with it; an edit still applies', async () => {
    const dir = tempDir('soar-warm-');
    cpSync(SHIPPED, dir, { recursive: true });
    rmSync(path.join(dir, 'devices.yaml'));
    writeFileSync(path.join(dir, 'hr-directory.yaml'), 'users: [1, 2]\n');
    const sources = sourcesIn(dir);
    const byFile = new Map((await warmDataFiles(sources)).map((w) => [path.basename(w.file), w]));
    assert.equal(byFile.get('devices.yaml')?.ok, false);
    assert.match(byFile.get('devices.yaml')?.error ?? '', /cannot read .*devices\.yaml: ENOENT/);
    assert.equal(byFile.get('hr-directory.yaml')?.ok, false);
    assert.match(byFile.get('hr-directory.yaml')?.error ?? '', /hr-directory\.yaml is invalid/);
    assert.equal(byFile.get('upload-baselines.yaml')?.ok, true);

    await assert.rejects(sources.devices.lookupDevice('LT-0001'), /devices\.yaml: ENOENT/);
    await assert.rejects(sources.hr.lookupUser('jdoe'), /hr-directory\.yaml is invalid/);

    // The file repaired after the read ahead: the next lookup reads it again.
    const shipped = readFileSync(path.join(SHIPPED, 'hr-directory.yaml'), 'utf8');
    writeFileSync(path.join(dir, 'hr-directory.yaml'), shipped.replace('displayName: Jane Doe', 'displayName: Jane Edited'));
    const found = await sources.hr.lookupUser('jdoe');
    assert.equal(found?.displayName, 'Jane Edited', 'the edited file is read again');
  });
});
