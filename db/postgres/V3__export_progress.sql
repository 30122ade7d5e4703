-- An employee's export is streamed to them while they download it. Its progress is kept on the
-- request, so the status page shows it whichever node serves the page or the download.
ALTER TABLE requests ADD COLUMN progress_done bigint NULL;
ALTER TABLE requests ADD COLUMN progress_total bigint NULL;
ALTER TABLE requests ADD COLUMN progress_at timestamptz NULL;
-- Set when a download stopped before its end (the browser was closed, the connection dropped).
ALTER TABLE requests ADD COLUMN progress_stopped_at timestamptz NULL;
