/** Untrusted alert text in Slack messages: rendered inert. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { untrusted, runUrl } from '../../src/connectors/slack/blocks';

describe('untrusted text in Slack messages', () => {
  test('cannot mention @channel, @here or a user, in either syntax', () => {
    assert.equal(untrusted('<!channel> <!here> <@U123>'), '`&lt;!channel&gt; &lt;!here&gt; &lt;@\u200bU123&gt;`');
    assert.equal(untrusted('@channel @here'), '`@\u200bchannel @\u200bhere`');
  });

  test('cannot inject a link or break out of its code span', () => {
    assert.equal(untrusted('<https://evil.example|Approve here>'), '`&lt;https://evil.example|Approve here&gt;`');
    assert.equal(untrusted('a`b`*c*'), '`aˋbˋ*c*`');
  });

  test('cannot break the layout with new lines, control or bidi characters, or length', () => {
    assert.equal(untrusted('line1\n\n*line2*\r\u2028x'), '`line1 *line2* x`');
    assert.equal(untrusted('abc\u202edef\u200b'), '`abcdef`');
    const long = untrusted('x'.repeat(1000));
    assert.equal(long.length, 202);
    assert.ok(long.endsWith('…`'));
    assert.equal(untrusted(''), '`(empty)`');
  });

  test('escapes & so entities cannot be smuggled', () => {
    assert.equal(untrusted('&lt;!channel&gt;'), '`&amp;lt;!channel&amp;gt;`');
  });

  test('links to the run in the Temporal UI with the workflow ID encoded', () => {
    assert.equal(runUrl('http://ui:8233/', 'default', 'a|b>c'), 'http://ui:8233/namespaces/default/workflows/a%7Cb%3Ec');
  });
});
