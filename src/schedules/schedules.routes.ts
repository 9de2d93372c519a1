import { Router } from 'express';
import { previewSchedule } from './preview-schedule';
import { schedulePreviewView } from './schedule.view';
import { parseScheduleTerms, type ScheduleTermsBody } from './schedule-terms.input';
import { previewAid, type PreviewAidInput } from '../state-aid/loan-aid';

export function schedulesRouter(): Router {
  const router = Router();
  // The body has been validated against openapi.yaml before it gets here.
  router.post('/v1/schedules/preview', (req, res) => {
    const body = req.body as ScheduleTermsBody & { state_aid?: PreviewAidInput };
    const schedule = previewSchedule(body);
    // State aid (docs/state-aid.md): the GGE at the base rate and classes the caller gives.
    const aid = body.state_aid
      ? { state_aid: previewAid(body.state_aid, parseScheduleTerms(body), schedule.rows) }
      : {};
    res.json({ ...schedulePreviewView(schedule), ...aid });
  });
  return router;
}
