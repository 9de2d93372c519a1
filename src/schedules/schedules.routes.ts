import { Router } from 'express';
import { previewSchedule } from './preview-schedule';
import { schedulePreviewView } from './schedule.view';
import type { ScheduleTermsBody } from './schedule-terms.input';

export function schedulesRouter(): Router {
  const router = Router();
  // The body has been validated against openapi.yaml before it gets here.
  router.post('/v1/schedules/preview', (req, res) => {
    res.json(schedulePreviewView(previewSchedule(req.body as ScheduleTermsBody)));
  });
  return router;
}
