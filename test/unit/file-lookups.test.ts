/**
 * The file-backed sources look entries up by key (built once per read of the file): the same entry a scan finds
 * (the first of its key), under every spelling of the key that a scan matched, and an edit of the file applies to
 * the next lookup.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { stringify } from 'yaml';
import { FileDeviceInventory, FileHrDirectory, FileUploadBaselines } from '../../src/connectors/local-files/client';
import { tempDir } from '../helpers/fixtures';

const person = (user: string, displayName: string) => ({
  user,
  displayName,
  department: 'Finance',
  title: 'Analyst',
  groups: [],
  employmentStatus: 'active',
  manager: null,
  timezone: 'Europe/Berlin',
  cloudStorageAuthorized: true,
});

function write(dir: string, file: string, data: unknown): void {
  writeFileSync(path.join(dir, file), stringify(data));
}

describe('file-backed lookups', () => {
  test('HR: any spelling of the account finds the first entry of its canonical name; an edit applies', async () => {
    const dir = tempDir('soar-lookups-');
    const users = [person('Bob.Smith', 'Bob'), person('jdoe', 'Jane'), person('JDOE', 'Jane again')];
    write(dir, 'hr-directory.yaml', { users });
    const hr = new FileHrDirectory(dir, { domains: ['acme.example'], netbiosNames: ['ACME'] });
    assert.equal((await hr.lookupUser('jdoe'))?.displayName, 'Jane');
    assert.equal((await hr.lookupUser('JDoe@acme.example'))?.displayName, 'Jane', 'the UPN form');
    assert.equal((await hr.lookupUser('ACME\\jdoe'))?.displayName, 'Jane', 'the down-level form');
    assert.equal((await hr.lookupUser('bob.smith'))?.displayName, 'Bob');
    assert.equal(await hr.lookupUser('jdoe@other.example'), null, 'another domain is another person');
    assert.equal(await hr.lookupUser('nobody'), null);

    write(dir, 'hr-directory.yaml', { users: [person('nobody', 'Now somebody'), person('jdoe', 'Jane edited')] });
    assert.equal((await hr.lookupUser('nobody'))?.displayName, 'Now somebody');
    assert.equal((await hr.lookupUser('JDOE'))?.displayName, 'Jane edited');
    assert.equal(await hr.lookupUser('bob.smith'), null, 'removed from the file');
  });

  test('devices and baselines: the key in any case finds its first entry', async () => {
    const dir = tempDir('soar-lookups-');
    write(dir, 'devices.yaml', {
      devices: [
        { host: 'LAPTOP-JD01', managed: true, owner: 'jdoe', cloudStorageAllowed: true },
        { host: 'laptop-jd01', managed: false, owner: null, cloudStorageAllowed: false },
      ],
    });
    write(dir, 'upload-baselines.yaml', { baselines: [{ user: 'JDoe', dailyBytes: [10, 30] }, { user: 'jdoe', dailyBytes: [1] }] });
    const device = await new FileDeviceInventory(dir).lookupDevice('Laptop-JD01');
    assert.deepEqual([device?.host, device?.managed], ['LAPTOP-JD01', true]);
    assert.equal(await new FileDeviceInventory(dir).lookupDevice('LAPTOP-XX'), null);
    const baseline = await new FileUploadBaselines(dir).baselineFor('JDOE');
    assert.deepEqual(baseline, { user: 'JDoe', days: 2, meanBytes: 20, stdDevBytes: 10 });
    assert.equal(await new FileUploadBaselines(dir).baselineFor('someone'), null);
  });
});
