/**
 * A tiny GraphQL-over-HTTP client for the shop router: one POST per call, typed results,
 * errors carrying their `extensions.code`, and one polite retry after HTTP 429.
 * No framework and no runtime dependencies; needs `fetch` (browsers, Node 18+).
 */

/** Where `cargo run` (at the repository root) serves the router. */
export const DEFAULT_ENDPOINT = "http://localhost:4000/graphql";

/**
 * The `extensions.code` values clients should expect. The backend sends the first seven;
 * the router's own validation errors carry other codes (e.g. from query validation);
 * `NETWORK_ERROR` and `BAD_RESPONSE` are made up by this client when there is no usable
 * GraphQL response at all.
 */
export type ErrorCode =
  | "BAD_USER_INPUT"
  | "NOT_FOUND"
  | "FORBIDDEN"
  | "UNAUTHENTICATED"
  | "INTERNAL"
  | "SERVICE_UNAVAILABLE"
  | "RATE_LIMITED"
  | "NETWORK_ERROR"
  | "BAD_RESPONSE"
  | (string & {});

/** One entry of a GraphQL response's `errors`. */
export interface GraphQLErrorEntry {
  message: string;
  locations?: { line: number; column: number }[];
  path?: (string | number)[];
  extensions?: { code?: ErrorCode; [key: string]: unknown };
}

/** Operation variables: a JSON object. */
export type Variables = Record<string, unknown>;

declare const operationTypes: unique symbol;

/**
 * An operation document that remembers its result and variables types. At runtime it is
 * just the document string; the phantom property only exists for the type checker, so
 * `graphql(ProductList, { first: 10 })` infers `ProductListData`.
 */
export type TypedOperation<TData, TVariables> = string & {
  readonly [operationTypes]?: (variables: TVariables) => TData;
};

/** Tags a document string with the types of its result and variables. */
export function typedOperation<TData, TVariables>(document: string): TypedOperation<TData, TVariables> {
  return document as TypedOperation<TData, TVariables>;
}

/** Thrown for every failed call: transport failure, HTTP error, or GraphQL `errors`. */
export class GraphQLRequestError extends Error {
  /** HTTP status of the (last) response; 0 when no response arrived. */
  readonly status: number;
  /** The GraphQL errors (a synthetic one when the server sent none). */
  readonly errors: readonly GraphQLErrorEntry[];
  /** `extensions.code` of every error, in order (`"UNKNOWN"` when one has none). */
  readonly codes: readonly ErrorCode[];
  /** Partial `data`, when the server resolved part of the operation. */
  readonly data: unknown;
  /** Seconds the server asked us to wait (HTTP 429 `Retry-After`), if it said. */
  readonly retryAfterSeconds: number | undefined;

  constructor(
    errors: readonly GraphQLErrorEntry[],
    init: { status: number; data?: unknown; retryAfterSeconds?: number | undefined; cause?: unknown },
  ) {
    super(errors.map((e) => e.message).join("; ") || `GraphQL request failed (HTTP ${init.status})`, {
      cause: init.cause,
    });
    this.name = "GraphQLRequestError";
    this.status = init.status;
    this.errors = errors;
    this.codes = errors.map((e) => e.extensions?.code ?? "UNKNOWN");
    this.data = init.data;
    this.retryAfterSeconds = init.retryAfterSeconds;
  }

  /** Whether any of the errors has this code, e.g. `err.hasCode("NOT_FOUND")`. */
  hasCode(code: ErrorCode): boolean {
    return this.codes.includes(code);
  }
}

export interface ClientOptions {
  /** The router's GraphQL endpoint; default {@link DEFAULT_ENDPOINT}. */
  endpoint?: string;
  /** Headers sent with every request (e.g. `authorization`, once identity exists). */
  headers?: Record<string, string>;
  /** A `fetch` implementation; default the global one. */
  fetch?: typeof fetch;
  /** Longest 429 wait to sit out before the single retry; longer waits throw at once. Default 10 000 ms. */
  maxRetryWaitMs?: number;
}

export interface RequestOptions {
  /** Cancels the request (and a pending 429 wait). */
  signal?: AbortSignal;
  /** Extra headers for this request only. */
  headers?: Record<string, string>;
}

export interface GraphQLClient {
  /**
   * Runs an operation and resolves with its `data`, or throws {@link GraphQLRequestError}.
   * With a typed operation from ./operations.ts the types are inferred; with a plain document
   * string give them: `graphql<MyData, MyVariables>(document, variables)`.
   */
  graphql<TData = unknown, TVariables = Variables>(
    operation: TypedOperation<TData, TVariables> | string,
    variables: TVariables,
    options?: RequestOptions,
  ): Promise<TData>;
}

