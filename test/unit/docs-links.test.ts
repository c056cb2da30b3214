/**
 * Every relative link in README.md and docs/ names a file of this repository, and every `#fragment` a heading of the
 * page it points at (GitHub's anchors), so moving a section cannot leave a reader at a dead end.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';

const ROOT = path.resolve(__dirname, '../..');

/**
 * Targets another branch of issue #11 adds (the configuration reference is written in parallel). The test fails once
 * such a file exists, so the entry is removed when it lands rather than left to excuse a dead link later.
 */
const PENDING = new Set<string>();

function markdownFiles(): string[] {
  const files = ['README.md'];
  const walk = (dir: string) => {
    for (const entry of readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
      const rel = path.posix.join(dir, entry.name);
      if (entry.isDirectory()) walk(rel);
      else if (entry.name.endsWith('.md')) files.push(rel);
    }
  };
  walk('docs');
  walk('examples');
  return files.sort();
}

/** The page's text without fenced code blocks: a `#` line in a shell or YAML sample is not a heading. */
function withoutFences(text: string): string {
  return text.replace(/^ *(```|~~~)[^\n]*\n[\s\S]*?^ *\1[^\n]*$/gm, '');
}

/** The page's text with code blocks and code spans blanked: links inside code are not links. */
function prose(text: string): string {
  return withoutFences(text).replace(/`[^`\n]*`/g, '``');
}

/** Inline links and images: `[text](target)` and `![alt](target "title")`. */
function linksIn(text: string): string[] {
  return [...prose(text).matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((m) => m[1] ?? '');
}

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens, repeats numbered. */
function anchorsIn(text: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const m of withoutFences(text).matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const base = (m[1] ?? '')
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.add(n === 0 ? base : `${base}-${n}`);
  }
  return anchors;
}

describe('documentation links', () => {
  test('anchors follow GitHub: code, punctuation and case dropped, spaces to hyphens, repeats numbered', () => {
    const anchors = anchorsIn('# Containment: real, exactly once, undoable\n## Providers (`connectors.containment`)\n## Time\n## Time\n');
    assert.deepEqual([...anchors], ['containment-real-exactly-once-undoable', 'providers-connectorscontainment', 'time', 'time-1']);
  });

  test('links inside code are not links, and a title after the target is not part of it', () => {
    assert.deepEqual(linksIn('[a](docs/a.md "A") `[b](nowhere.md)`\n```\n[c](nowhere.md)\n```\n![d](img.png)'), ['docs/a.md', 'img.png']);
  });

  test('every relative link in README.md and docs/ reaches a file, and every fragment a heading', () => {
    const broken: string[] = [];
    const files = markdownFiles();
    assert.ok(files.length > 10, `found ${files.length} pages`);
    for (const file of files) {
      const text = readFileSync(path.join(ROOT, file), 'utf8');
      for (const link of linksIn(text)) {
        if (/^[a-z][a-z0-9+.-]*:/i.test(link)) continue; // http:, https:, mailto:
        const [target = '', fragment] = link.split('#');
        const resolved = target ? path.posix.normalize(path.posix.join(path.posix.dirname(file), decodeURI(target))) : file;
        if (resolved.startsWith('..')) {
          broken.push(`${file}: ${link} leaves the repository`);
          continue;
        }
        if (PENDING.has(resolved)) continue;
        const absolute = path.join(ROOT, resolved);
        if (!existsSync(absolute)) {
          broken.push(`${file}: ${link} (no ${resolved})`);
          continue;
        }
        if (fragment && statSync(absolute).isFile() && resolved.endsWith('.md')) {
          if (!anchorsIn(readFileSync(absolute, 'utf8')).has(fragment))
            broken.push(`${file}: ${link} (no heading #${fragment} in ${resolved})`);
        }
      }
    }
    assert.deepEqual(broken, []);
  });

  test('a pending target is still missing (once it lands, remove it from PENDING)', () => {
    for (const file of PENDING) assert.ok(!existsSync(path.join(ROOT, file)), `${file} exists now: remove it from PENDING`);
  });
});
