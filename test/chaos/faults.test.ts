/**
 * Chaos, app level: the real service (`soar start` / `npm start`, embedded dev server on SQLite) under the faults an
 * operator meets. kill -9 of the app mid-burst (the dev server left behind is stopped by the next start) and of the
 * whole app; kill -9 of only the dev server (the app restarts it on the same database); a foreign Temporal server on
 * the port (refused); SIGTERM during a burst through `npm start` with the app paused at the signal (an orderly stop).
 * Each case counts as a SOC would: acknowledged, recorded, lost (0), duplicate runs (0), and prints the figures.
 * `npm run test:chaos` runs this folder; `npm test` runs it with everything else.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, test, type TestContext } from 'node:test';
import {
  alive,
  bareTemporal,
  burst,
  chaosAlert,
  chaosSetup,
  chaosTag,
  countRuns,
  deliverOnce,
  devServerPid,
  errorLines,
  formatFigures,
  portOpen,
  startApp,
  Tally,
  acknowledged,
  type Figures,
  type RunningApp,
} from './harness';
import { freePort } from '../helpers/net';
import { eventually } from '../helpers/temporal';
import { tempDir } from '../helpers/fixtures';
import { START_NODE_ARGS } from '../helpers/node-args';

const BURST = 30;

function report(t: TestContext, name: string, figures: Figures): void {
  const line = formatFigures(name, figures);
  t.diagnostic(line);
  assert.equal(figures.lost, 0, `${name}: acknowledged alerts without a run`);
  assert.equal(figures.duplicateRuns, 0, `${name}: duplicate runs`);
  assert.equal(figures.duplicateVendorActions, 0, `${name}: duplicate vendor actions`);
  assert.equal(figures.recorded, figures.acknowledged);
}

describe('chaos: the service under process faults', () => {
  const apps: RunningApp[] = [];
  const pids: number[] = [];
  after(() => {
    for (const a of apps) if (a.child.exitCode === null && a.child.signalCode === null) a.child.kill('SIGKILL');
    for (const pid of pids) if (alive(pid)) process.kill(pid, 'SIGKILL');
  });
  const started = async (...args: Parameters<typeof startApp>) => {
    const app = await startApp(...args);
    apps.push(app);
    const dev = devServerPid(args[0]);
    if (dev) pids.push(dev);
    return app;
  };

  test('kill -9 of the app mid-burst, then of the whole app: every acknowledged alert has one run', { timeout: 420_000 }, async (t) => {
    const setup = await chaosSetup('kill9');
    const tag = chaosTag('k9');
    const tally = new Tally();

    // 1. The app alone is killed mid-burst: its dev server, in its own process group, is left behind.
    const first = await started(setup);
    const orphan = devServerPid(setup);
    assert.ok(orphan && alive(orphan), 'the dev server runs with a PID file');
    let acks = 0;
    await burst(
      setup.base,
      Array.from({ length: BURST }, (_, n) => chaosAlert(tag, n)),
      tally,
      {
        onAnswer: (status) => {
          if (acknowledged(status) && ++acks === 8) process.kill(first.appPid, 'SIGKILL');
        },
      },
    );
    assert.equal(await first.exited, 'SIGKILL');

    // 2. The next start finds the database free: the dev server left behind is stopped first (its PID file), unless
    // it has already died of its own (its log pipe broke with the app). The deterministic case is the next test's.
    const second = await started(setup);
    assert.equal(alive(orphan), false, 'the dev server of the killed app is gone');
    const server2 = devServerPid(setup);
    assert.ok(server2 && server2 !== orphan);

    // 3. The SIEM retries what was not acknowledged, and sends more; mid-burst the whole app is killed.
    acks = 0;
    const retried = [...tally.unacknowledgedIds().map((id) => chaosAlert(tag, Number(id.split('-').pop())))];
    await burst(setup.base, [...retried, ...Array.from({ length: BURST }, (_, n) => chaosAlert(tag, BURST + n))], tally, {
      onAnswer: (status) => {
        if (acknowledged(status) && ++acks === 8) {
          process.kill(second.appPid, 'SIGKILL');
          process.kill(server2, 'SIGKILL');
        }
      },
    });
    assert.equal(await second.exited, 'SIGKILL');

    // 4. Restart; the SIEM retries the rest until each is acknowledged.
    const third = await started(setup);
    const rest = tally.unacknowledgedIds().map((id) => chaosAlert(tag, Number(id.split('-').pop())));
    await burst(setup.base, rest, tally, { retries: 10 });
    assert.deepEqual(tally.unexpected(), []);
    assert.deepEqual(tally.unacknowledgedIds(), [], 'every alert is acknowledged in the end');

    const figures = await countRuns(setup.address, tally.acknowledgedIds());
    third.child.kill('SIGTERM');
    assert.equal(await third.exited, 0);
    report(t, 'kill -9 mid-burst', figures);
    assert.equal(figures.acknowledged, 2 * BURST);
  });

  test('kill -9 of only the dev server: the app restarts it on the same database, and nothing is lost', { timeout: 300_000 }, async (t) => {
    const setup = await chaosSetup('devkill');
    const tag = chaosTag('dk');
    const tally = new Tally();
    const app = await started(setup);
    const server = devServerPid(setup);
    assert.ok(server);

    let acks = 0;
    let killedAt = 0;
    // /healthz as a load balancer probes it: a probe every 25 ms from the kill, each on its own (a probe that began
    // before the app saw the exit can take up to its 2 s reachability deadline, and the client retries through a
    // restart that short, so one probe at a time could sleep through the whole 503 window). In probe order.
    const health: number[] = [];
    const recovered = () => {
      const down = health.indexOf(503);
      return down >= 0 && health.slice(down + 1).includes(200);
    };
    const watching = (async () => {
      while (killedAt === 0) await new Promise((r) => setTimeout(r, 10));
      const deadline = Date.now() + 120_000;
      const probes: Promise<void>[] = [];
      while (!recovered()) {
        if (Date.now() > deadline) {
          await Promise.all(probes);
          const seen = [...new Set(health)].map((s) => `${health.filter((x) => x === s).length} x ${s}`).join(', ');
          throw new Error(
            `Timed out waiting for health to go 503 and back to 200 (saw ${seen}; killed pid ${server}, the PID file names ${devServerPid(setup)}); the app's log:\n` +
              app.output().split('\n').filter((l) => !l.includes('"temporal-sdk"') && /dev.server|"msg":"Ready"|"pid"|error/i.test(l)).slice(-40).join('\n'),
          );
        }
        const n = health.push(-1) - 1;
        probes.push(
          fetch(`${setup.base}/healthz`, { signal: AbortSignal.timeout(10_000) }).then(
            (res) => void (health[n] = res.status),
            () => void (health[n] = 0),
          ),
        );
        await new Promise((r) => setTimeout(r, 25));
      }
      await Promise.all(probes);
    })();
    await burst(
      setup.base,
      Array.from({ length: BURST }, (_, n) => chaosAlert(tag, n)),
      tally,
      {
        retries: 30,
        onAnswer: (status) => {
          if (acknowledged(status) && ++acks === 8) {
            killedAt = Date.now();
            process.kill(server, 'SIGKILL');
          }
        },
      },
    );
    await watching;
    const restarted = devServerPid(setup);
    assert.ok(restarted && restarted !== server && alive(restarted), 'a new dev server runs');
    assert.match(app.output(), /The Temporal dev server stopped unexpectedly; restarting it on the same database/);
    assert.match(app.output(), /Temporal dev server restarted/);
    const metrics = await (await fetch(`${setup.base}/metrics`)).text();
    assert.match(metrics, /^soar_temporal_dev_server_restarts_total 1$/m);
    assert.match(metrics, /^soar_temporal_dev_server_up 1$/m);

    assert.deepEqual(tally.unexpected(), []);
    assert.deepEqual(tally.unacknowledgedIds(), [], 'every alert is acknowledged once the server is back');
    // The worker carried on against the restarted server: a run opened after the restart reaches approval.
    const after = chaosAlert(tag, BURST);
    assert.equal(await deliverOnce(setup.base, after), 202);
    await eventually(
      async () => {
        const res = await fetch(`${setup.base}/runs/t1567-002-generic-${String(after.alertId)}`);
        return res.ok && ((await res.json()) as { stage?: string }).stage === 'awaiting-approval';
      },
      60_000,
      'a run opened after the restart to reach approval',
    );
    tally.record(String(after.alertId), 202);
    const figures = await countRuns(setup.address, tally.acknowledgedIds());
    app.child.kill('SIGTERM');
    assert.equal(await app.exited, 0);
    assert.equal(alive(restarted), false, 'the restarted dev server stops with the app');
    report(t, 'kill -9 of the dev server', figures);
    const answers = [...tally.answers.values()].flat();
    t.diagnostic(
      `while it was down: ${answers.filter((s) => s === 503).length} answers 503 (retried), ${answers.filter((s) => s === 0).length} unanswered; ` +
        `/healthz ${health.filter((s) => s === 503).length} x 503, then 200`,
    );
  });

  test(
    'a foreign Temporal server on the port is refused; a dev server left behind on the database is stopped',
    { timeout: 240_000 },
    async () => {
      const setup = await chaosSetup('foreign');
      const foreign = await bareTemporal({
        port: setup.temporalPort,
        dbFile: path.join(tempDir('soar-foreign-'), 'foreign.db'),
        searchAttributes: false,
      });
      try {
        const app = await startApp(setup).then(
          (a) => {
            apps.push(a);
            return a;
          },
          (err: Error) => err,
        );
        assert.ok(app instanceof Error, 'the app did not become ready');
        assert.match(app.message, /the app exited \(1\) before it was ready/, 'it exits non-zero');
        assert.match(
          app.message,
          new RegExp(
            `Port ${setup.temporalPort} on 127.0.0.1 \\(temporal.address\\) is already in use, perhaps by another Temporal server`,
          ),
        );
        assert.match(app.message, /will not use a server it did not start/);
        assert.doesNotMatch(app.message, /"msg":"Ready"/);
        assert.equal(devServerPid(setup), null, 'no dev server of ours is left');
        assert.ok(alive(foreign.pid), 'the foreign server was left alone');
      } finally {
        await foreign.stop();
      }

      // A dev server on this very database, recorded in the PID file, as a killed app leaves it (its output going
      // nowhere, so nothing makes it exit): the next start stops it and starts its own.
      const leftBehind = await bareTemporal({ port: setup.temporalPort, dbFile: setup.dbFile, searchAttributes: true });
      pids.push(leftBehind.pid);
      writeFileSync(`${setup.dbFile}.pid`, `${leftBehind.pid}\n`);
      const app = await started(setup);
      assert.match(app.output(), /A dev server left running by an earlier start \(the app was killed\) holds this database; stopping it/);
      assert.equal(alive(leftBehind.pid), false);
      const own = devServerPid(setup);
      assert.ok(own && own !== leftBehind.pid && alive(own));
      assert.equal((await fetch(`${setup.base}/healthz`)).status, 200);
      app.child.kill('SIGTERM');
      assert.equal(await app.exited, 0);
      assert.equal(alive(own), false);
      assert.equal(devServerPid(setup), null, 'the PID file goes with the dev server');
    },
  );

  test('Ctrl-C during start-up: what has started is stopped, the dev server included', { timeout: 120_000 }, async () => {
    const setup = await chaosSetup('startup');
    const child = spawn(process.execPath, [...START_NODE_ARGS, path.resolve(__dirname, '../../src/cli.ts'), 'start'], {
      cwd: path.resolve(__dirname, '../..'),
      env: setup.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    await eventually(() => Promise.resolve(output.includes('Starting the Temporal dev server')), 60_000, 'the dev server to be starting');
    child.kill('SIGINT');
    assert.equal(await exited, 0);
    assert.match(output, /"msg":"Stopping"/);
    assert.match(output, /"msg":"Stopped"/);
    assert.doesNotMatch(output, /"msg":"Ready"/);
    assert.deepEqual(errorLines(output), []);
    assert.equal(devServerPid(setup), null, 'the dev server stopped (its PID file is gone)');
    assert.equal(await portOpen(setup.temporalPort), false, 'nothing listens on the Temporal port');
  });

  test(
    'SIGTERM to `npm start` during a burst, the app paused at the signal: an orderly stop, no 2xx without a record',
    { timeout: 300_000 },
    async (t) => {
      const setup = await chaosSetup('sigterm');
      const tag = chaosTag('st');
      const tally = new Tally();
      const app = await started(setup, 'npm');
      const server = devServerPid(setup);
      assert.ok(server);
      assert.notEqual(app.appPid, app.child.pid, 'npm runs the app as a child');

      let acks = 0;
      const paused: { resumed: Promise<void> | null } = { resumed: null };
      await burst(
        setup.base,
        Array.from({ length: BURST }, (_, n) => chaosAlert(tag, n)),
        tally,
        {
          onAnswer: (status) => {
            if (acknowledged(status) && ++acks === 8 && !paused.resumed) {
              // A loaded machine: the app cannot act on the signal for 300 ms. A relay that kills what does not
              // acknowledge a SIGTERM in time (the tsx CLI does, after about 60 ms) would turn this into kill -9.
              process.kill(app.appPid, 'SIGSTOP');
              process.kill(-(app.child.pid ?? 0), 'SIGTERM'); // the process group, as a supervisor or a terminal signals
              paused.resumed = new Promise((r) => setTimeout(r, 300)).then(() => {
                if (alive(app.appPid)) process.kill(app.appPid, 'SIGCONT'); // else killed while paused: asserted below
              });
            }
          },
        },
      );
      await paused.resumed;
      await app.exited;
      await eventually(() => Promise.resolve(!alive(app.appPid)), 60_000, 'the app to exit');
      const output = app.output();
      assert.match(output, /"msg":"Stopping"/);
      assert.match(output, /"msg":"Stopped"/, 'the app stopped itself, in order (not killed)');
      const order = ['Closing the HTTP server', 'Draining the workers', 'Stopped'].map((m) => output.indexOf(m));
      assert.ok(
        order.every((i, n) => i > 0 && (n === 0 || i > (order[n - 1] ?? 0))),
        `stopped in order: ${order.join(', ')}`,
      );
      assert.deepEqual(errorLines(output), [], 'no error logged on a normal stop');
      assert.equal(alive(server), false, 'the dev server stopped with the app');
      assert.equal(await portOpen(setup.temporalPort), false);
      assert.equal(await portOpen(setup.httpPort), false);
      assert.deepEqual(tally.unexpected(), []);

      // Every 2xx is in the database: opened by a bare dev server, after the app has gone.
      const port = await freePort();
      const bare = await bareTemporal({ port, dbFile: setup.dbFile, searchAttributes: true });
      try {
        const figures = await countRuns(`127.0.0.1:${port}`, tally.acknowledgedIds());
        report(t, 'SIGTERM mid-burst', figures);
        assert.ok(figures.acknowledged >= 8);
      } finally {
        await bare.stop();
      }
    },
  );
});
