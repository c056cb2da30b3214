/** `slack`: approvals in Slack. Without it the request goes to the log and approvers decide with the CLI. */
import { z } from 'zod';
import { secret } from './secret';

const slackUserId = z.string().regex(/^[UW][A-Z0-9]{2,}$/, 'must be a Slack user ID such as U012AB3CD');
const slackGroupId = z.string().regex(/^S[A-Z0-9]{2,}$/, 'must be a Slack user group ID such as S0614TZR7');
const slackChannelId = z.string().regex(/^[CGD][A-Z0-9]{2,}$/, 'must be a Slack channel ID such as C024BE91L');

export const slackSection = z.strictObject({
  /** Bot token (xoxb-...); prefer `env:SLACK_BOT_TOKEN`. */
  botToken: secret(),
  /** The app's signing secret; prefer `env:SLACK_SIGNING_SECRET`. */
  signingSecret: secret(),
  /** Interactions from any other workspace or app are refused. */
  teamId: z.string().regex(/^[TE][A-Z0-9]{2,}$/, 'must be a Slack team ID such as T0001'),
  appId: z.string().regex(/^A[A-Z0-9]{2,}$/, 'must be a Slack app ID such as A0KRD7HC3'),
  /** Where approval requests are posted. */
  channel: slackChannelId,
  /** Slack's Web API base; tests point it at a stand-in. */
  apiUrl: z.url().default('https://slack.com/api/'),
  /** Outcomes are reported to the clicker through `response_url` only when it starts with this. */
  responseUrlPrefix: z.url().default('https://hooks.slack.com/'),
  approvers: z
    .strictObject({
      users: z.array(slackUserId).default([]),
      userGroups: z.array(slackGroupId).default([]),
    })
    .refine((a) => a.users.length + a.userGroups.length > 0, 'name at least one approver user or user group'),
  /** Slack user ID -> directory user name; users not listed map by the local part of their Slack e-mail. */
  userMap: z
    .record(z.string(), z.string().min(1))
    .superRefine((map, ctx) => {
      for (const key of Object.keys(map)) {
        if (!slackUserId.safeParse(key).success) {
          ctx.addIssue({ code: 'custom', path: [key], message: 'must be a Slack user ID such as U012AB3CD' });
        }
      }
    })
    .default({}),
  /** Map unlisted users by their Slack profile e-mail (needs users:read.email); false: only userMap counts. */
  mapUsersByEmail: z.boolean().default(true),
  /** After the approval window: post to this channel and/or mention this group, whose members may then decide. */
  escalation: z
    .strictObject({ channel: slackChannelId.optional(), userGroup: slackGroupId.optional() })
    .refine((e) => e.channel !== undefined || e.userGroup !== undefined, 'name a channel, a user group or both')
    .optional(),
});
