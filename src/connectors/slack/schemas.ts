/** Slack Web API responses and the interaction payload, validated at the edge (only the fields we use). */
import { z } from 'zod';

export const authTestResponse = z.looseObject({ ok: z.literal(true), team_id: z.string(), user_id: z.string() });

export const postMessageResponse = z.looseObject({ ok: z.literal(true), channel: z.string().min(1), ts: z.string().min(1) });

export const updateResponse = z.looseObject({ ok: z.literal(true), channel: z.string(), ts: z.string() });

export const userGroupUsersResponse = z.looseObject({ ok: z.literal(true), users: z.array(z.string()) });

export const usersInfoResponse = z.looseObject({
  ok: z.literal(true),
  user: z.looseObject({
    id: z.string(),
    name: z.string().optional(),
    deleted: z.boolean().optional(),
    is_bot: z.boolean().optional(),
    profile: z.looseObject({ email: z.string().optional() }).optional(),
  }),
});

const id = (pattern: RegExp) => z.string().regex(pattern);

/**
 * A `block_actions` interaction from a button in a message (Slack's shape; extra fields are allowed and ignored).
 * https://docs.slack.dev/reference/interaction-payloads/block_actions-payload
 */
export const blockActionsPayload = z.looseObject({
  type: z.literal('block_actions'),
  api_app_id: z.string(),
  team: z.looseObject({ id: z.string() }),
  user: z.looseObject({ id: id(/^[UW][A-Z0-9]{2,}$/), username: z.string().optional(), name: z.string().optional() }),
  container: z.looseObject({
    type: z.literal('message'),
    message_ts: z.string().min(1),
    channel_id: z.string().min(1),
  }),
  channel: z.looseObject({ id: z.string() }).optional(),
  response_url: z.url().optional(),
  actions: z
    .array(
      z.looseObject({
        action_id: z.string(),
        block_id: z.string().optional(),
        type: z.string(),
        value: z.string().max(2000).optional(),
        action_ts: z.string(),
      }),
    )
    .min(1),
});
export type BlockActionsPayload = z.infer<typeof blockActionsPayload>;

/** The button's value, as we wrote it. */
export const buttonValueSchema = z.strictObject({
  w: z.string().regex(/^[A-Za-z0-9._:@-]{1,200}$/),
  r: z.string().min(1).max(100),
  d: z.string().regex(/^sha256:[0-9a-f]{64}$/),
});
