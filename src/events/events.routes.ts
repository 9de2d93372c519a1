import { Router } from 'express';
import type { Db } from '../db/connect';
import { actorOf } from '../http/auth';
import { pageOf, pageResult, SERIAL_KEY } from '../http/pagination';
import { eventView } from './event.view';
import { findVisibleEvent, listEvents, type EventQuery } from './list-events';

export function eventsRouter(db: Db): Router {
  const router = Router();

  router.get('/v1/events', async (req, res) => {
    const page = pageOf(req.query, SERIAL_KEY);
    const rows = await listEvents(db, actorOf(req), req.query as EventQuery, page);
    const { items, next_cursor } = pageResult(rows, page, (row) => row.seq);
    res.json({ items: items.map(eventView), next_cursor });
  });

  router.get('/v1/events/:event_id', async (req, res) => {
    res.json(eventView(await findVisibleEvent(db, actorOf(req), String(req.params.event_id))));
  });

  return router;
}
