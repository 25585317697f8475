"""A corpus of bad input files, generated here (not committed), each imported on SQLite and PostgreSQL:
no internal error, no wrong total, and every rejected row named by file and line with a way to fix it.

Each case is three good gifts ($10, $20, $30) with one bad row after them, or a file the tracker must
refuse as a whole before it writes anything. The expected total is the good rows' (plus any bad-looking
row that is in fact a good gift, such as JSON's 1e2)."""

import json
import re

import pytest

HEADER = ["donation_id", "amount", "donated_at", "email", "name", "currency", "status", "refunded_amount", "fee",
          "recurring", "channel", "appeal_variant"]
GOOD_ROWS = [
    {"donation_id": "g1", "amount": "10.00", "donated_at": "2026-12-02T10:00:00-08:00", "email": "a@example.org"},
    {"donation_id": "g2", "amount": "20.00", "donated_at": "2026-12-03T10:00:00-08:00", "email": "b@example.org"},
    {"donation_id": "g3", "amount": "30.00", "donated_at": "2026-12-04T10:00:00-08:00", "email": "c@example.org"},
]
BASE = {"donation_id": "bad", "amount": "5.00", "donated_at": "2026-12-05T10:00:00-08:00", "email": "d@example.org"}
# a fix, said as what to do (the words every reject's message uses)
FIX = re.compile(r"\b(write|use|pass|remove|give|correct|check|shorten|quote|add|save|name|close|convert|raise|leave|"
                 r"download|export|record|import|put|in double quotes)\b")

ROW_CASES = {  # field -> bad values, each a reject of its row
    "amount": ["", "five", "-5", "€25", "25 GBP", "$", "1e400", "NaN", "99999999999", "0x10", "1.2.3", "--5", "5-",
               "5..0", "twenty", "12,34,5", "£5", "¥500", "(€3)", "1 000 000", "1e5", "$-5", "½", "5 EUR"],
    "donated_at": ["", "tomorrow", "2026-02-30", "13/13/2026", "2026-12-01 01:00 EST",
                   "9999-12-31T23:00-08:00", "0001-01-01T00:00+01:00", "2026-12-01T10:00+25:00", "2026-12-01T25:00",
                   "2026-13-01", "2026-12-01 10:00 GMT+3", "Dec 2026", "12/31", "2026-12-01 10:00 PST",
                   "2026-12-01T10:00:00-08:00 extra", "32/12/2026", "2026-12-05T10:00:00-08:00Z"],
    "donation_id": ["", "x" * 201, "a\x00b"],
    "email": ["not-an-email", "a" * 400 + "@example.org", "a@b@c", "spaces in@example.org", "a@b"],
    "name": ["N" * 301, "x\x00y", "x" * 140_000],
    "currency": ["US", "dollars", "EUR", "GBP", "12"],
    "status": ["maybe", "paid", "chargeback"],
    "refunded_amount": ["60", "-1", "abc"],
    "fee": ["-1", "x", "€1"],
    "recurring": ["sometimes", "2"],
    "channel": ["c" * 81],
    "appeal_variant": ["v" * 81],
}


def csv_line(row: dict) -> str:
    cells = []
    for name in HEADER:
        value = row.get(name, "")
        cells.append('"' + value.replace('"', '""') + '"' if any(ch in value for ch in ',"\n') else value)
    return ",".join(cells) + "\n"


def good_csv() -> str:
    return ",".join(HEADER) + "\n" + "".join(csv_line(r) for r in GOOD_ROWS)


