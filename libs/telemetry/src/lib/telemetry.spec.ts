import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { activeTraceId, activeTraceparent, currentLogContext, startConsumerSpan, startTelemetry, tracingActive, tracingRequested, withConsumerSpan, withLogContext } from '../index';

const REMOTE = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

describe('trace context across a Kafka hop', () => {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });

  beforeAll(() => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    trace.setGlobalTracerProvider(provider);
  });
  afterEach(() => exporter.reset());
  afterAll(async () => {
    await provider.shutdown();
    trace.disable();
    propagation.disable();
    context.disable();
  });

  it('continues the producer\'s trace in a consumer span and hands the same trace to what the handler publishes', async () => {
    const seen = await withConsumerSpan(REMOTE, 'payrail.payments.signed.v1 process', { 'payment.id': 'p-1' }, async () => {
      await new Promise((r) => setTimeout(r, 1));
      return { traceparent: activeTraceparent(), traceId: activeTraceId() };
    });
    expect(seen.traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(seen.traceparent).toMatch(/^00-4bf92f3577b34da6a3ce929d0e0e4736-[0-9a-f]{16}-01$/);
    const [span] = exporter.getFinishedSpans();
    expect(span?.parentSpanContext?.spanId).toBe('00f067aa0ba902b7');
    expect(span?.attributes['payment.id']).toBe('p-1');
  });

  it('starts a new trace when the event carries no or a malformed traceparent', async () => {
    const ids = await Promise.all(
      [undefined, 'not-a-traceparent'].map((tp) => withConsumerSpan(tp, 'x process', {}, async () => activeTraceId())),
    );
    expect(ids[0]).toMatch(/^[0-9a-f]{32}$/);
    expect(ids[1]).toMatch(/^[0-9a-f]{32}$/);
    expect(ids[0]).not.toBe(ids[1]);
  });

  it('marks the span failed and rethrows when the handler throws', async () => {
    await expect(withConsumerSpan(REMOTE, 'x process', {}, async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    const [span] = exporter.getFinishedSpans();
    expect(span?.status.code).toBe(2);
    expect(span?.events.some((e) => e.name === 'exception')).toBe(true);
  });

  it('builds the span from attributes given as a function', async () => {
    await withConsumerSpan(REMOTE, 'x process', () => ({ 'payment.id': 'p-2' }), async () => undefined);
    expect(exporter.getFinishedSpans()[0]?.attributes['payment.id']).toBe('p-2');
    expect(tracingActive()).toBe(true);
  });

  it('opens a span per event of a batch without making it active: its traceparent is what the outputs carry', () => {
    const spans = ['p-1', 'p-2'].map((id) => startConsumerSpan(REMOTE, 'payrail.payments.screened.v1 process', () => ({ 'payment.id': id })));
    expect(activeTraceparent()).toBeUndefined(); // none of them is active
    expect(spans[0]?.traceparent).toMatch(/^00-4bf92f3577b34da6a3ce929d0e0e4736-[0-9a-f]{16}-01$/);
    expect(spans[0]?.traceparent).not.toBe(spans[1]?.traceparent);
    spans[0]?.end();
    spans[1]?.end(new Error('dead-lettered'));
    const finished = exporter.getFinishedSpans();
    expect(finished.map((s) => [s.attributes['payment.id'], s.parentSpanContext?.spanId, s.status.code])).toEqual([
      ['p-1', '00f067aa0ba902b7', 0],
      ['p-2', '00f067aa0ba902b7', 2],
    ]);
    expect(spans[0]?.traceparent?.split('-')[2]).toBe(finished[0]?.spanContext().spanId);
  });

  it('has no traceparent outside any span', () => {
    expect(activeTraceparent()).toBeUndefined();
    expect(activeTraceId()).toBeUndefined();
  });
});

describe('consumer spans with tracing off (no tracer provider registered)', () => {
  it('opens no span for a batch event', () => {
    expect(startConsumerSpan(REMOTE, 'x process', () => { throw new Error('attributes built'); })).toBeUndefined();
  });

  it('runs the handler alone: no span, no trace id, attributes never built', async () => {
    expect(tracingActive()).toBe(false);
    const attributes = jest.fn(() => ({ 'payment.id': 'p-3' }));
    const seen = await withConsumerSpan(REMOTE, 'x process', attributes, async () => ({ traceId: activeTraceId(), traceparent: activeTraceparent() }));
    expect(seen).toEqual({ traceId: undefined, traceparent: undefined });
    expect(attributes).not.toHaveBeenCalled();
    await expect(withConsumerSpan(REMOTE, 'x process', {}, async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
  });
});

describe('log context', () => {
  it('is visible across awaits inside, merged when nested, and gone outside', async () => {
    const inner = await withLogContext({ payment_id: 'p-1' }, async () => {
      await new Promise((r) => setTimeout(r, 1));
      return withLogContext({ event_id: 'e-1' }, () => currentLogContext());
    });
    expect(inner).toEqual({ payment_id: 'p-1', event_id: 'e-1' });
    expect(currentLogContext()).toEqual({});
  });
});

describe('tracing switch', () => {
  it('is off without an exporter, on with one, and off whenever OTEL_SDK_DISABLED=true', () => {
    expect(tracingRequested({})).toBe(false);
    expect(tracingRequested({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })).toBe(true);
    expect(tracingRequested({ OTEL_TRACES_EXPORTER: 'console' })).toBe(true);
    expect(tracingRequested({ OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' })).toBe(false);
    expect(tracingRequested({ OTEL_SDK_DISABLED: 'true', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' })).toBe(false);
  });

  it('does not start the SDK when off', async () => {
    const t = startTelemetry('ingest', {});
    expect(t.enabled).toBe(false);
    await expect(t.shutdown()).resolves.toBeUndefined();
  });
});
