"""The `bedrock-jobs` command."""

from __future__ import annotations

import argparse
import os
import shlex
import sys
import time
import traceback
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from pipelines import __version__


def _timestamp(value: str) -> float:
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        raise argparse.ArgumentTypeError("give a time zone, e.g. 2026-01-01T00:00:00Z")
    return parsed.timestamp()


def _shift(value: str):
    from pipelines.simulator import Shift

    try:
        return Shift.parse(value)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _add_simulator_arguments(parser: argparse.ArgumentParser) -> None:
    data = parser.add_argument_group("data")
    data.add_argument("--seed", type=int, default=7, help="same seed, same data (default 7)")
    data.add_argument("--jobs", type=int, default=2000, help="about how many jobs (default 2000)")
    data.add_argument("--epoch", type=_timestamp, default=None,
                      help="the data's 'now' as ISO 8601 (default: the start time)")
    data.add_argument("--shape", choices=("cms", "vision", "mixed"), default="cms",
                      help="job shape of GET /jobs/{id} (default cms)")
    data.add_argument("--adversarial", type=float, default=0.0, metavar="SHARE",
                      help="share of jobs with messy events/statuses/timestamps (0..1)")
    data.add_argument("--shift", type=_shift, action="append", metavar="TYPE:KIND:FACTOR[@WHEN]",
                      help="make a job type worse from a moment on (repeatable): KIND is "
                           "failure, duration (queue and run times), queued (queue time "
                           "only), running (run time only) or requeue, FACTOR multiplies it, "
                           "WHEN is hours before the epoch (default 12) or an ISO 8601 time; "
                           "e.g. compare:failure:3@24, symbol_match:queued:4")
    clock = parser.add_argument_group("clock")
    clock.add_argument("--clock", choices=("real", "fixed", "accelerated"), default="real")
    clock.add_argument("--speed", type=float, default=60.0,
                       help="simulated seconds per real second with --clock accelerated")
    limits = parser.add_argument_group("rate limit")
    limits.add_argument("--rate-limit", type=int, default=300, help="requests per window per key")
    limits.add_argument("--window", type=float, default=60.0, help="window length in seconds")
    limits.add_argument("--no-rate-limit", action="store_true")
    faults = parser.add_argument_group("faults (seeded, off by default)")
    faults.add_argument("--faults", choices=("none", "light"), default="none",
                        help="a preset; the rates below override it")
    faults.add_argument("--fault-seed", type=int, default=0)
    for name, help_text in (
        ("latency-ms", "added to every response"),
        ("jitter-ms", "plus uniform 0..N ms"),
        ("error-rate", "share of 500/502/503"),
        ("drop-rate", "share of connections closed without a response"),
        ("slow-rate", "share of responses slower than --slow-seconds"),
        ("slow-seconds", "how slow a slow response is (default 5)"),
        ("malformed-rate", "share of 200s with broken JSON"),
        ("burst-rate", "chance a request starts a burst of 429s"),
        ("burst-seconds", "how long a 429 burst lasts (default 1)"),
    ):
        faults.add_argument(f"--{name}", type=float, default=None, help=help_text)


def build_simulator(args: argparse.Namespace):
    """A `Simulator` from parsed `simulate` arguments (not started)."""
    from dataclasses import replace

    from pipelines.simulator import (
        DEMO_API_KEY,
        Clock,
        DataConfig,
        FaultConfig,
        RateLimitConfig,
        RenderConfig,
        Simulator,
    )

    epoch = args.epoch if args.epoch is not None else float(int(time.time()))
    data = DataConfig(seed=args.seed, jobs=args.jobs, epoch=epoch, shifts=tuple(args.shift or ()))
    clock = {
        "real": lambda: Clock(start=epoch),
        "fixed": lambda: Clock.fixed(epoch),
        "accelerated": lambda: Clock.accelerated(epoch, args.speed),
    }[args.clock]()
    faults = FaultConfig.light(args.fault_seed) if args.faults == "light" else FaultConfig(
        seed=args.fault_seed)
    overrides = {
        field: getattr(args, field)
        for field in ("latency_ms", "jitter_ms", "error_rate", "drop_rate", "slow_rate",
                      "slow_seconds", "malformed_rate", "burst_rate", "burst_seconds")
        if getattr(args, field) is not None
    }
    return Simulator(
        data,
        render=RenderConfig(shape=args.shape, adversarial_share=args.adversarial, seed=args.seed),
        faults=replace(faults, **overrides),
        rate_limit=RateLimitConfig(args.rate_limit, args.window, enabled=not args.no_rate_limit),
        api_keys=tuple(args.api_key or ()) or (DEMO_API_KEY,),
        clock=clock,
        host=args.host,
        port=args.port,
        verbose=args.verbose,
    )


