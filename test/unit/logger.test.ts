/** The logger replaces every configured secret wherever it appears in a line, and redacts credential fields by path. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { captureLogs } from '../helpers/logs';

const SECRET = 'xoxb-very-secret-token';

function capture(secrets = [SECRET]) {
  return captureLogs({ level: 'debug', secrets });
}

describe('createLogger', () => {
  test('replaces a secret in the message, in nested fields, in arrays and in an Error', () => {
    const { logger, lines } = capture();
    logger.info({ call: { url: `https://x/?t=${SECRET}`, list: ['a', `b ${SECRET}`] }, n: 3 }, `sent ${SECRET}`);
    logger.error(new Error(`refused ${SECRET}`), 'failed');
    logger.child({ component: 'slack' }).warn({ deep: { a: { b: { c: SECRET } } } }, 'deep');
    const text = lines.join('');
    assert.equal(text.includes(SECRET), false, text);
    const [first, second, third] = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual(first?.call, { url: 'https://x/?t=[redacted]', list: ['a', 'b [redacted]'] });
    assert.equal(first?.msg, 'sent [redacted]');
    assert.equal(first?.n, 3);
    assert.match(JSON.stringify(second), /refused \[redacted\]/);
    assert.deepEqual(third?.deep, { a: { b: { c: '[redacted]' } } });
    assert.equal(third?.component, 'slack');
  });

  test('does not change a caller object, and leaves lines without a secret as they are', () => {
    const { logger, lines } = capture();
    const fields = { request: { token: 'tok-1234', note: `has ${SECRET}` }, ok: 'plain' };
    logger.info(fields, 'plain message');
    assert.equal(fields.request.note, `has ${SECRET}`, 'the caller keeps its own object');
    const line = JSON.parse(lines[0] ?? '{}') as { request: { token: string; note: string }; ok: string; msg: string };
    assert.equal(line.request.token, '[redacted]', 'token fields are redacted by path');
    assert.equal(line.request.note, 'has [redacted]');
    assert.equal(line.ok, 'plain');
    assert.equal(line.msg, 'plain message');
  });

  test("replaces a secret as JSON escapes it (a quote, a backslash), and one in a child logger's bindings", () => {
    const odd = 'pa"ss\\word-1234';
    const { logger, lines } = capture([odd]);
    logger.child({ binding: `x ${odd}` }).info({ field: odd }, `msg ${odd}`);
    assert.equal(lines.join('').includes(JSON.stringify(odd).slice(1, -1)), false, lines.join(''));
    const line = JSON.parse(lines[0] ?? '{}') as { binding: string; field: string; msg: string };
    assert.deepEqual([line.binding, line.field, line.msg], ['x [redacted]', '[redacted]', 'msg [redacted]']);
  });

  test('ignores secrets shorter than 4 characters (they would blank out ordinary words)', () => {
    const { logger, lines } = capture(['abc']);
    logger.info('abc stays');
    assert.match(lines[0] ?? '', /abc stays/);
  });
});
