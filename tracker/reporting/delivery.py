"""What a report or an alert delivers: its figures, subject, text, HTML and attachments.

Shared by `tracker report` and `tracker schedule`; one session, the moment an argument. The
figures are those of `tracker status` (tracker.service), plus what only the report shows.
"""

from __future__ import annotations

import hashlib
import html as html_lib
import io
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from tracker import campaign as cm, export, queries, service
from tracker.models import Campaign, ReportRun
from tracker.projection import typical_curve
from tracker.reporting import reports
from tracker.reporting.alerts import Alert, milestones_crossed
from tracker.reporting.reports import ReportData

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

    def for_alert(self, alert: Alert) -> tuple[str, str, str]:
        """(subject, text, html) of an alert e-mail: the alert's headline over this report."""
        headline = html_lib.escape(alert.headline)
        html = self.html.replace("<h2", f'<p style="font-size:18px;margin:0 0 12px"><b>{headline}</b></p><h2', 1)
        return alert.headline, f"{alert.headline}\n\n{self.text}", html


def fingerprint(data: ReportData) -> str:
    """The gift figures a report shows; equal fingerprints mean nothing new to report (time left aside)."""
    st = data.status
    figures = (st.raised_cents, st.donations, st.donors, st.new_donors, st.late_gifts, st.late_cents,
               *(g.count for g in st.goals))
    return hashlib.sha256(repr(figures).encode()).hexdigest()[:32]


def report_data(session: Session, campaign: Campaign, *, as_of: datetime, previous: ReportRun | None = None,
                milestones: tuple[int, ...] = MILESTONES) -> ReportData:
    """What the progress report shows, from the same figures as `tracker status`.

    `previous` is the last report delivered: milestones are counted from its figures.
    """
    curves = service.earlier_curves(session, campaign, as_of=as_of)
    st = service.campaign_status(session, campaign, as_of=as_of, curves=curves)
    window = campaign.window_at(as_of)
    daily = queries.daily_totals(session, campaign, as_of)
    channels = queries.channel_breakdown(session, campaign, window.starts_at, window.end) if window.opened else []
    leading = None
    if queries.list_variants(session, campaign):
        verdict = service.appeal_report(session, campaign, as_of=as_of).verdict
        if verdict.leader:
            leading = (verdict.leader, verdict.label)
    return ReportData(
        status=st,
        yesterday_cents=daily.get(window.local_date(as_of) - timedelta(days=1), 0),
        best_channel=(channels[0][0], channels[0][6]) if channels else None,
        leading_variant=leading,
        cumulative=cm.cumulative_by_day(window, daily),
        typical=typical_curve(campaign.window, curves, campaign.goal_cents),
        milestones=tuple(milestones_crossed(st, milestones, previous.raised_cents if previous else None,
                                            previous.new_donors if previous else None)),
        since=previous.finished_at if previous else None,
    )


def build_report(session: Session, campaign: Campaign, *, as_of: datetime, job: str = "report",
                 attach_daily: bool = True, milestones: tuple[int, ...] = MILESTONES, for_email: bool = True) -> Report:
    """The report as of a moment; for e-mail its chart is a PNG (mail clients do not show SVG), else inline SVG."""
    previous = queries.last_delivered(session, campaign, job, before=as_of)
    data = report_data(session, campaign, as_of=as_of, previous=previous, milestones=milestones)
    attachments = []
    if attach_daily:
        daily_csv = io.StringIO()
        window = campaign.window_at(as_of)
        rows = queries.day_breakdown(session, campaign, window.first, window.last, window.end) if window.opened else []
        export.write_daily(daily_csv, rows, campaign.goal_cents)
        attachments.append((f"{campaign.slug}-daily.csv", daily_csv.getvalue().encode("utf-8")))
    if not for_email:
        return Report(data, previous, reports.title(data), reports.render_text(data), reports.render_html(data),
                      attachments, [])
    from tracker.reporting.chart import chart_png

    cid = f"chart-{campaign.slug}-{as_of:%Y%m%d%H%M%S}@tracker"
    return Report(data, previous, reports.title(data), reports.render_text(data),
                  reports.render_html(data, chart_cid=cid), attachments, [(cid, chart_png(data))])
