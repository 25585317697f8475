"""What a report or an alert delivers: its figures, subject, text, HTML and attachments.

Shared by `tracker report` and `tracker schedule`; one session, the moment an argument.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from tracker import export, queries, reports
from tracker.models import Campaign, ReportRun
from tracker.reports import ReportData

MILESTONES = (25, 50, 75, 100)


@dataclass(frozen=True)
class Report:
    data: ReportData
    previous: ReportRun | None  # the job's last report delivered before this one
    subject: str
    text: str
    html: str  # for e-mail the chart is the PNG in `images`, shown by Content-ID; else inline SVG
    attachments: list[tuple[str, bytes]]
    images: list[tuple[str, bytes]]  # (Content-ID, PNG)

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.data)

    @property
    def unchanged(self) -> bool:
        """No figure moved since the last report (for --skip-unchanged)."""
        return self.previous is not None and self.previous.fingerprint == self.fingerprint


def fingerprint(data: ReportData) -> str:
    """The gift figures a report shows; equal fingerprints mean nothing new to report (time left aside)."""
    st = data.status
    figures = (st.raised_cents, st.donations, st.donors, st.new_donors, st.late_gifts, st.late_cents,
               *(g.count for g in st.goals))
    return hashlib.sha256(repr(figures).encode()).hexdigest()[:32]


def build_report(session: Session, campaign: Campaign, *, as_of: datetime, job: str = "report",
                 attach_daily: bool = True, milestones: tuple[int, ...] = MILESTONES, for_email: bool = True) -> Report:
    """The report as of a moment; for e-mail its chart is a PNG (mail clients do not show SVG), else inline SVG."""
    from tracker.service import report_data

    previous = queries.last_delivered(session, campaign, job, before=as_of)
    data = report_data(session, campaign, as_of=as_of, previous=previous, milestones=milestones)
    attachments = []
    if attach_daily:
        daily_csv = io.StringIO()
        end = min(campaign.ends_at, as_of + timedelta(microseconds=1))
        rows = queries.day_breakdown(session, campaign, campaign.start_date, campaign.end_date, end) \
            if end > campaign.starts_at else []
        export.write_daily(daily_csv, rows, campaign.goal_cents)
        attachments.append((f"{campaign.slug}-daily.csv", daily_csv.getvalue().encode("utf-8")))
    if not for_email:
        return Report(data, previous, reports.title(data), reports.render_text(data), reports.render_html(data),
                      attachments, [])
    from tracker.chart import chart_png

    cid = f"chart-{campaign.slug}-{as_of:%Y%m%d%H%M%S}@tracker"
    return Report(data, previous, reports.title(data), reports.render_text(data),
                  reports.render_html(data, chart_cid=cid), attachments, [(cid, chart_png(data))])
