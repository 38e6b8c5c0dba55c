"""`pmi mmm` end to end on a small synthetic file: an allocation per channel, and bad files exit 2 in one line."""

from __future__ import annotations

import pandas as pd
import pytest

from ml.cli.main import main
from ml.models.mmm.synthetic import synthetic_media


@pytest.fixture(scope="module")
def media_csv(tmp_path_factory):
    data, _ = synthetic_media(2, periods=120)
    frame = pd.DataFrame({"week": data.dates, "sales": data.outcome, "control": data.controls[:, 0]})
    for c, name in enumerate(data.channels):
        frame[f"spend_{name}"] = data.spend[:, c]
    path = tmp_path_factory.mktemp("mmm") / "media.csv"
    frame.to_csv(path, index=False)
    return path, frame


def test_allocation_per_channel_within_total_and_change_limit(media_csv, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PMI_HOME", str(tmp_path / "home"))
    path, frame = media_csv
    out = tmp_path / "plan.csv"
    code = main(
        [
            "mmm",
            "--data",
            str(path),
            "--spend-prefix",
            "spend_",
            "--out",
            str(out),
            "--bootstrap",
            "5",
            "--total-budget",
            "40",
            "--max-change-pct",
            "0.3",
        ]
    )
    assert code == 0, capsys.readouterr().err
    plan = pd.read_csv(out)
    assert list(plan["channel"]) == [c for c in frame.columns if c.startswith("spend_")]
    assert plan["recommended"].sum() <= 40 * (1 + 1e-9)
    assert ((plan["recommended"] - plan["current_budget"]).abs() <= 0.3 * plan["current_budget"] + 1e-6).all()
    assert "ROAS" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("lift_csv", "expected"),
    [
        ("channel,start,end,lift,lift_se\ntv,2022-03-06,2022-03-27,50,5\n", "row 1, column 'channel': unknown channel"),
        ("channel,start,end,lift,lift_se\nspend_channel_0,2022-03-06,2022-03-27,50,-1\n", "row 1, column 'lift_se'"),
        ("channel,start,end,lift\nspend_channel_0,2022-03-06,2022-03-27,50\n", "missing column 'lift_se'"),
    ],
)
def test_bad_lift_test_file_exits_2_with_one_line(media_csv, tmp_path, monkeypatch, capsys, lift_csv, expected):
    monkeypatch.setenv("PMI_HOME", str(tmp_path / "home"))
    path, _ = media_csv
    lifts = tmp_path / "lifts.csv"
    lifts.write_text(lift_csv)
    out = tmp_path / "plan.csv"
    code = main(["mmm", "--data", str(path), "--spend-prefix", "spend_", "--lift-tests", str(lifts), "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2
    assert len(err.strip().splitlines()) == 1
    assert str(lifts) in err and expected in err
    assert not out.exists()


def test_negative_spend_in_data_exits_2_naming_row_and_column(media_csv, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PMI_HOME", str(tmp_path / "home"))
    _, frame = media_csv
    bad = tmp_path / "bad.csv"
    frame.assign(spend_channel_1=frame["spend_channel_1"].where(frame.index != 4, -3.0)).to_csv(bad, index=False)
    code = main(["mmm", "--data", str(bad), "--spend-prefix", "spend_", "--out", str(tmp_path / "plan.csv")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "row 5, column 'spend_channel_1'" in err and len(err.splitlines()) == 1


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("media.parquet", b"PAR1 not really parquet", "cannot read as Parquet"),
        ("media.csv", b"", "cannot read the media table"),
        ("media.csv", b"week,sales\n\xff\xfe,1\n", "cannot read the media table"),
    ],
)
def test_unreadable_media_file_exits_2_naming_it(tmp_path, monkeypatch, capsys, name, content, expected):
    """The media file goes through the one table reader (ml/io/tables.py), so its failures read like every other."""
    monkeypatch.setenv("PMI_HOME", str(tmp_path / "home"))
    bad = tmp_path / name
    bad.write_bytes(content)
    out = tmp_path / "plan.csv"
    code = main(["mmm", "--data", str(bad), "--spend-prefix", "spend_", "--out", str(out)])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1, err
    assert str(bad) in err and expected in err
    assert not out.exists()