def cmd_simulate(args: argparse.Namespace) -> int:
    from pipelines.simulator import prefer_low_latency

    prefer_low_latency()  # this process only serves
    simulator = build_simulator(args)
    print(f"Bedrock jobs API simulator at {simulator.base_url}", flush=True)
    print(f"  {len(simulator.store)} jobs (seed {args.seed}), clock {simulator.clock.mode}, "
          f"shape {args.shape}", flush=True)
    print(f"  accepted key(s): {', '.join(simulator.api_keys)}", flush=True)
    print(f"  try: curl -H 'Authorization: Bearer {simulator.api_keys[0]}' "
          f"'{simulator.base_url}/jobs?limit=2'", flush=True)
    for shift in simulator.data_config.shifts:
        since = datetime.fromtimestamp(shift.start(simulator.data_config.epoch), UTC)
        print(f"  shift: {shift.job_type} {shift.kind} x{shift.factor:g} from "
              f"{since:%Y-%m-%dT%H:%M:%SZ}", flush=True)
    try:
        simulator.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        simulator.stop()
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from pipelines.tools.demo import run_demo

    return run_demo(jobs=args.jobs)


def _ingest_refusal(args: argparse.Namespace) -> str | None:
    """Why `ingest` can't start (no usable key, a URL the key can't go to in clear, no ID
    file), before anything is staged: the run would refuse the same way, later."""
    from pipelines.bedrock.config import api_key_problem, api_url_problem
    from pipelines.resources import api_key_in_environment, keep_days_problem, setting

    key = api_key_in_environment()
    url = setting("BEDROCK_API_URL")
    if not key:
        return (f"BEDROCK_API_KEY is not set; it is needed to call {url}. "
                "Export your sk_... key as BEDROCK_API_KEY.")
    if problem := (api_url_problem(url, with_key=True) or api_key_problem(key)
                   or keep_days_problem(setting("BEDROCK_INBOX_KEEP_DAYS"))):
        return problem
    if args.ids != "-" and not Path(args.ids).is_file():
        return f"no ID file at {args.ids}"
    return None


def cmd_ingest(args: argparse.Namespace) -> int:
    from assets.intake import intake_run_config
    from pipelines.resources import build_resources
    from pipelines.runner import stage_id_file
    from pipelines.services.id_files import rejected_reason
    from pipelines.services.summary import print_summary
    from pipelines.tools.running import report_end, run_with_progress

    if refusal := _ingest_refusal(args):
        print(f"error: {refusal}", file=sys.stderr)
        return 2
    resources = build_resources()
    inbox = Path(resources["inbox"].path)
    name = stage_id_file(args.ids, inbox)
    staged = inbox / name
    if not staged.read_bytes().strip():
        staged.unlink()
        print(f"error: {args.ids} holds no job IDs (one per line, or a CSV with a job_id "
              "column); nothing was run", file=sys.stderr)
        return 2
    print(f"registered {args.ids} as {staged}; running ingest", flush=True)
    ran = run_with_progress("ingest", intake_run_config(inbox_files=[name],
                                                        discover=args.discover))
    # Standard input is gone by now: a file staged from it and not read yet is what to give.
    source = str(staged) if args.ids == "-" and staged.is_file() else args.ids
    rerun = " ".join(["bedrock-jobs ingest --ids", shlex.quote(source),
                      *(["--discover"] if args.discover else [])])
    if (code := report_end(ran, "ingest", rerun)) is not None:
        return code
    if reason := rejected_reason(inbox, name):
        print(f"error: {args.ids} was refused whole: {reason}", file=sys.stderr)
        return 1
    outcome = ran.outcome
    assert outcome is not None
    print_summary(resources["warehouse"].path, inbox)
    print(f"ingest finished in {outcome.seconds:.1f}s (run {outcome.run_id})")
    return 0


