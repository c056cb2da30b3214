/** The keys a schema accepts, for the configuration reference (docs/configuration.md) and its test. */
import type { z } from 'zod';
import { defOf, isSecret } from './secret';

const WRAPPERS = new Set(['optional', 'nullable', 'default', 'prefault', 'readonly', 'nonoptional', 'catch']);

/** The schema with wrappers (optional, default, a trailing transform) taken off. */
function unwrap(schema: z.ZodType): z.ZodType {
  const def = defOf(schema);
  if (isSecret(schema)) return schema;
  if (WRAPPERS.has(def.type)) return unwrap(def.innerType as z.ZodType);
  if (def.type === 'pipe') {
    const out = def.out as z.ZodType;
    return unwrap(defOf(out).type === 'transform' ? (def.in as z.ZodType) : out);
  }
  return schema;
}

export interface KeyInfo {
  /** Dotted path; `[]` stands for every element of a list. */
  key: string;
  secret: boolean;
}

/** Every leaf key of the schema: the keys a reader can set. Objects and lists of objects are followed; unions of objects contribute the keys of each option. */
export function leafKeys(schema: z.ZodType, prefix = ''): KeyInfo[] {
  const inner = unwrap(schema);
  const def = defOf(inner);
  const at = (key: string) => (prefix ? `${prefix}.${key}` : key);
  if (!isSecret(inner) && def.type === 'object') {
    return Object.entries(def.shape as Record<string, z.ZodType>).flatMap(([key, child]) => leafKeys(child, at(key)));
  }
  if (!isSecret(inner) && def.type === 'array') {
    const element = unwrap(def.element as z.ZodType);
    if (defOf(element).type === 'object' && !isSecret(element)) return leafKeys(element, `${prefix}[]`);
  }
  if (!isSecret(inner) && def.type === 'union') {
    const objects = (def.options as z.ZodType[]).map(unwrap).filter((o) => defOf(o).type === 'object');
    if (objects.length > 0) {
      const seen = new Map<string, KeyInfo>();
      for (const option of objects) {
        for (const info of leafKeys(option, prefix)) {
          const known = seen.get(info.key);
          seen.set(info.key, { key: info.key, secret: info.secret || (known?.secret ?? false) });
        }
      }
      return [...seen.values()];
    }
  }
  const element = def.type === 'array' ? unwrap(def.element as z.ZodType) : inner;
  return [{ key: prefix, secret: isSecret(inner) || isSecret(element) }];
}