/** When no usable `Retry-After` came with a 429 (e.g. a proxy answered), wait this long. */
const DEFAULT_RETRY_AFTER_SECONDS = 1;

export function createClient(options: ClientOptions = {}): GraphQLClient {
  const endpoint = options.endpoint ?? DEFAULT_ENDPOINT;
  const maxRetryWaitMs = options.maxRetryWaitMs ?? 10_000;
  // Call the global fetch through a wrapper: browsers reject a detached `fetch` ("Illegal invocation").
  const fetchImpl: typeof fetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));

  async function graphql<TData, TVariables>(
    operation: TypedOperation<TData, TVariables> | string,
    variables: TVariables,
    request: RequestOptions = {},
  ): Promise<TData> {
    const body = JSON.stringify({ query: operation, operationName: operationNameOf(operation), variables });
    for (let attempt = 0; ; attempt++) {
      let response: Response;
      try {
        response = await fetchImpl(endpoint, {
          method: "POST",
          headers: {
            ...options.headers,
            ...request.headers,
            "content-type": "application/json",
            accept: "application/graphql-response+json, application/json;q=0.9",
          },
          body,
          // Cookies and HTTP auth go to our own origin only, never to another site. The router
          // does not allow credentialed CORS anyway (`allow_credentials: false`).
          credentials: "same-origin",
          mode: "cors",
          ...(request.signal ? { signal: request.signal } : {}),
        });
      } catch (cause) {
        if (isAbort(cause)) throw cause;
        throw new GraphQLRequestError(
          [{ message: `cannot reach ${endpoint}: ${String(cause)}`, extensions: { code: "NETWORK_ERROR" } }],
          { status: 0, cause },
        );
      }

      const retryAfterSeconds =
        response.status === 429 ? (parseRetryAfter(response.headers.get("retry-after")) ?? DEFAULT_RETRY_AFTER_SECONDS) : undefined;
      if (retryAfterSeconds !== undefined && attempt === 0 && retryAfterSeconds * 1000 <= maxRetryWaitMs) {
        await response.body?.cancel().catch(() => undefined);
        await sleep(retryAfterSeconds * 1000, request.signal);
        continue; // exactly one retry
      }

      const payload = await readJson(response);
      const errors = payload?.errors ?? [];
      if (payload === undefined || errors.length > 0 || !response.ok || payload.data == null) {
        throw new GraphQLRequestError(
          errors.length > 0
            ? errors
            : [{ message: `unexpected response (HTTP ${response.status})`, extensions: { code: "BAD_RESPONSE" } }],
          { status: response.status, data: payload?.data ?? undefined, retryAfterSeconds },
        );
      }
      return payload.data as TData;
    }
  }

  return { graphql };
}

/** A client for {@link DEFAULT_ENDPOINT}; use {@link createClient} for another URL or headers. */
export const { graphql } = createClient();

// ---------------------------------------------------------------------------

interface ResponsePayload {
  data?: unknown;
  errors?: GraphQLErrorEntry[];
}

async function readJson(response: Response): Promise<ResponsePayload | undefined> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await response.text());
  } catch {
    return undefined;
  }
  if (typeof parsed !== "object" || parsed === null) return undefined;
  const { data, errors } = parsed as { data?: unknown; errors?: unknown };
  return {
    data,
    errors: Array.isArray(errors) ? errors.map(toErrorEntry) : [],
  };
}

function toErrorEntry(raw: unknown): GraphQLErrorEntry {
  if (typeof raw === "object" && raw !== null && typeof (raw as { message?: unknown }).message === "string") {
    return raw as GraphQLErrorEntry;
  }
  return { message: String(raw) };
}

/** `Retry-After` is either delay-seconds or an HTTP date (RFC 9110 §10.2.3). */
function parseRetryAfter(value: string | null): number | undefined {
  if (value === null) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number.parseInt(trimmed, 10);
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - Date.now()) / 1000));
}

/** The name of the document's first operation, sent as `operationName` for server logs and metrics. */
function operationNameOf(document: string): string | undefined {
  const withoutComments = document.replace(/#[^\n\r]*/g, "");
  return /\b(?:query|mutation|subscription)\s+([_A-Za-z][_0-9A-Za-z]*)/.exec(withoutComments)?.[1];
}

function isAbort(error: unknown): boolean {
  return typeof error === "object" && error !== null && (error as { name?: unknown }).name === "AbortError";
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
