/**
 * The case list and the case gauges without a server: every query is kept to the playbook's runs (no case index or
 * webhook receipt is listed or counted), and the gauges read visibility once per scrape, saying when they could not.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PlaybookMetrics, type CaseGauges } from '../../src/metrics';
import { AWAITING_APPROVAL_QUERY, CASES_QUERY, casesMatching, runListQuery } from '../../src/temporal/run-list';

describe('the case list', () => {
  test('every list query starts with the playbook workflow type, with or without filters', () => {
    assert.equal(CASES_QUERY, 'WorkflowType = "exfilToCloudStorage"');
    assert.equal(runListQuery({}), CASES_QUERY);
    assert.equal(
      runListQuery({ approval: 'pending', status: 'running' }),
      `${CASES_QUERY} AND ApprovalState = "pending" AND ExecutionStatus = "Running"`,
    );
    assert.equal(AWAITING_APPROVAL_QUERY, `${CASES_QUERY} AND ExecutionStatus = "Running" AND ApprovalState = "pending"`);
  });

  test("a user's own --query is kept to cases: an OR cannot reach the case indexes", () => {
    assert.equal(
      casesMatching('ExecutionStatus = "Running" OR WorkflowType = "caseIndex"'),
      `${CASES_QUERY} AND (ExecutionStatus = "Running" OR WorkflowType = "caseIndex")`,
    );
    assert.throws(() => casesMatching('  '), { message: '--query is empty' });
    assert.throws(() => casesMatching('Decision = "escalate" ORDER BY StartTime'), {
      message: '--query may not contain ORDER BY (cases are listed newest first)',
    });
  });
});

describe('the case gauges on GET /metrics', () => {
  const value = async (metrics: PlaybookMetrics, name: string) => {
    const text = await metrics.registry.metrics();
    const line = text.split('\n').find((l) => l.startsWith(`${name} `));
    return line === undefined ? undefined : Number(line.slice(name.length + 1));
  };

  test('one visibility read per scrape fills all three gauges', async () => {
    const metrics = new PlaybookMetrics({ processMetrics: false });
    let reads = 0;
    metrics.watchCases(() => {
      reads++;
      return Promise.resolve<CaseGauges>({ awaitingApproval: 3, oldestWaitSeconds: 1234.5 });
    });
    const text = await metrics.registry.metrics();
    assert.equal(reads, 1);
    assert.match(text, /^soar_cases_awaiting_approval 3$/m);
    assert.match(text, /^soar_cases_awaiting_approval_oldest_seconds 1234\.5$/m);
    assert.match(text, /^soar_case_visibility_up 1$/m);
    await new Promise((resolve) => setImmediate(resolve));
    await metrics.registry.metrics();
    assert.equal(reads, 2, 'the next scrape reads again');
  });

  test('a failed or slow read says so and keeps the last values; the scrape still answers', async () => {
    const metrics = new PlaybookMetrics({ processMetrics: false });
    let answer: () => Promise<CaseGauges> = () => Promise.resolve({ awaitingApproval: 2, oldestWaitSeconds: 60 });
    metrics.watchCases(() => answer(), 200);
    assert.equal(await value(metrics, 'soar_case_visibility_up'), 1);
    await new Promise((resolve) => setImmediate(resolve));

    answer = () => Promise.reject(new Error('visibility unavailable'));
    assert.equal(await value(metrics, 'soar_case_visibility_up'), 0);
    assert.equal(await value(metrics, 'soar_cases_awaiting_approval'), 2, 'the last value stays');
    await new Promise((resolve) => setImmediate(resolve));

    answer = () => new Promise(() => undefined); // never answers
    const started = Date.now();
    assert.equal(await value(metrics, 'soar_case_visibility_up'), 0);
    assert.ok(Date.now() - started < 5000, 'the scrape is not held beyond the timeout');
    assert.equal(await value(metrics, 'soar_cases_awaiting_approval_oldest_seconds'), 60);
  });

  test('without a reader (a worker-only process) the gauges say they are not read', async () => {
    const metrics = new PlaybookMetrics({ processMetrics: false });
    assert.equal(await value(metrics, 'soar_case_visibility_up'), 0);
  });
});