def cmd_sql(args: argparse.Namespace) -> int:
    from pipelines.resources import build_resources
    from warehouse.query import QueryError, readable_path, run_query

    path = args.warehouse or build_resources()["warehouse"].path
    try:
        print(run_query(readable_path(path, live=args.live), args.query, output=args.format))
    except QueryError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    import webbrowser

    from pipelines.resources import build_resources
    from pipelines.services.report import build_report, report_path
    from warehouse.query import QueryError, open_read_only, readable_path

    path = args.warehouse or build_resources()["warehouse"].path
    out = Path(args.output) if args.output else report_path(path)
    try:
        con = open_read_only(readable_path(path, live=args.live))
    except QueryError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    try:
        report = build_report(con, out, warehouse=str(path))
    finally:
        con.close()
    print(f"report: {report.path.resolve()}")
    if report.empty_charts:
        print(f"  charts with no rows: {', '.join(report.empty_charts)}")
    for part, why in report.failed.items():  # a note on the page in its place, too
        print(f"warning: {part} could not be drawn: {why}", file=sys.stderr)
    if args.open:
        webbrowser.open(report.path.resolve().as_uri())
    return 0


def cmd_docs(args: argparse.Namespace) -> int:
    from pipelines.instance import PROJECT_ROOT, is_checkout
    from pipelines.tools.docs import GENERATED, stale_docs, write_docs

    if not is_checkout():
        print("error: `bedrock-jobs docs` writes the pages of a source checkout; this is an "
              "installed package (its pages are in the repository's docs/ folder)",
              file=sys.stderr)
        return 2
    if args.check:
        stale = stale_docs(PROJECT_ROOT)
        for name in stale:
            print(f"{name} is out of date: run `bedrock-jobs docs`", file=sys.stderr)
        return 1 if stale else 0
    changed = write_docs(PROJECT_ROOT)
    for name in GENERATED:
        print(f"{name}: {'written' if name in changed else 'up to date'}")
    return 0


def cmd_init(args: argparse.Namespace) -> int:
    from pipelines.tools.project import ProjectError, init_project

    folder = Path(args.folder)
    try:
        written = init_project(folder)
    except ProjectError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    for path in written:
        print(f"wrote {path}")
    if not written:
        print(f"{folder.resolve()} already holds a bedrock-jobs project; nothing written")
    print(f"next: cd {folder} && bedrock-jobs ingest --ids FILE, then `dg dev` for the UI "
          "(`dg check defs`, `dg list defs` and `dg launch --job ingest` work there too)")
    return 0


def cmd_ui(args: argparse.Namespace) -> int:
    from pipelines.tools.ui import run_ui

    return run_ui(port=args.port)


