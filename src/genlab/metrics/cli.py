"""`genlab report RUN_DIR`: a self-contained HTML (and Markdown) report of a run."""

from __future__ import annotations


def cmd_report(a):
    from genlab.metrics.report import write_report

    path = write_report(a.run, a.out)
    print(f"wrote {path} (self-contained) and {path.with_name('report.md')}")


def register(subparsers) -> None:
    r = subparsers.add_parser(
        "report",
        help="write an HTML + Markdown report of a run",
        description="Write RUN_DIR/report/report.html (images embedded) and report.md (images beside it): config, metrics, loss curves, sample grids, figures.",
    )
    r.add_argument("run", metavar="RUN_DIR")
    r.add_argument("--out", help="output folder (default RUN_DIR/report)")
    r.set_defaults(func=cmd_report)
