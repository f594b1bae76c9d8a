// Split mode: the ingestion role serves its write-ahead log to the backend role's poller
// (InternalIngestionService.ReadSpans, :50052), and the backend reads it through GrpcWalSource.
// A ReadSpans call starting after key K also acknowledges that everything up to K is committed
// in DuckDB, which is when the ingestion role may delete those WAL segments. So K must be a key
// this log has handed out: a larger one is refused and changes nothing (it would delete records
// nobody has indexed, and push the next keys towards the end of the 64-bit range). K is also only
// meaningful for the node it came from: DescribeNode gives the node's id, every read names it, and a
// node with another id (an address now served by a different node) refuses and releases nothing.
import * as grpc from '@grpc/grpc-js';
import { invalidInput } from '../errors.ts';
import { toGrpcError } from '../grpc/grpc_status.ts';
import { internalProtoTypes } from '../grpc/internal_proto.ts';
import { internalSecretMetadata } from '../grpc/internal_secret.ts';
import type { Logger } from '../logger.ts';
import type { WalRecord } from './wal/record_format.ts';
import type { WriteAheadLog } from './wal/wal.ts';
import { NodeChangedError, PositionAheadError, type ReadLimits, type WalSource } from './wal_source.ts';

const READ_SPANS = '/ingestion.InternalIngestionService/ReadSpans';
const DESCRIBE_NODE = '/ingestion.InternalIngestionService/DescribeNode';
const DEFAULT_MAX_BYTES = 16 * 1024 * 1024;
/** ReadSpansResponse.format by enum number (internal_ingestion.proto PayloadFormat). */
const PAYLOAD_FORMATS: Pick<WalRecord, 'signal' | 'format'>[] = [
  { signal: 'traces', format: 'protobuf' },
  { signal: 'traces', format: 'json' },
  { signal: 'logs', format: 'protobuf' },
  { signal: 'logs', format: 'json' },
];

interface ReadSpansRequest {
  start_key: Uint8Array;
  batch_size: number;
  max_bytes: number;
  node_id: string;
}

interface NodeDescription {
  node_id: string;
}

const keyToBytes = (key: bigint): Buffer => {
  const bytes = Buffer.alloc(8);
  bytes.writeBigUInt64BE(key);
  return bytes;
};
const keyFromBytes = (bytes: Uint8Array): bigint | null => {
  if (bytes.length === 0) return null;
  if (bytes.length !== 8) throw invalidInput('a key is 8 bytes, big-endian');
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).readBigUInt64BE(0);
};

const readSpansMethod = (): grpc.MethodDefinition<ReadSpansRequest, WalRecord> => {
  const types = internalProtoTypes();
  return {
    path: READ_SPANS,
    requestStream: false,
    responseStream: true,
    requestSerialize: (request) => Buffer.from(types.readSpansRequest.encode(request).finish()),
    requestDeserialize: (bytes) => {
      const message = types.readSpansRequest.toObject(types.readSpansRequest.decode(bytes), {
        longs: Number,
        defaults: true,
      });
      return message as ReadSpansRequest;
    },
    responseSerialize: (record) =>
      Buffer.from(
        types.readSpansResponse
          .encode({
            key: keyToBytes(record.key),
            payload: record.payload,
            format: PAYLOAD_FORMATS.findIndex(
              (f) => f.signal === record.signal && f.format === record.format,
            ),
            received_at_unix_ms: record.receivedAtMs,
            api_key_id: record.apiKeyId,
          })
          .finish(),
      ),
    responseDeserialize: (bytes) => {
      const message = types.readSpansResponse.toObject(types.readSpansResponse.decode(bytes), {
        longs: Number,
        defaults: true,
      }) as {
        key: Uint8Array;
        payload: Uint8Array;
        format: number;
        received_at_unix_ms: number;
        api_key_id: string;
      };
      return {
        key: keyFromBytes(message.key) ?? 0n,
        payload: message.payload,
        ...(PAYLOAD_FORMATS[message.format] ?? PAYLOAD_FORMATS[0]!),
        receivedAtMs: message.received_at_unix_ms,
        apiKeyId: message.api_key_id,
      };
    },
  };
};

const describeNodeMethod = (): grpc.MethodDefinition<Record<string, never>, NodeDescription> => {
  const types = internalProtoTypes();
  return {
    path: DESCRIBE_NODE,
    requestStream: false,
    responseStream: false,
    requestSerialize: () => Buffer.from(types.describeNodeRequest.encode({}).finish()),
    requestDeserialize: () => ({}),
    responseSerialize: (description) => Buffer.from(types.describeNodeResponse.encode(description).finish()),
    responseDeserialize: (bytes) =>
      types.describeNodeResponse.toObject(types.describeNodeResponse.decode(bytes), {
        defaults: true,
      }) as NodeDescription,
  };
};

/**
 * Registers ReadSpans and DescribeNode on the ingestion role's internal server, backed by its
 * write-ahead log and identified by `nodeId` (node_id.ts).
 */
