-- A forecast order (a bin expected to be full later) is due when the bin is forecast full,
-- not 24 hours after it opened (rules/bins.py); its ageing counts from then
-- (rules/escalation.py). Open orders opened before that change get their forecast as due time.
UPDATE work_orders
SET due_at = (params ->> 'forecast_full_at')::timestamptz
WHERE status IN ('open', 'assigned', 'in_progress')
  AND params ->> 'reason' = 'forecast'
  AND params ? 'forecast_full_at'
  AND due_at IS DISTINCT FROM (params ->> 'forecast_full_at')::timestamptz;
