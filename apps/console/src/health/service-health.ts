/** Readiness of the services the console watches (their /health/ready), checked in the background. */
export interface ServiceHealthView {
  readonly service: string;
  readonly status: 'up' | 'down' | 'unreachable';
  readonly http_status?: number;
  readonly checked_at?: string;
}

export class ServiceHealth {
  private views: ServiceHealthView[];

  constructor(
    private readonly urls: Readonly<Record<string, string>>,
    private readonly fetchImpl: typeof fetch = fetch,
  ) {
    this.views = Object.keys(urls).map((service) => ({ service, status: 'unreachable' }));
  }

  current(): ServiceHealthView[] {
    return this.views;
  }

  async refresh(): Promise<void> {
    this.views = await Promise.all(
      Object.entries(this.urls).map(async ([service, url]): Promise<ServiceHealthView> => {
        const checked_at = new Date().toISOString();
        try {
          const res = await this.fetchImpl(`${url}/health/ready`, { redirect: 'error', signal: AbortSignal.timeout(2_000) });
          await res.arrayBuffer();
          return { service, status: res.status === 200 ? 'up' : 'down', http_status: res.status, checked_at };
        } catch {
          return { service, status: 'unreachable', checked_at };
        }
      }),
    );
  }
}