export function addReadSpansService(
  server: grpc.Server,
  wal: Pick<WriteAheadLog, 'readAfter' | 'releaseUpTo' | 'highestKey'>,
  nodeId: string,
  logger: Logger,
): void {
  const readSpans: grpc.handleServerStreamingCall<ReadSpansRequest, WalRecord> = (call) => {
    const { start_key, batch_size, max_bytes, node_id } = call.request;
    const limits = {
      maxRecords: Math.max(1, batch_size || 100),
      maxBytes: max_bytes || DEFAULT_MAX_BYTES,
    };
    (async () => {
      if (node_id && node_id !== nodeId) {
        throw new NodeChangedError(
          `this is ingestion node ${nodeId}, not ${node_id}: nothing read or released`,
        );
      }
      const afterKey = keyFromBytes(start_key);
      // highestKey() only grows, so a key that passes here is still valid when released.
      const highestKey = wal.highestKey();
      if (afterKey !== null && afterKey > highestKey) {
        throw invalidInput(
          `start key ${afterKey} is above the highest key this write-ahead log has handed out (${highestKey}): ` +
            "the backend's poller position is ahead of this ingestion node (its WAL directory replaced, or another node's?)",
        );
      }
      if (afterKey !== null) await wal.releaseUpTo(afterKey);
      for (const record of await wal.readAfter(afterKey, limits)) {
        if (!call.write(record)) await new Promise((resolve) => call.once('drain', resolve));
      }
      call.end();
    })().catch((error: unknown) => {
      logger.error({ err: error }, 'ReadSpans refused or failed');
      // emit('error') ends the call with this status; destroy() would send no status at all and
      // leave the backend's read hanging until its deadline.
      call.emit(
        'error',
        error instanceof NodeChangedError
          ? { code: grpc.status.FAILED_PRECONDITION, details: error.message, metadata: new grpc.Metadata() }
          : toGrpcError(error),
      );
    });
  };
  const describeNode: grpc.handleUnaryCall<Record<string, never>, NodeDescription> = (_call, callback) =>
    callback(null, { node_id: nodeId });
  server.addService(
    { ReadSpans: readSpansMethod(), DescribeNode: describeNodeMethod() },
    { ReadSpans: readSpans, DescribeNode: describeNode },
  );
}

/** The backend role's view of one ingestion node's WAL, over gRPC. */
export class GrpcWalSource implements WalSource {
  readonly #client: grpc.Client;
  readonly #method = readSpansMethod();
  readonly #describe = describeNodeMethod();
  readonly #secret: string;
  /** The node the reads are meant for, from the last identify(); reads name it. */
  #nodeId = '';

  constructor(address: string, internalSecret: string) {
    this.#client = new grpc.Client(address, grpc.credentials.createInsecure(), {
      'grpc.max_receive_message_length': -1,
      // A node that was down is noticed within seconds of its return (grpc-js waits up to 120 s).
      'grpc.initial_reconnect_backoff_ms': 500,
      'grpc.max_reconnect_backoff_ms': 5_000,
    });
    this.#secret = internalSecret;
  }

  identify(): Promise<string> {
    return new Promise((resolve, reject) =>
      this.#client.makeUnaryRequest(
        this.#describe.path,
        this.#describe.requestSerialize,
        this.#describe.responseDeserialize,
        {},
        internalSecretMetadata(this.#secret),
        { deadline: Date.now() + 30_000 },
        (error, description) => {
          if (error || !description) return reject(error ?? new Error('DescribeNode answered nothing'));
          this.#nodeId = description.node_id;
          resolve(description.node_id);
        },
      ),
    );
  }

  read(afterKey: bigint | null, limits: ReadLimits): Promise<WalRecord[]> {
    return new Promise((resolve, reject) => {
      const records: WalRecord[] = [];
      const stream = this.#client.makeServerStreamRequest(
        this.#method.path,
        this.#method.requestSerialize,
        this.#method.responseDeserialize,
        {
          start_key: afterKey === null ? Buffer.alloc(0) : keyToBytes(afterKey),
          batch_size: limits.maxRecords,
          max_bytes: limits.maxBytes,
          node_id: this.#nodeId,
        },
        internalSecretMetadata(this.#secret),
        { deadline: Date.now() + 60_000 },
      );
      stream.on('data', (record: WalRecord) => records.push(record));
      stream.on('error', (error: grpc.ServiceError) =>
        reject(
          error.code === grpc.status.INVALID_ARGUMENT && afterKey !== null
            ? new PositionAheadError(error.details)
            : error.code === grpc.status.FAILED_PRECONDITION
              ? new NodeChangedError(error.details)
              : error,
        ),
      );
      stream.on('end', () => resolve(records));
    });
  }

  /** The next read tells the ingestion role; nothing to do here. */
  async release(): Promise<void> {}

  close(): void {
    this.#client.close();
  }
}
