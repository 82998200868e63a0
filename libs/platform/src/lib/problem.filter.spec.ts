import type { ArgumentsHost } from '@nestjs/common';
import { ProblemDetailsFilter, ProblemException } from './problem.filter';

class PermanentFailure extends Error {}

/** The host Nest passes for a handler of another transport (here: the Payrail Kafka transport, type 'rpc'). */
function rpcHost(): ArgumentsHost {
  const notHttp = (): never => {
    throw new Error('not an HTTP context');
  };
  return {
    getType: () => 'rpc',
    getArgs: () => [],
    getArgByIndex: () => undefined,
    switchToHttp: notHttp,
    switchToRpc: () => ({ getData: () => undefined, getContext: () => undefined }),
    switchToWs: notHttp,
  } as unknown as ArgumentsHost;
}

/** An HTTP host whose reply records what the filter sends. */
function httpHost(sent: { status?: number; headers?: Record<string, string>; body?: Record<string, unknown> }): ArgumentsHost {
  const reply = {
    status: (s: number) => ((sent.status = s), reply),
    headers: (h: Record<string, string>) => ((sent.headers = h), reply),
    send: (b: Record<string, unknown>) => ((sent.body = b), reply),
  };
  return {
    getType: () => 'http',
    switchToHttp: () => ({ getResponse: () => reply, getRequest: () => ({ url: '/v1/payments' }), getNext: () => undefined }),
  } as unknown as ArgumentsHost;
}

describe('ProblemDetailsFilter', () => {
  const filter = new ProblemDetailsFilter();

  it('gives a Kafka handler its own error back, class intact, so the consumer can tell permanent from transient', () => {
    const error = new PermanentFailure('signature does not verify');
    let thrown: unknown;
    try {
      filter.catch(error, rpcHost());
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBe(error);
    expect(thrown).toBeInstanceOf(PermanentFailure);
  });

  it('answers an HTTP request with problem+json naming the problem type', () => {
    const sent: Parameters<typeof httpHost>[0] = {};
    filter.catch(new ProblemException(422, 'validation', 'invalid payment', 'amount.minor must be an integer', { errors: [{ pointer: '#/amount/minor', detail: 'not an integer' }] }), httpHost(sent));
    expect(sent.status).toBe(422);
    expect(sent.headers?.['content-type']).toBe('application/problem+json');
    expect(sent.body).toMatchObject({ type: 'https://payrail.dev/problems/validation', status: 422, instance: '/v1/payments', errors: [{ pointer: '#/amount/minor' }] });
  });
});
