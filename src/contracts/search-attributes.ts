import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/**
 * Custom search attributes that make runs findable in the Temporal UI, e.g.
 * `Decision = "escalate" AND ApprovalState = "pending"`. `npm start` registers them on the embedded dev server;
 * on a production cluster register them once with `temporal operator search-attribute create` (see
 * docs/operations/deployment.md, "Production").
 */
export const SA = {
  alertSource: defineSearchAttributeKey('AlertSource', SearchAttributeType.KEYWORD),
  alertId: defineSearchAttributeKey('AlertId', SearchAttributeType.KEYWORD),
  alertUser: defineSearchAttributeKey('AlertUser', SearchAttributeType.KEYWORD),
  alertHost: defineSearchAttributeKey('AlertHost', SearchAttributeType.KEYWORD),
  destDomain: defineSearchAttributeKey('DestDomain', SearchAttributeType.KEYWORD),
  severity: defineSearchAttributeKey('Severity', SearchAttributeType.KEYWORD),
  decision: defineSearchAttributeKey('Decision', SearchAttributeType.KEYWORD),
  approvalState: defineSearchAttributeKey('ApprovalState', SearchAttributeType.KEYWORD),
  containmentState: defineSearchAttributeKey('ContainmentState', SearchAttributeType.KEYWORD),
  playbookStage: defineSearchAttributeKey('PlaybookStage', SearchAttributeType.KEYWORD),
  bytesOut: defineSearchAttributeKey('BytesOut', SearchAttributeType.INT),
} as const;

export const ALL_SEARCH_ATTRIBUTES = Object.values(SA);

/** `Name=Type` pairs as `temporal server start-dev --search-attribute` and `temporal operator` take them. */
export function searchAttributeCliArgs(): string[] {
  const cliType: Record<string, string> = { KEYWORD: 'Keyword', INT: 'Int' };
  return ALL_SEARCH_ATTRIBUTES.flatMap((key) => ['--search-attribute', `${key.name}=${cliType[key.type] ?? key.type}`]);
}

/**
 * The memo key under which a case keeps the uploads of its alerts (source, alert ID, event time, bytes: no user name),
 * so the day's recorded uploads of a user are read from one visibility listing (src/temporal/recorded-uploads.ts).
 */
export const UPLOADS_MEMO = 'uploads';
