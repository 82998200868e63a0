// RFC 9457 problem details for every HTTP error: a type URI per failure, the HTTP status, a human title and
// detail, and for validation the offending fields (`errors[].pointer`, a JSON Pointer into the request). Errors of
// Kafka handlers pass through untouched.
import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';

export interface ProblemField {
  pointer: string;
  detail: string;
}

export class ProblemException extends Error {
  constructor(
    readonly status: number,
    readonly problemType: string,
    readonly title: string,
    readonly detail: string,
    readonly extra: Record<string, unknown> & { errors?: ProblemField[] } = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(detail);
  }
}

export const PROBLEM_BASE = 'https://payrail.dev/problems/';

const KNOWN_HTTP_PROBLEMS: Partial<Record<number, string>> = { 413: 'body-too-large', 415: 'unsupported-media-type' };

@Catch()
export class ProblemDetailsFilter implements ExceptionFilter {
  private readonly logger = new Logger('http');

  catch(exception: unknown, host: ArgumentsHost): void {
    // Kafka handlers (the Payrail transport inherits the app's filters) get their error back unchanged: the
    // consumer decides from its class whether to retry or dead-letter (a PermanentError is never retried)
    if (host.getType() !== 'http') throw exception;
    const http = host.switchToHttp();
    const reply = http.getResponse<FastifyReply>();
    const request = http.getRequest<FastifyRequest>();
    let status = HttpStatus.INTERNAL_SERVER_ERROR;
    let body: Record<string, unknown>;
    let headers: Record<string, string> = {};
    if (exception instanceof ProblemException) {
      status = exception.status;
      headers = exception.headers;
      body = { type: `${PROBLEM_BASE}${exception.problemType}`, title: exception.title, status, detail: exception.detail, ...exception.extra };
    } else if (exception instanceof HttpException) {
      status = exception.getStatus();
      const response = exception.getResponse();
      const detail = typeof response === 'string' ? response : String((response as { message?: unknown }).message ?? exception.message);
      // Nest turns Fastify's body-limit and media-type errors into HttpExceptions: keep their problem types
      const known = KNOWN_HTTP_PROBLEMS[status];
      body = { type: known ? `${PROBLEM_BASE}${known}` : 'about:blank', title: HttpStatus[status]?.replace(/_/g, ' ').toLowerCase() ?? 'error', status, detail };
    } else if (isFastifyError(exception)) {
      status = exception.statusCode;
      const type = exception.code === 'FST_ERR_CTP_BODY_TOO_LARGE' ? 'body-too-large' : exception.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' ? 'unsupported-media-type' : 'bad-request';
      body = { type: `${PROBLEM_BASE}${type}`, title: exception.message, status, detail: exception.message };
    } else {
      this.logger.error({ err: exception instanceof Error ? { name: exception.name, message: exception.message, stack: exception.stack } : String(exception) }, 'unhandled error');
      body = { type: 'about:blank', title: 'internal server error', status, detail: 'An unexpected error occurred; it has been logged.' };
    }
    body['instance'] = request.url;
    void reply.status(status).headers({ 'content-type': 'application/problem+json', ...headers }).send(body);
  }
}

function isFastifyError(e: unknown): e is { statusCode: number; code: string; message: string } {
  return typeof e === 'object' && e !== null && typeof (e as { statusCode?: unknown }).statusCode === 'number' && typeof (e as { code?: unknown }).code === 'string';
}
