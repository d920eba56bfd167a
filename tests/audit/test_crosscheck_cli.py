"""``audit cross-check`` takes one review or ``--all``, never both or neither."""

from __future__ import annotations

from typer.testing import CliRunner

from cli.audit import app


def test_cross_check_needs_a_review_or_all():
    for args in ([], ["rv-x", "--all"]):
        res = CliRunner().invoke(app, ["cross-check", *args])
        assert res.exit_code == 2, res.output
        assert "give a review id, or --all" in res.output
