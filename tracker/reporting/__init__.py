"""Reporting: the progress report and alerts, e-mailed once per slot.

- reports: the report's figures rendered as text, Markdown, HTML (inline SVG chart) or JSON (pure);
- chart: the e-mailed report's chart as a PNG (matplotlib, offline);
- alerts: milestones and "behind the typical curve", worked out from a status (pure);
- delivery: a report's figures, subject, text, HTML and attachments, gathered from the database;
- mail: SMTP sending, configured from the environment or the configuration file;
- runs: the deliver-once protocol (claim a slot, attempt, record; retries and take-overs);
- schedule: the configured jobs on their cron schedules (`tracker schedule`).
"""
