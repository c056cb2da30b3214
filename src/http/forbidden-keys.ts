/**
 * Where a JSON body holds a key that could poison prototypes (`__proto__`, or `constructor` with a `prototype`), so a
 * refusal can name it: `alerts.0.__proto__`, not only "forbidden prototype property". Called only after the safe
 * parser refused the text; plain JSON.parse makes such keys own properties, never prototypes, so reading is safe.
 */
export function forbiddenKeyPath(text: string): string | null {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return null;
  }
  const walk = (value: unknown, path: string[]): string | null => {
    if (value === null || typeof value !== 'object') return null;
    const entries: [string, unknown][] = Array.isArray(value)
      ? value.map((v: unknown, i): [string, unknown] => [String(i), v])
      : Object.entries(value);
    for (const [key, child] of entries) {
      const here = [...path, key];
      if (!Array.isArray(value)) {
        if (key === '__proto__') return here.join('.');
        if (key === 'constructor' && child !== null && typeof child === 'object' && Object.hasOwn(child, 'prototype')) {
          return [...here, 'prototype'].join('.');
        }
      }
      const found = walk(child, here);
      if (found) return found;
    }
    return null;
  };
  return walk(doc, []);
}
