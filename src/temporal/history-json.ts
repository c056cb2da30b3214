/**
 * History JSON in the format other Temporal tools write (`temporal workflow show --output json`): proto3 JSON.
 *
 * Why not `historyToJSON` / `historyFromJSON` from @temporalio/common: when npm installs the SDK packages with their
 * own copies of protobufjs (as it did here before protobufjs 8 became a direct dependency), those helpers pair one
 * copy's JSON codec with another copy's types and throw "type must be a Type". Here both always come from
 * @temporalio/proto's copy, whatever the install layout.
 */
import type { History } from '@temporalio/common/lib/proto-utils';
import * as proto from '@temporalio/proto';
import { patchProtobufRoot } from '@temporalio/proto/lib/patch-protobuf-root';

interface ProtoJson {
  toJson(type: unknown, message: unknown): unknown;
  fromJson(type: unknown, json: unknown): unknown;
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const protojson = require(require.resolve('protobufjs/ext/protojson', { paths: [require.resolve('@temporalio/proto')] })) as ProtoJson;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const root: any = patchProtobufRoot(proto);
// eslint-disable-next-line @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-member-access
const historyType = root.lookupType('temporal.api.history.v1.History');

export function historyToJson(history: History): string {
  const message = proto.temporal.api.history.v1.History.fromObject(history);
  return JSON.stringify(protojson.toJson(historyType, message), null, 2);
}

export function historyFromJson(json: unknown): History {
  if (typeof json !== 'object' || json === null || !Array.isArray((json as { events?: unknown }).events)) {
    throw new TypeError('not a Temporal history: expected an object with an array of events');
  }
  return protojson.fromJson(historyType, json) as History;
}
