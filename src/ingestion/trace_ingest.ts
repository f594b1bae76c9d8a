// The one place an OTLP trace or logs export is accepted, shared by the gRPC and HTTP receivers:
// authenticate → refuse when saturated → decode and validate → append to the WAL (fsynced) → answer.
// The export is acknowledged only after its record is on disk; malformed input is never written.
// The receivers call authenticate() as soon as the request's headers/metadata arrive and before
// they read or decompress a byte of the body, so an unauthenticated flood costs almost nothing;
// they count the body against the shared RequestBytesBudget as it arrives.

import { AppError, invalidInput, unauthorized } from '../errors.ts';
import type { ApiKeyValidator } from '../features/internal_auth/api_key_validator.ts';
import type { Logger } from '../logger.ts';
import type { OtlpPayloadFormat, OtlpSignal } from '../otlp/decode.ts';
import type { PartialSuccess } from '../otlp/types.ts';
import { type CheckedExport, checkExport } from '../spans/export_processor.ts';
import type { Backpressure } from './backpressure.ts';
import type { BudgetShare, RequestBytesBudget } from './request_budget.ts';
import type { WalRecordMeta } from './wal/record_format.ts';

export interface WalAppender {
  append(payload: Uint8Array, meta: WalRecordMeta): Promise<bigint>;
}

export interface IngestCounters {
  accepted_requests: number;
  accepted_spans: number;
  rejected_spans: number;
  accepted_log_records: number;
  rejected_log_records: number;
  refused_unauthenticated: number;
  refused_invalid: number;
  refused_backpressure: number;
  refused_busy: number;
  refused_too_large: number;
  refused_write_failed: number;
}

export interface TraceIngestDeps {
  validator: ApiKeyValidator;
  wal: WalAppender;
  backpressure: Backpressure;
  /** Request bytes (decompressed) held in memory at once across all exports. */
  requestBudget: RequestBytesBudget;
  maxRequestBytes: number;
  logger: Logger;
}

export interface ExportOutcome {
  /** Present when some spans (log records) were rejected (OTLP partial_success). */
  partialSuccess: PartialSuccess | null;
}

export class TraceIngest {
  readonly counters: IngestCounters = {
    accepted_requests: 0,
    accepted_spans: 0,
    rejected_spans: 0,
    accepted_log_records: 0,
    rejected_log_records: 0,
    refused_unauthenticated: 0,
    refused_invalid: 0,
    refused_backpressure: 0,
    refused_busy: 0,
    refused_too_large: 0,
    refused_write_failed: 0,
  };
  /** CPU the receiving thread spent decoding and validating exports (the rest of its time is gRPC/HTTP and the WAL). */
  readonly cpu = { decode_validate_ms: 0 };
  readonly #deps: TraceIngestDeps;

  constructor(deps: TraceIngestDeps) {
    this.#deps = deps;
  }

  /**
   * Checks the API key of a request whose body has not been read yet; resolves with the key's id,
   * which export() takes. Throws the (counted, logged) refusal for a missing or unknown key.
   */
  async authenticate(apiKey: string | undefined): Promise<string> {
    if (!apiKey) {
      this.#refuse('refused_unauthenticated', 'missing api key');
      throw unauthorized('Missing x-junjo-api-key header');
    }
    const result = await this.#deps.validator.validate(apiKey);
    if (!result.valid) {
      this.#refuse('refused_unauthenticated', 'invalid api key');
      throw unauthorized('Invalid API key');
    }
    return result.keyId;
  }

  /**
   * Accepts the body of a request that authenticate() let through as `apiKeyId`: an
   * ExportTraceServiceRequest, or with `signal` 'logs' an ExportLogsServiceRequest.
   */
  async export(
    apiKeyId: string,
    body: Uint8Array,
    format: OtlpPayloadFormat,
    signal: OtlpSignal = 'traces',
  ): Promise<ExportOutcome> {
    if (body.byteLength > this.#deps.maxRequestBytes) throw this.tooLarge(body.byteLength);
    const saturated = this.#deps.backpressure.check();
    if (saturated) {
      this.#refuse('refused_backpressure', saturated.message);
      throw saturated;
    }
    // Only the verdict (which spans are kept, and why the others are not): the poller builds the
    // rows from the WAL record, off this thread, so an acknowledgement costs a decode and a check.
    let checked: CheckedExport;
    const cpuBefore = process.threadCpuUsage();
    try {
      checked = checkExport(body, format, signal);
    } catch (error) {
      this.#refuse('refused_invalid', 'undecodable request', { err: error });
      throw error instanceof AppError ? error : invalidInput(`Undecodable export request: ${String(error)}`);
    } finally {
      const spent = process.threadCpuUsage(cpuBefore);
      this.cpu.decode_validate_ms += (spent.user + spent.system) / 1000;
    }
    const { accepted, rejected } = checked;
    if (accepted > 0) {
      try {
        await this.#deps.wal.append(body, { receivedAtMs: Date.now(), apiKeyId, format, signal });
      } catch (error) {
        this.#refuse('refused_write_failed', 'write-ahead log append failed', { err: error });
        throw new AppError('The server could not store the export durably; retry later', 'unavailable', 5);
      }
    }
    const items = signal === 'logs' ? 'log_records' : 'spans';
    this.counters.accepted_requests += 1;
    this.counters[`accepted_${items}`] += accepted;
    this.counters[`rejected_${items}`] += rejected.count;
    if (rejected.count === 0) return { partialSuccess: null };
    this.#deps.logger.warn(
      { rejected: rejected.count, reasons: rejected.errors.slice(0, 5) },
      `${items.replace('_', ' ')} rejected`,
    );
    return {
      partialSuccess: {
        rejectedSpans: rejected.count,
        errorMessage: rejected.errors.slice(0, 20).join('; '),
      },
    };
  }

  /**
   * Counts and logs a request refused for its size, and returns the error to answer with. Also called
   * by the HTTP receiver, whose body limit stops an oversized request before it reaches export().
   */
  tooLarge(bytes: number | null): AppError {
    this.#refuse('refused_too_large', 'request too large', bytes === null ? {} : { bytes });
    return new AppError(
      `Export request${bytes === null ? '' : ` of ${bytes} bytes`} exceeds the limit of ${this.#deps.maxRequestBytes} bytes; send smaller batches`,
      'too_large',
    );
  }

  /**
   * A new request's share of the in-flight bytes budget, or null when other requests hold all of it.
   * Either null or a failed add() is answered with tooBusy().
   */
  shareOfBudget(): BudgetShare | null {
    const budget = this.#deps.requestBudget;
    return budget.hasRoom() ? budget.share() : null;
  }

  /** Counts and logs a request refused because other requests hold the whole budget. */
  tooBusy(): AppError {
    this.#refuse('refused_busy', 'in-flight request bytes over budget', {
      limit_bytes: this.#deps.requestBudget.limitBytes,
    });
    return new AppError('The server is busy receiving other exports; retry later', 'too_many', 1);
  }

  #refuse(counter: keyof IngestCounters, reason: string, fields: Record<string, unknown> = {}): void {
    this.counters[counter] += 1;
    this.#deps.logger.warn({ ...fields, reason, refusals: this.counters[counter] }, 'export refused');
  }
}
