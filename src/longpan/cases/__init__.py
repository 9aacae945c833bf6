"""The closed loop (闭环, capability S4): notify → rectify → verify.

Batches (批次) gather findings by filters and address them, one notice (通报) per
responsible organisation; a supervisor approves before issue. Enterprise users answer
each finding (rectified / disputed / more time); a rectified answer is verified by
re-running the finding's detector on its subject; disputes and extensions go to a
supervisor; overdue notices are escalated. Nothing here knows a finding type: titles
come from the detector registry, evidence is shown generically.

Modules: access (roles, errors), deadlines (working days), selection (filters), batches,
issue (deadlines and documents at issue), documents (PDF, Excel), notices (reading),
uploads (stored files), answers, verify, decisions (disputes, extensions), escalation
(overdue, reminders) with mail (SMTP), transitions (finding states), views (read-only
records returned to callers). See docs/cases.md.
"""