def cases():
    """(id, file name, bytes, expected total, expected rejected lines or None for a refusal)."""
    out = []
    for field, values in ROW_CASES.items():
        for i, value in enumerate(values):
            out.append((f"{field}-{i}", "g.csv", (good_csv() + csv_line({**BASE, field: value})).encode(), "60.00", {5}))
    body = good_csv()
    out += [
        ("too-many-values", "g.csv", (body + "bad,1,234.56,2026-12-05T10:00:00-08:00\n").encode(), "60.00", {5}),
        ("too-many-values-two", "g.csv", (body + "bad,5," + ",".join(["x"] * 20) + "\n").encode(), "60.00", {5}),
        ("nul-in-row", "g.csv", (body + "bad\x00,5.00,2026-12-05T10:00:00-08:00\n").encode(), "60.00", {5}),
        ("bad-row-first", "g.csv", (",".join(HEADER) + "\n" + csv_line({**BASE, "amount": "five"})
                                    + "".join(csv_line(r) for r in GOOD_ROWS)).encode(), "60.00", {2}),
        ("two-bad-rows", "g.csv", (body + csv_line({**BASE, "amount": "x"}) + csv_line({**BASE, "donation_id": "b2",
                                                                                        "donated_at": "x"})).encode(),
         "60.00", {5, 6}),
        ("crlf", "g.csv", body.replace("\n", "\r\n").encode() + csv_line({**BASE, "amount": "x"}).encode(), "60.00", {5}),
        ("semicolons-bom", "g.csv", ("\ufeff" + body.replace(",", ";")).encode(), "60.00", set()),
        ("header-only", "g.csv", (",".join(HEADER) + "\n").encode(), "0.00", set()),
        ("quoted-multiline-name", "g.csv", (body + csv_line({**BASE, "name": "Ann\nLee"})).encode(), "65.00", set()),
        ("stray-quote", "g.csv", (body + 'bad,5.00,2026-12-05T10:00:00-08:00,d@example.org,5\'11" Al\n').encode(),
         "65.00", set()),
        ("duplicate-header", "g.csv", body.replace("donation_id,amount", "donation_id,amount,amount", 1).encode(), None,
         None),
    ]
    for n, where in enumerate((1, 2, 3)):  # quotes that never close: refusals naming the line
        rows = [csv_line(r) for r in GOOD_ROWS]
        rows.insert(where - 1, 'bad,5.00,2026-12-05T10:00:00-08:00,d@example.org,"Ann\n')
        out.append((f"unclosed-quote-{n}", "g.csv", (",".join(HEADER) + "\n" + "".join(rows)).encode(), "0.00", None))
    for n, where in enumerate((0, 2, 3)):  # bytes that are not UTF-8: refusals naming the line
        rows = [csv_line(r).encode() for r in GOOD_ROWS]
        rows.insert(where, csv_line({**BASE, "name": "JosX"}).encode().replace(b"X", "é".encode("latin-1")))
        out.append((f"latin1-{n}", "g.csv", (",".join(HEADER) + "\n").encode() + b"".join(rows), "0.00", None))
    out += [
        ("utf16", "g.csv", good_csv().encode("utf-16"), "0.00", None),
        ("empty", "g.csv", b"", "0.00", None),
        ("blank-first-line", "g.csv", b"\n" + good_csv().encode(), "0.00", None),
        ("binary", "g.csv", bytes(range(256)) * 4, "0.00", None),
        ("missing-columns", "g.csv", b"id,when\n1,2026-12-01\n", "0.00", None),
        ("truncated-utf8", "g.csv", good_csv().encode() + "bad,5.00,2026-12-05T10:00:00-08:00,d@e.org,Jos".encode()
         + "é".encode()[:1], "0.00", None),
    ]
    jsonl = [json.dumps({k: v for k, v in r.items()}) for r in GOOD_ROWS]
    json_bad = [
        "{not json", "[1, 2, 3]", '"a string"', "[" * 50_000 + "]" * 50_000,
        json.dumps({**BASE, "name": {"first": "Ann"}}), json.dumps({**BASE, "amount": [5]}),
        json.dumps({**BASE, "amount": "NaN"}), '{"donation_id": "bad", "amount": NaN, "donated_at": "2026-12-05"}',
        json.dumps({**BASE, "amount": 1e400}) if False else '{"donation_id": "bad", "amount": 1e400, "donated_at": "2026-12-05T10:00:00-08:00"}',
        json.dumps({**BASE, "donated_at": "2026-12-01 01:00 EST"}), json.dumps({**BASE, "email": "x\u0000@e.org"}),
        json.dumps({**BASE, "amount": "€5"}), json.dumps({**BASE, "donation_id": ""}), json.dumps({**BASE, "amount": -5}),
        json.dumps({**BASE, "currency": "EUR"}), json.dumps({**BASE, "name": "N" * 400}),
        json.dumps({**BASE, "recurring": "sometimes"}), json.dumps({**BASE, "status": "maybe"}),
        json.dumps({**BASE, "donated_at": True}),
    ]
    for i, line in enumerate(json_bad):
        out.append((f"jsonl-{i}", "g.jsonl", ("\n".join(jsonl) + "\n" + line + "\n").encode(), "60.00", {4}))
    out.append(("jsonl-1e2", "g.jsonl", ("\n".join(jsonl) + "\n" + '{"donation_id": "e", "amount": 1e2, '
                                         '"donated_at": "2026-12-05T10:00:00-08:00"}\n').encode(), "160.00", set()))
    out.append(("jsonl-bad-utf8", "g.jsonl", ("\n".join(jsonl) + "\n").encode() + b'{"donation_id": "\xff"}\n', "0.00",
                None))
    stripe = ("id,Created date (UTC),Amount,Amount Refunded,Currency,Captured,Status,Customer Email,Mode,"
              "Dispute Status\n")
    good_stripe = "".join(f"ch_{i},2026-12-0{i + 2} 18:00:00,{a},0,usd,true,Paid,s{i}@example.org,Live,\n"
                          for i, a in enumerate(("10.00", "20.00", "30.00")))
    stripe_bad = ["ch_x,2026-12-05 18:00:00,5.00,0,usd,true,Exploded,x@example.org,Live,",
                  "ch_x,2026-12-05 18:00:00,five,0,usd,true,Paid,x@example.org,Live,",
                  "ch_x,someday,5.00,0,usd,true,Paid,x@example.org,Live,",
                  "ch_x,2026-12-05 18:00:00,5.00,9.00,usd,true,Paid,x@example.org,Live,",
                  "ch_x,2026-12-05 18:00:00,5.00,0,eur,true,Paid,x@example.org,Live,",
                  "ch_x,2026-12-05 18:00:00,5.00,0,usd,true,Paid,x\x00@example.org,Live,"]
    for i, line in enumerate(stripe_bad):
        out.append((f"stripe-{i}", "s.csv", (stripe + good_stripe + line + "\n").encode(), "60.00", {5}))
    paypal = '"Date","Time","TimeZone","Name","Type","Status","Currency","Gross","Fee","From Email Address","Transaction ID","Reference Txn ID"\n'
    good_paypal = "".join(f'"12/1{i + 4}/2026","10:00:00","PST","P{i}","Donation Payment","Completed","USD","{a}","-0.50",'
                          f'"p{i}@example.org","TX{i}",""\n' for i, a in enumerate(("10.00", "20.00", "30.00")))
    paypal_bad = ['"12/05/2026","10:00:00","Mars/Olympus","X","Donation Payment","Completed","USD","5.00","-0.50","x@example.org","TXB",""',
                  '"12/05/2026","10:00:00","PST","X","","Completed","USD","5.00","-0.50","x@example.org","TXB",""',
                  '"12/05/2026","10:00:00","PST","X","Refund","Completed","USD","-5.00","0.00","x@example.org","TXB",""',
                  '"12/05/2026","10:00:00","PST","X","Donation Payment","Exploded","USD","5.00","-0.50","x@example.org","TXB",""',
                  '"","10:00:00","PST","X","Donation Payment","Completed","USD","5.00","-0.50","x@example.org","TXB",""',
                  '"12/05/2026","10:00:00","PST","X","Donation Payment","Completed","USD","lots","-0.50","x@example.org","TXB",""']
    for i, line in enumerate(paypal_bad):
        out.append((f"paypal-{i}", "p.csv", (paypal + good_paypal + line + "\n").encode(), "60.00", {5}))
    # conventions the file cannot tell, or tells both ways: refused before a row is written
    out += [
        ("paypal-every-date-reads-both-ways", "p.csv", (paypal + good_paypal.replace("12/1", "12/0")).encode(), "0.00",
         None),
        ("dates-both-ways", "g.csv", (body + csv_line({**BASE, "donated_at": "19/12/2026"})
                                      + csv_line({**BASE, "donation_id": "b2", "donated_at": "12/19/2026"})).encode(),
         "0.00", None),
        ("amounts-both-ways", "g.csv", (body + csv_line({**BASE, "amount": "5,50"})).encode(), "0.00", None),
        ("every-amount-reads-both-ways", "g.csv", (",".join(HEADER) + "\n" + csv_line({**BASE, "amount": "1.000"})
                                                   ).encode(), "0.00", None),
        ("a-day-above-12-decides", "g.csv", (body + csv_line({**BASE, "donated_at": "19/12/2026 10:00"})).encode(),
         "65.00", set()),
    ]
    return out


