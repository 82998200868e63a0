import { Controller, Get, MessageEvent, Sse, UseGuards } from '@nestjs/common';
import { Observable, map } from 'rxjs';
import { SessionGuard } from '../auth/session.guard';
import { ConsoleSnapshot, ConsoleState } from './console-state.service';

/** The page's live feed: one snapshot per second as Server-Sent Events (and the same snapshot once, as JSON). */
@Controller('api')
@UseGuards(SessionGuard)
export class StreamController {
  constructor(private readonly state: ConsoleState) {}

  @Sse('stream')
  stream(): Observable<MessageEvent> {
    return this.state.snapshots$.pipe(map((snapshot) => ({ type: 'snapshot', data: snapshot })));
  }

  @Get('snapshot')
  snapshot(): ConsoleSnapshot {
    return this.state.snapshot();
  }
}
