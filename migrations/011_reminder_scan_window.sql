-- The reminder scan looks at the send dates since the fund's last scan (DOMAIN.md "Reminders": a
-- scan after downtime catches up), not at every instalment ever due: `reminders_scanned_through`
-- is the latest date a scan of the fund was as of; null until its first scan, which looks at all.
ALTER TABLE funds ADD COLUMN reminders_scanned_through date;
-- The scan's (and any report's) way to the instalments falling due around a date.
CREATE INDEX instalments_due_date ON instalments (due_date);
