"""Run reports: report.md, report.html (with a PGR-over-time plot) and leaderboard.json."""
