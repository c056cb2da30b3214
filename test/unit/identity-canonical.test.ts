/** One canonical identity per person: every form a SIEM, an HR system or Slack uses for the same account, and the look-alikes and foreign accounts that must stay apart. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { canonicalIdentity, canonicalName, identifierTextProblem, NO_ORG, type OrgIdentity } from '../../src/identity/canonical';

const ORG: OrgIdentity = { domains: ['corp.example', 'Corp-Mail.example'], netbiosNames: ['CORP'] };

describe('canonical identity', () => {
  const same: [string, string, string][] = [
    ['plain', 'jdoe', 'jdoe'],
    ['upper case', 'JDoe', 'jdoe'],
    ['surrounding whitespace', '  jdoe\t', 'jdoe'],
    ['UPN of the organisation', 'jdoe@corp.example', 'jdoe'],
    ['UPN in upper case', 'JDOE@CORP.EXAMPLE', 'jdoe'],
    ['UPN with a trailing dot on the domain', 'jdoe@corp.example.', 'jdoe'],
    ['e-mail at a second organisation domain', 'jdoe@corp-mail.example', 'jdoe'],
    ['down-level logon name', 'CORP\\jdoe', 'jdoe'],
    ['down-level in lower case', 'corp\\JDOE', 'jdoe'],
    ['DNS domain before the backslash', 'corp.example\\jdoe', 'jdoe'],
    ['full-width letters (NFKC)', 'ｊｄｏｅ', 'jdoe'],
    ['full-width UPN (NFKC)', 'ｊｄｏｅ＠ｃｏｒｐ.ｅｘａｍｐｌｅ', 'jdoe'],
    ['an ideographic space around the name (NFKC)', '\u3000jdoe\u3000', 'jdoe'],
    ['a Kelvin sign folds to k (NFKC)', '\u212Atemp', 'ktemp'],
  ];
  for (const [label, raw, name] of same) {
    test(`reads ${label} (${JSON.stringify(raw)}) as ${name}`, () => {
      const c = canonicalIdentity(raw, ORG);
      assert.ok(c.ok, JSON.stringify(c));
      assert.equal(c.name, name);
      assert.equal(c.foreign, false);
    });
  }

  const distinct: [string, string, string][] = [
    ['a UPN of a foreign domain', 'jdoe@partner.example', 'jdoe@partner.example'],
    ['a subdomain that is not listed', 'jdoe@eu.corp.example', 'jdoe@eu.corp.example'],
    ['a foreign NetBIOS name', 'PARTNER\\jdoe', 'partner\\jdoe'],
    ['a foreign DNS domain before the backslash', 'partner.example\\JDoe', 'partner.example\\jdoe'],
  ];
  for (const [label, raw, name] of distinct) {
    test(`keeps ${label} (${JSON.stringify(raw)}) apart from the organisation's jdoe`, () => {
      const c = canonicalIdentity(raw, ORG);
      assert.ok(c.ok, JSON.stringify(c));
      assert.equal(c.name, name);
      assert.notEqual(c.name, 'jdoe');
      assert.equal(c.foreign, true);
    });
  }

  test('without organisation domains, a UPN is not folded (nothing is merged by guess)', () => {
    assert.equal(canonicalName('jdoe@corp.example', NO_ORG), 'jdoe@corp.example');
    assert.equal(canonicalName('CORP\\jdoe', NO_ORG), 'corp\\jdoe');
    assert.equal(canonicalName('JDoe', NO_ORG), 'jdoe');
  });

  const refused: [string, string, RegExp][] = [
    ['a Cyrillic о in a Latin name', 'jd\u043Ee', /mixes scripts \(Latin and Cyrillic\)/],
    ['a Greek ο in a Latin name', 'jd\u03BFe', /mixes scripts \(Latin and Greek\)/],
    ['a Cyrillic а in the domain', 'jdoe@corp.ex\u0430mple', /mixes scripts/],
    ['a zero-width space', 'jd\u200Boe', /invisible formatting character \(U\+200B\)/],
    ['a right-to-left override', '\u202Ejdoe', /invisible formatting character \(U\+202E\)/],
    ['a NUL', 'jdoe\u0000', /control character \(U\+0000\)/],
    ['a lone high surrogate', '\uD800jdoe', /not valid Unicode \(a lone surrogate U\+D800\)/],
    ['a lone low surrogate', 'jdoe\uDC00', /lone surrogate U\+DC00/],
    ['only whitespace', '   ', /must not be empty/],
    ['an empty account before the domain', '@corp.example', /no account name/],
    ['an empty domain after @', 'jdoe@', /empty domain/],
    ['two backslashes', 'CORP\\x\\jdoe', /more than one backslash/],
    ['both forms at once', 'CORP\\jdoe@corp.example', /mixes DOMAIN\\user and user@domain/],
  ];
  for (const [label, raw, reason] of refused) {
    test(`refuses ${label}`, () => {
      const c = canonicalIdentity(raw, ORG);
      assert.equal(c.ok, false);
      assert.match(c.ok ? '' : c.reason, reason);
      assert.equal(canonicalName(raw, ORG), null);
    });
  }

  test('a name wholly in one other script is a name of its own, not folded to a Latin one', () => {
    assert.equal(canonicalName('\u0458\u0434\u043E\u0435', ORG), '\u0458\u0434\u043E\u0435');
    assert.equal(canonicalName('山田', ORG), '山田');
    assert.equal(canonicalName('やまだ太郎', ORG), 'やまだ太郎');
  });

  test('a pair of surrogates (an astral character) is well-formed text', () => {
    assert.equal(identifierTextProblem('host-\u{1F600}'), null);
  });
});
