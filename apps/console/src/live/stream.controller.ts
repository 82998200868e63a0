import { Controller, Get, MessageEvent, Sse, UseGuards } from '@nestjs/common';
import { Observable, concatMap, filter, interval, map, takeUntil } from 'rxjs';
import { ConsoleAuth, ConsoleSession } from '../auth/console-auth.service';
import { CurrentSession, SessionGuard } from '../auth/session.guard';
import { ConsoleSnapshot, ConsoleState } from './console-state.service';

/**
 * The page's live feed: one snapshot per second as Server-Sent Events (and the same snapshot once, as JSON). A
 * stream ends within 10 s of its session ending (sign-out elsewhere, idle time-out); the page then asks to sign in.
 */
@Controller('api')
@UseGuards(SessionGuard)
export class StreamController {
  constructor(
    private readonly state: ConsoleState,
    private readonly auth: ConsoleAuth,
  ) {}

  @Sse('stream')
  stream(@CurrentSession() session: ConsoleSession): Observable<MessageEvent> {
    const signedOut = interval(10_000).pipe(
      concatMap(() => this.auth.alive(session)),
      filter((alive) => !alive),
    );
    return this.state.snapshots$.pipe(
      map((snapshot) => ({ type: 'snapshot', data: snapshot })),
      takeUntil(signedOut),
    );
  }

  @Get('snapshot')
  snapshot(): ConsoleSnapshot {
    return this.state.snapshot();
  }
}
