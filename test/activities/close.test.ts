/**
 * The close in one activity (runs of patch set `playbook-2026-12b`): the records the report does not wait for, the
 * report, then the close's record, each linked to the one before in the run's chain. A report that cannot be
 * published leaves the decision recorded and the close unrecorded; a retry writes nothing twice.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createActivities } from '../../activities';
import { GENESIS_HASH, verifyRunChains } from '../../src/audit/audit-log';
import { ConnectorConfigurationError } from '../../src/connectors/errors';
import type { RunState } from '../../src/contracts/playbook';
import { createLogger } from '../../src/logger';
import { createActivityDeps } from '../../src/wiring';
import { auditRecords, playbookEvent as event } from '../helpers/audit';
import { testConfig, unique } from '../helpers/fixtures';

const silent = createLogger({ level: 'silent' });

describe('publishReportAndRecord', () => {
  test('the decision, the report, then the close, chained; a retry writes nothing twice', async () => {
    const config = testConfig();
    const published: string[] = [];
    const deps = createActivityDeps(config, silent);
    const activities = createActivities({
      ...deps,
      reports: {
        name: 'test',
        publish: (state: RunState) => {
          published.push(state.workflowId);
          return Promise.resolve({ location: `test:${state.workflowId}` });
        },
      },
    });
    const workflowId = unique('close');
    const input = {
      state: { workflowId, outcome: 'benign' } as RunState,
      before: [event(workflowId, 'decision')],
      after: [event(workflowId, 'run-closed')],
      runPrevHash: GENESIS_HASH,
    };
    const env = new MockActivityEnvironment();
    const first = await env.run<[typeof input], { runHash: string | null }, typeof activities.publishReportAndRecord>(
      activities.publishReportAndRecord,
      input,
    );
    const records = auditRecords(config.audit.file, workflowId);
    assert.deepEqual(
      records.map((r) => r.type),
      ['decision', 'run-closed'],
    );
    assert.equal(records[1]?.runPrevHash, records[0]?.runHash);
    assert.equal(first.runHash, records[1]?.runHash, "the run's new head is the close's record");
    assert.equal(verifyRunChains(records).ok, true);

    const retried = await env.run<[typeof input], { runHash: string | null }, typeof activities.publishReportAndRecord>(
      activities.publishReportAndRecord,
      input,
    );
    assert.equal(auditRecords(config.audit.file, workflowId).length, 2, 'a retry appends nothing');
    assert.equal(retried.runHash, first.runHash);
    assert.deepEqual(published, [workflowId, workflowId], 'the report is published again (the sink overwrites it)');
  });

  test('a report that cannot be published: the decision is recorded, the close is not, and the failure is final', async () => {
    const config = testConfig();
    const activities = createActivities({
      ...createActivityDeps(config, silent),
      reports: {
        name: 'broken',
        publish: () => Promise.reject(new ConnectorConfigurationError('file-reports', 'cannot write the report folder')),
      },
    });
    const workflowId = unique('close');
    await assert.rejects(
      new MockActivityEnvironment().run(activities.publishReportAndRecord, {
        state: { workflowId, outcome: 'benign' } as RunState,
        before: [event(workflowId, 'decision')],
        after: [event(workflowId, 'run-closed')],
        runPrevHash: GENESIS_HASH,
      }),
      (err: unknown) => err instanceof ApplicationFailure && err.nonRetryable && /cannot write the report folder/.test(err.message),
    );
    assert.deepEqual(
      auditRecords(config.audit.file, workflowId).map((r) => r.type),
      ['decision'],
    );
  });
});
