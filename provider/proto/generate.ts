// Pre-parses the .proto files into one protobufjs JSON descriptor so the provider starts without parsing.
// Run: npx tsx provider/proto/generate.ts   (the result, descriptors.json, is committed; a unit test
// checks it still matches the .proto sources).
import { writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';

export const PROTO_DIR = dirname(fileURLToPath(import.meta.url));
export const PROTO_FILES = ['tfplugin6.proto', 'grpc_controller.proto', 'grpc_stdio.proto', 'grpc_broker.proto', 'health.proto'];
export const DESCRIPTOR_FILE = join(PROTO_DIR, 'descriptors.json');

export function buildDescriptorJson(): string {
  const root = new protobuf.Root();
  // google/protobuf/*.proto come from protobufjs' bundled common definitions.
  root.resolvePath = (origin, target) =>
    target.startsWith('google/protobuf/') ? target : join(PROTO_DIR, basename(target));
  root.loadSync(PROTO_FILES.map((f) => join(PROTO_DIR, f)), { keepCase: true });
  root.resolveAll();
  return JSON.stringify(root.toJSON({ keepComments: false })) + '\n';
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(DESCRIPTOR_FILE, buildDescriptorJson());
  process.stderr.write(`wrote ${DESCRIPTOR_FILE}\n`);
}
