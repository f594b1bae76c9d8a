// Split mode: the backend role answers InternalAuthService.ValidateApiKey (:50053) from its own
// validator, and the ingestion role checks keys through GrpcApiKeyValidator. Positive answers are
// remembered for at most a second so a deleted key stops working within one second.
import * as grpc from '@grpc/grpc-js';
import { unavailable } from '../../errors.ts';
import { toGrpcError } from '../../grpc/grpc_status.ts';
import { internalProtoTypes } from '../../grpc/internal_proto.ts';
import { internalSecretMetadata } from '../../grpc/internal_secret.ts';
import type { Logger } from '../../logger.ts';
import type { ApiKeyValidation, ApiKeyValidator } from './api_key_validator.ts';

const VALIDATE = '/ingestion.InternalAuthService/ValidateApiKey';
const POSITIVE_CACHE_MS = 500;
const MAX_CACHE_ENTRIES = 10_000;

interface ValidateRequest {
  api_key: string;
}
interface ValidateResponse {
  is_valid: boolean;
  key_id: string;
}

const validateMethod = (): grpc.MethodDefinition<ValidateRequest, ValidateResponse> => {
  const types = internalProtoTypes();
  const codec = <T extends object>(type: typeof types.validateApiKeyRequest) => ({
    serialize: (value: T) => Buffer.from(type.encode(value).finish()),
    deserialize: (bytes: Buffer) => type.toObject(type.decode(bytes), { defaults: true }) as T,
  });
  const request = codec<ValidateRequest>(types.validateApiKeyRequest);
  const response = codec<ValidateResponse>(types.validateApiKeyResponse);
  return {
    path: VALIDATE,
    requestStream: false,
    responseStream: false,
    requestSerialize: request.serialize,
    requestDeserialize: request.deserialize,
    responseSerialize: response.serialize,
    responseDeserialize: response.deserialize,
  };
};

export function addValidateApiKeyService(
  server: grpc.Server,
  validator: ApiKeyValidator,
  logger: Logger,
): void {
  server.addService(
    { ValidateApiKey: validateMethod() },
    {
      ValidateApiKey: (
        call: grpc.ServerUnaryCall<ValidateRequest, ValidateResponse>,
        callback: grpc.sendUnaryData<ValidateResponse>,
      ) => {
        validator.validate(call.request.api_key).then(
          (result) => callback(null, { is_valid: result.valid, key_id: result.valid ? result.keyId : '' }),
          (error: unknown) => {
            logger.error({ err: error }, 'ValidateApiKey failed');
            callback(toGrpcError(error));
          },
        );
      },
    },
  );
}

export class GrpcApiKeyValidator implements ApiKeyValidator {
  readonly #client: grpc.Client;
  readonly #method = validateMethod();
  readonly #cache = new Map<string, { keyId: string; until: number }>();
  readonly #secret: string;
  readonly #logger: Logger;

  constructor(address: string, internalSecret: string, logger: Logger) {
    this.#client = new grpc.Client(address, grpc.credentials.createInsecure());
    this.#secret = internalSecret;
    this.#logger = logger;
  }

  async validate(apiKey: string): Promise<ApiKeyValidation> {
    const cached = this.#cache.get(apiKey);
    if (cached && cached.until > Date.now()) return { valid: true, keyId: cached.keyId };
    const response = await new Promise<ValidateResponse>((resolve, reject) =>
      this.#client.makeUnaryRequest(
        this.#method.path,
        this.#method.requestSerialize,
        this.#method.responseDeserialize,
        { api_key: apiKey },
        internalSecretMetadata(this.#secret),
        { deadline: Date.now() + 5000 },
        (error, value) => (error || !value ? reject(error) : resolve(value)),
      ),
    ).catch((error: grpc.ServiceError) => {
      // A refused secret is a deployment error the operator must see; the exporter only learns
      // that the check is unavailable.
      if (error?.code === grpc.status.UNAUTHENTICATED) {
        this.#logger.error(
          { details: error.details },
          'the backend refused this ingestion role: JUNJO_INTERNAL_SECRET differs between the roles',
        );
      }
      throw unavailable('API key check is temporarily unavailable; retry later', 5);
    });
    if (!response.is_valid) {
      this.#cache.delete(apiKey);
      return { valid: false };
    }
    if (this.#cache.size >= MAX_CACHE_ENTRIES) this.#cache.clear();
    this.#cache.set(apiKey, { keyId: response.key_id, until: Date.now() + POSITIVE_CACHE_MS });
    return { valid: true, keyId: response.key_id };
  }

  close(): void {
    this.#client.close();
  }
}
