"""The `dyte-async` command line: a demo on the embedded fake, and fan-out over meetings.

    dyte-async demo [--meetings N] [--json]
    dyte-async livestreams start|stop|status|wait MEETING_ID... [--from-file FILE|-]
        [--failed-out FILE] [--concurrency N]
    dyte-async livestreams list [--status LIVE] [--limit N]
    dyte-async meetings list [--search TEXT] [--limit N]
    dyte-async meetings create --title TEXT [--live-stream-on-start]

Credentials come from `DYTE_ORG_ID` (or `--org-id`) and `DYTE_API_KEY` (and
`DYTE_BASE_URL`, or `--base-url`); `--fake` points any command at an embedded, in-memory
FakeDyte instead. `--max-retries N` and `--rate-limit N/SECONDS` (or `off`) set the
client's; `--version` prints the version.

For real fan-out: `--from-file` reads a CSV's `meeting_id` column (its first column when no
header names one); `--failed-out FILE` writes the meetings that failed or did not run, in
the same format, so `--from-file FILE` reruns just those; a 401 or 403 stops the whole run
at the first answer with one line (every other meeting would get the same).
Results go to stdout (one JSON object per line with `--json`); the progress bar, the
final summary and errors go to stderr.

Exit status: 0 when everything succeeded, 1 when some item (or the command) failed, 2 for
bad usage or configuration. Stream keys and tokens are redacted unless `--show-secrets`.

The modules, each importing only those listed before it:

- `output`: printing lines, JSON with secrets redacted, the progress bar;
- `hints`: messages in CLI words (options and variables, not Python arguments), the
  base URL's scheme and the hint after a 404 when it lacks `/v2`;
- `ids`: meeting ids from `--from-file`, and the `--failed-out` file;
- `arguments`: the parser, and the checks and meeting ids argparse cannot do;
- `demo`: `dyte-async demo`, the whole flow on the embedded fake;
- `commands`: `main`, and each command against a client.

The CLI is the only part of the package that imports `dyte_async.testing` (for `--fake`
and the demo), and nothing but `python -m dyte_async` imports the CLI.
"""

from __future__ import annotations

from dyte_async.cli.commands import main

__all__ = ["main"]
