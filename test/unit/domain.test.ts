/** The destination-domain check must not be fooled by URL tricks. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { checkDomain, normaliseConfiguredDomain, parseHost } from '../../src/enrichment/domain';

const approved = ['dropbox.com', 'acme.sharepoint.com'];
const services = [{ name: 'Dropbox', domains: ['dropbox.com', 'dropboxusercontent.com'] }];
const check = (destDomain: string, destUrl: string | null = null) => checkDomain(destDomain, destUrl, approved, services);

describe('destination domain check', () => {
  const cases: [string, string, string | null, boolean, string][] = [
    // [name, destDomain, destUrl, approved, host shown]
    ['an exact approved domain', 'dropbox.com', null, true, 'dropbox.com'],
    ['a subdomain of an approved domain', 'content.dropbox.com', null, true, 'content.dropbox.com'],
    ['upper case and one trailing dot', 'DropBox.COM.', null, true, 'dropbox.com'],
    ['a look-alike with a hyphen prefix', 'evil-dropbox.com', null, false, 'evil-dropbox.com'],
    ['an approved name as a left-hand label', 'dropbox.com.evil.example', null, false, 'dropbox.com.evil.example'],
    ['credentials before the real host (bare)', 'dropbox.com@evil.example', null, false, 'dropbox.com@evil.example'],
    ['credentials before the real host (URL)', 'evil.example', 'https://dropbox.com@evil.example/', false, 'evil.example'],
    ['the approved name in a fragment', 'evil.example', 'https://evil.example#@dropbox.com', false, 'evil.example'],
    ['a URL whose host disagrees with the domain field', 'dropbox.com', 'https://evil.example/upload', false, 'dropbox.com'],
    ['a URL that agrees with the domain field', 'dropbox.com', 'https://www.dropbox.com:443/upload?x=1', true, 'dropbox.com'],
    ['fullwidth letters (mapped by IDNA to the real name)', 'ｄｒｏｐｂｏｘ.com', null, true, 'dropbox.com'],
    ['an ideographic full stop (mapped by IDNA to a dot)', 'dropbox。com', null, true, 'dropbox.com'],
    ['a Cyrillic homograph (shown in punycode)', 'drоpbox.com', null, false, 'xn--drpbox-xqf.com'],
    ['a percent-encoded dot in the URL host', 'evil.example', 'https://dropbox%2ecom.evil.example/', false, 'evil.example'],
    ['a decimal IP literal', '3232235777', null, false, '192.168.1.1'],
    ['a hex IP literal', '0xC0A80101', null, false, '192.168.1.1'],
    ['an IPv6 literal', '[::1]', null, false, '[::1]'],
    ['a port on the bare name', 'dropbox.com:8443', null, true, 'dropbox.com'],
    ['an empty host', '.', null, false, '.'],
    ['two trailing dots (only one is removed)', 'dropbox.com..', null, false, 'dropbox.com..'],
    ['an empty label before an approved suffix', 'x..dropbox.com', null, false, 'x..dropbox.com'],
    ['a tab hiding a left-hand label', 'dropbox.com\t.evil.example', null, false, 'dropbox.com.evil.example'],
    ['a percent-encoded dot in a bare name', 'dropbox.com%2eevil.example', null, false, 'dropbox.com.evil.example'],
    ['fullwidth letters on a look-alike', 'ｅｖｉｌ-dropbox.com', null, false, 'evil-dropbox.com'],
    ['a fullwidth full stop', 'dropbox．com', null, true, 'dropbox.com'],
    ['a halfwidth ideographic full stop', 'dropbox｡com', null, true, 'dropbox.com'],
    ['an upper-case punycode homograph', 'XN--DRPBOX-XQF.COM', null, false, 'xn--drpbox-xqf.com'],
    ['an octal IP literal', '0300.0250.1.1', null, false, '192.168.1.1'],
    ['a shortened IP literal', '192.168.257', null, false, '192.168.1.1'],
    ['a mixed hex IP literal', '0x7f.1', null, false, '127.0.0.1'],
    ['an IPv4-mapped IPv6 literal', '[::ffff:c0a8:101]', null, false, '[::ffff:c0a8:101]'],
    ['credentials with a port before the real host', 'evil.example', 'https://dropbox.com:443@evil.example/', false, 'evil.example'],
    ['a backslash before the approved name', 'evil.example', 'https://evil.example\\@dropbox.com', false, 'evil.example'],
    ['a port on a look-alike URL', 'evil.example', 'https://dropbox.com.evil.example:443/', false, 'evil.example'],
    ['a port out of range', 'dropbox.com:99999', null, false, 'dropbox.com:99999'],
    ['a path on the bare name', 'dropbox.com/upload', null, false, 'dropbox.com/upload'],
    ['a URL with a scheme other than http(s)', 'dropbox.com', 'ftp://dropbox.com/', false, 'dropbox.com'],
    ['a URL that does not parse', 'dropbox.com', 'not a url', false, 'dropbox.com'],
    ['an upper-case URL host with a trailing dot', 'dropbox.com', 'https://DROPBOX.COM./x', true, 'dropbox.com'],
  ];
  for (const [name, domain, url, expected, host] of cases) {
    test(`${expected ? 'accepts' : 'rejects'} ${name}`, () => {
      const finding = check(domain, url);
      assert.equal(finding.approved, expected);
      assert.equal(finding.host, host);
      if (!expected) assert.equal(finding.matchedApprovedDomain, null);
    });
  }

  test('a tab inside the host is removed by the URL parser before matching', () => {
    assert.deepEqual(parseHost('drop\tbox.com'), { host: 'dropbox.com', isIpLiteral: false });
  });

  test('an IP literal is flagged and never matches a domain', () => {
    const finding = checkDomain('127.0.0.1', null, ['127.0.0.1', 'dropbox.com'], services);
    assert.equal(finding.isIpLiteral, true);
    assert.equal(finding.approved, false);
  });

  test('names the known service a host belongs to', () => {
    assert.equal(check('dl.dropboxusercontent.com').cloudStorageService, 'Dropbox');
    assert.equal(check('example.org').cloudStorageService, null);
  });

  test('an unparseable destination fails closed', () => {
    const finding = check('exa mple.com');
    assert.equal(finding.approved, false);
    assert.equal(finding.cloudStorageService, null);
  });

  test('configured domains are normalised the same way, and IPs are refused', () => {
    assert.equal(normaliseConfiguredDomain('BÜCHER.example.'), 'xn--bcher-kva.example');
    assert.throws(() => normaliseConfiguredDomain('10.0.0.1'), /"10.0.0.1" is not a domain name/);
  });
});