def _add_reading_commands(commands: argparse._SubParsersAction) -> None:
    """`sql` and `report`: read-only, over the published copy unless `--live`."""
    sql = commands.add_parser("sql", help="read-only SQL over the warehouse")
    sql.add_argument("query")
    sql.add_argument("--format", choices=("table", "csv", "json"), default="table")
    sql.add_argument("--warehouse", help="the DuckDB file (default: BEDROCK_WAREHOUSE)")
    sql.add_argument("--live", action="store_true",
                     help="read the working file (waits while a run writes) instead of its "
                          "published read-only copy")
    sql.set_defaults(run=cmd_sql)

    report = commands.add_parser(
        "report", help="write the HTML report from the warehouse (read-only, no API calls)")
    report.add_argument("--open", action="store_true", help="open it in the default browser")
    report.add_argument("--warehouse", help="the DuckDB file (default: BEDROCK_WAREHOUSE)")
    report.add_argument("--live", action="store_true",
                        help="read the working file instead of its published read-only copy")
    report.add_argument("--output", metavar="FILE",
                        help="where to write it (default: report.html beside the warehouse)")
    report.set_defaults(run=cmd_report)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bedrock-jobs",
        description="Bedrock job records → DuckDB, for duration and failure analytics.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--debug", action="store_true",
                        help="show an unexpected error's traceback here (else it goes to "
                             "a file under DAGSTER_HOME/bedrock-logs, named in the error's line)")
    commands = parser.add_subparsers(dest="command", required=True)

    simulate = commands.add_parser("simulate", help="run the local Bedrock jobs API simulator")
    simulate.add_argument("--host", default="127.0.0.1")
    simulate.add_argument("--port", type=int, default=8000, help="0 picks a free port")
    simulate.add_argument("--api-key", action="append", metavar="KEY",
                          help="accept this key (repeatable; default: the demo key)")
    simulate.add_argument("--verbose", action="store_true", help="log every request")
    _add_simulator_arguments(simulate)
    simulate.set_defaults(run=cmd_simulate)

    demo = commands.add_parser("demo", help="start the simulator and run the whole pipeline")
    demo.add_argument("--jobs", type=int, default=4000, help="jobs the simulator holds")
    demo.set_defaults(run=cmd_demo)

    ingest = commands.add_parser(
        "ingest", help="register the IDs in FILE (- for stdin) and run the pipeline")
    ingest.add_argument("--ids", required=True, metavar="FILE",
                        help="one ID per line, or a CSV with a job_id column; - reads stdin")
    ingest.add_argument("--discover", action="store_true",
                        help="also register jobs GET /jobs lists as new since the last run")
    ingest.set_defaults(run=cmd_ingest)

    _add_reading_commands(commands)

    docs = commands.add_parser(
        "docs", help="regenerate docs/cookbook.md, docs/data-dictionary.md and "
                     "deploy/dagster.yaml")
    docs.add_argument("--check", action="store_true",
                      help="write nothing; exit 1 if a generated page is out of date")
    docs.set_defaults(run=cmd_docs)

    init = commands.add_parser(
        "init", help="make a dg project folder for the installed package (dg dev, dg check defs)")
    init.add_argument("folder", nargs="?", default=".", help="where (default: here)")
    init.set_defaults(run=cmd_init)

    ui = commands.add_parser("ui", help="the Dagster web UI (dg dev; starts the simulator "
                                        "without a key)")
    ui.add_argument("--port", type=int, default=3000)
    ui.set_defaults(run=cmd_ui)
    return parser


def _crash_log(text: str) -> Path:
    """Keep an unexpected error's traceback beside the runs' logs, when there is a Dagster
    home (`DAGSTER_HOME` set, or the default one there already), else in the temp folder:
    reporting an error never makes a Dagster home where there was none."""
    import tempfile

    from pipelines.instance import DEFAULT_HOME
    from pipelines.runner import LOGS_FOLDER

    name = f"bedrock-jobs-{datetime.now(UTC):%Y%m%dT%H%M%S}-{os.getpid()}.log"
    given = os.environ.get("DAGSTER_HOME")
    home = Path(given or DEFAULT_HOME)
    folder = home / LOGS_FOLDER
    try:
        if not given and not home.is_dir():
            raise FileNotFoundError(home)
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:  # no home, or none to write in: the error still gets its file
        folder = Path(tempfile.gettempdir())
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def _quiet_stdout() -> None:
    """After a closed pipe: what is still buffered for standard output goes nowhere, so the
    interpreter's last flush can't raise again (as Python's documentation of SIGPIPE
    advises)."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def main(argv: Sequence[str] | None = None) -> int:
    """Run a command. Whatever happens, the terminal gets a few lines, never a traceback:
    `| head` closing the pipe ends quietly (141, as a filter stopped by SIGPIPE), Ctrl-C
    in one line (130), an unexpected error in one line naming the file that holds its
    traceback (1; `--debug` shows it here instead)."""
    from pipelines.services.text import one_line

    args = build_parser().parse_args(argv)
    try:
        code = args.run(args)
        sys.stdout.flush()  # a reader that went away shows here, not at exit
        return code
    except BrokenPipeError:
        _quiet_stdout()
        return 141
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130
    except Exception as error:
        if args.debug:
            raise
        path = _crash_log(traceback.format_exc())
        print(f"error: unexpected {one_line(error)}\n"
              f"its traceback is in {path}; `bedrock-jobs --debug {args.command} ...` "
              "shows it here", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
