-- Reminder delivery (DOMAIN.md "Reminders"). Each fund chooses its channels and has its own secret
-- to sign webhooks with (Standard Webhooks: "whsec_" + base64 of 32 random bytes, here the SHA-256
-- of two random UUIDs, so that no extension is needed; PGlite has none).
ALTER TABLE funds
  ADD COLUMN reminder_channels text[] NOT NULL DEFAULT '{webhook,email}'
    CHECK (reminder_channels <@ '{webhook,email}'::text[] AND cardinality(reminder_channels) >= 1),
  ADD COLUMN webhook_secret text NOT NULL
    DEFAULT 'whsec_' || encode(sha256(convert_to(gen_random_uuid()::text || gen_random_uuid()::text, 'UTF8')), 'base64');

-- A reminder is sent once per channel: each channel's stamp is set when that channel took it, so a
-- retry after one channel failed does not send it again through the other. `skipped`: the instalment
-- was paid (or the loan closed, or rescheduled) between the scan and the delivery.
-- `claimed_until`: a delivery attempt under way holds the reminder until then, so that two runs of
-- its job at once (a worker that lost its lock while still running) do not both send it.
ALTER TABLE reminders
  ADD COLUMN webhook_sent_at timestamptz,
  ADD COLUMN email_sent_at timestamptz,
  ADD COLUMN claimed_until timestamptz,
  DROP CONSTRAINT reminders_status_check,
  ADD CONSTRAINT reminders_status_check CHECK (status IN ('pending', 'sent', 'failed', 'skipped'));
-- The daily re-queue of reminders still pending a day after they were made.
CREATE INDEX reminders_pending ON reminders (created_at) WHERE status = 'pending';