CASES = cases()


def test_the_corpus_is_large_and_varied():
    assert len(CASES) >= 125
    assert sum(1 for c in CASES if c[4] is None) >= 10  # files refused as a whole


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_the_bad_input_corpus(tracker, tmp_path, case):
    name, filename, data, total, rejected_lines = case
    assert tracker("campaign", "create", "--slug", "dec-2026", "--name", "Y", "--goal", "400000", "--start",
                   "2026-12-01", "--end", "2026-12-31", "--timezone", "America/Los_Angeles").code == 0
    path = tmp_path / filename
    path.write_bytes(data)
    result = tracker("ingest", "donations", path, "--quiet")
    assert "internal error" not in result.err and "Traceback" not in result.err, result.err
    status = json.loads(tracker("status", "--as-of", "2027-01-05", "--json").out)
    if rejected_lines is None:  # refused as a whole: a message naming the file, nothing written
        assert result.code in (1, 2) and str(path) in result.err, result
        assert status["raised"] == "0.00" and status["donations"] == 0
        return
    if total is not None:
        assert status["raised"] == total, (result.out, result.err)
    lines = [line for line in result.err.splitlines() if line.startswith(f"{path}:")]
    assert {int(line.split(":")[1]) for line in lines} == rejected_lines, result.err
    assert result.code == (3 if rejected_lines else 0), result
    for line in lines:
        assert re.match(rf"^{re.escape(str(path))}:\d+: \S", line)
        assert FIX.search(line.lower()), f"no fix said in: {line[:300]}"
