// The project's internal and google.rpc .proto files, loaded once with protobufjs on first use.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';

const PROTO_DIR = fileURLToPath(new URL('../../proto/', import.meta.url));

export interface InternalProtoTypes {
  readSpansRequest: protobuf.Type;
  readSpansResponse: protobuf.Type;
  describeNodeRequest: protobuf.Type;
  describeNodeResponse: protobuf.Type;
  validateApiKeyRequest: protobuf.Type;
  validateApiKeyResponse: protobuf.Type;
  rpcStatus: protobuf.Type;
  retryInfo: protobuf.Type;
}

let loaded: InternalProtoTypes | undefined;

export function internalProtoTypes(): InternalProtoTypes {
  if (loaded) return loaded;
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) =>
    target.startsWith('google/protobuf/') ? target : path.join(PROTO_DIR, target);
  root.loadSync(['junjo/internal_ingestion.proto', 'junjo/internal_auth.proto', 'google/rpc/status.proto'], {
    keepCase: true,
  });
  root.resolveAll();
  loaded = {
    readSpansRequest: root.lookupType('ingestion.ReadSpansRequest'),
    readSpansResponse: root.lookupType('ingestion.ReadSpansResponse'),
    describeNodeRequest: root.lookupType('ingestion.DescribeNodeRequest'),
    describeNodeResponse: root.lookupType('ingestion.DescribeNodeResponse'),
    validateApiKeyRequest: root.lookupType('ingestion.ValidateApiKeyRequest'),
    validateApiKeyResponse: root.lookupType('ingestion.ValidateApiKeyResponse'),
    rpcStatus: root.lookupType('google.rpc.Status'),
    retryInfo: root.lookupType('google.rpc.RetryInfo'),
  };
  return loaded;
}
