"""The progress report: the same figures as `tracker status` in every format, and e-mail through a real SMTP
server on loopback (text and HTML, the daily CSV attached), with one-line failures for cron."""

import json
import re
from datetime import datetime

import pytest

from conftest import free_port
from tracker import db, demo, queries
from tracker.campaign import status_json
from tracker.dates import zone
from tracker.money import format_money, parse_cents
from tracker.service import campaign_status

LA = zone("America/Los_Angeles")
MID = datetime(2026, 12, 28, 12, tzinfo=LA)
ARGS = ("--campaign", "dec-2026", "--as-of", MID.isoformat())


@pytest.fixture
def demo_status(db_url):
    with db.session_factory(db.make_engine(db_url)).begin() as session:
        demo.build(session, now=MID)
        return status_json(campaign_status(session, queries.get_campaign(session, "dec-2026"), as_of=MID))


def test_every_format_shows_the_figures_of_tracker_status(tracker, demo_status):
    raised = format_money(parse_cents(demo_status["raised"]))
    projected = format_money(parse_cents(demo_status["projection"]["expected"]))
    for fmt in ("text", "markdown", "html"):
        out = tracker("report", *ARGS, "--format", fmt)
        assert out.code == 0 and raised in out.out and projected in out.out and "website" in out.out
    as_json = json.loads(tracker("report", *ARGS, "--format", "json").out)
    assert {k: as_json[k] for k in demo_status} == demo_status  # the status JSON, repeated
    assert as_json["best_channel"]["channel"] == "website" and as_json["leading_variant"]["variant"]
    assert "<svg" in tracker("report", *ARGS, "--format", "html").out


def test_the_report_is_e_mailed_as_text_and_html_with_the_daily_csv(tracker, demo_status, smtp_server):
    out = tracker("report", *ARGS, "--email", "director@example.org", "--email", "finance@example.org")
    assert out.code == 0, out.err
    [msg] = smtp_server.messages()
    assert smtp_server.envelopes[0].rcpt_tos == ["director@example.org", "finance@example.org"]
    raised = format_money(parse_cents(demo_status["raised"]))
    assert msg["Subject"].startswith("Year-end 2026: $217,870 of $400,000")
    assert raised in msg.get_body(preferencelist=("plain",)).get_content()
    assert raised in msg.get_body(preferencelist=("html",)).get_content()
    attachments = list(msg.iter_attachments())
    csv_part = next(a for a in attachments if a.get_content_type() == "text/csv")
    daily = tracker("export", "daily", *ARGS).out
    assert csv_part.get_filename() == "dec-2026-daily.csv"
    assert csv_part.get_payload(decode=True).decode("utf-8") == daily
    # the chart: a PNG the HTML shows by Content-ID (mail clients do not show inline SVG)
    html = msg.get_body(preferencelist=("html",)).get_content()
    assert "<svg" not in html
    [cid] = re.findall(r'<img src="cid:([^"]+)"', html)
    [image] = [p for p in msg.walk() if p.get_content_type() == "image/png"]
    assert image["Content-ID"] == f"<{cid}>"
    png = image.get_payload(decode=True)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    import io

    from matplotlib.image import imread

    pixels = imread(io.BytesIO(png))
    assert pixels.shape[:2] == (480, 1120)  # 560 x 240, drawn twice as dense
    rgb = (pixels[..., :3] * 255).round().astype(int).reshape(-1, 3).tolist()
    colours = {tuple(p) for p in rgb}
    assert (0, 114, 178) in colours and (230, 159, 0) in colours  # the raised line and the goal line


def test_a_refused_login_and_an_unreachable_server_are_one_line_failures(tracker, demo_status, smtp_server, monkeypatch):
    monkeypatch.setenv("TRACKER_SMTP_PASSWORD", "wrong")
    refused = tracker("report", *ARGS, "--email", "director@example.org")
    assert refused.code == 1 and "refused the login of 'reports'" in refused.err and "wrong" not in refused.err
    monkeypatch.setenv("TRACKER_SMTP_PORT", str(free_port()))
    down = tracker("report", *ARGS, "--email", "director@example.org")
    assert down.code == 1 and down.err.count("\n") == 1 and "cannot send through 127.0.0.1" in down.err
    assert smtp_server.envelopes == []
    monkeypatch.delenv("TRACKER_SMTP_HOST")
    assert tracker("report", *ARGS, "--email", "x@example.org").code == 2
