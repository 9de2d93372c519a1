import { Router } from 'express';
import type { Db } from '../db/connect';
import { actorOf } from '../http/auth';
import { type Today } from '../http/clock';
import { pageOf, pageResult, SERIAL_KEY } from '../http/pagination';
import { idempotencyOf, sendStored } from '../idempotency/idempotency-header';
import { listReminders, type ReminderFilters } from './list-reminders';
import { reminderView } from './reminder.view';
import { requestReminderScan } from './scan-reminders';

/** `reads`: where its list goes, the read replica if there is one (docs/read-replica.md); the rest reads and writes `db`. */
export function remindersRouter(db: Db, reads: Db, today: Today): Router {
  const router = Router();

  router.get('/v1/reminders', async (req, res) => {
    const page = pageOf(req.query, SERIAL_KEY);
    const rows = await listReminders(reads, actorOf(req), req.query as ReminderFilters, page);
    const { items, next_cursor } = pageResult(rows, page, (row) => row.seq);
    res.json({ items: items.map(reminderView), next_cursor });
  });

  router.post('/v1/reminders/scan', async (req, res) => {
    sendStored(
      res,
      await requestReminderScan(
        db,
        actorOf(req),
        req.body as { as_of?: string; fund_id?: string },
        today(),
        idempotencyOf(req),
      ),
    );
  });

  return router;
}
