#!/usr/bin/env python3
"""outpost's fault-injection suite: the real binary, a real HTTPS receiver on 127.0.0.1
(scripts/dev-receiver.py) and seeded randomness. See docs/chaos.md.

    chaos.py --binary PATH --source-dir DIR [--short|--long] [--seed N]
             [--scenario NAME ...] [--keep] [--list]

Each scenario ends in one line

    <scenario>: N records written, N delivered, N lost, N duplicated after de-duplication

(tests/chaos/harness.py, Tally, says how each number is counted), or
"<scenario>: SKIPPED (why)". A scenario passes with 0 lost, 0 duplicated and nothing
else wrong (the agent crashed or exited non-zero, buffer.db failed its integrity
check, a record no writer wrote, an expected report missing); lines starting with
"  " before the summary say what happened. Exit status 1 if any scenario failed.

Everything random comes from --seed (printed first); each scenario draws from its own
generator seeded with the seed and its name, so `--scenario X --seed N` replays X as in
the full run (timing still varies). POSIX only. Standard library only.
"""
import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import ScenarioFailed, Skipped  # noqa: E402
from scenarios import OPEN_RUNS, SCENARIOS, Run  # noqa: E402

SUMMARY = ("%s: %d records written, %d delivered, %d lost, "
           "%d duplicated after de-duplication")


class Context:
    pass


def run_scenario(ctx, name, fn):
    """Runs one scenario; prints its notes and its summary line; returns True if it
    passed (or was skipped)."""
    t0 = time.monotonic()
    run = None
    counts = None
    failure = None
    try:
        run = Run(ctx, name)
        fn(run)
        counts = run.finish()
    except Skipped as e:
        print("%s: SKIPPED (%s)" % (name, e), flush=True)
        if run is not None:
            run.close()
        return True
    except ScenarioFailed as e:
        failure = str(e)
    except Exception:  # a harness bug or an unexpected state: the scenario fails
        failure = traceback.format_exc()
    if run is not None:
        if counts is None:
            try:
                counts = run.finish(drain_timeout=30)
            except Exception:
                failure = (failure or "") + "\n" + traceback.format_exc()
        run.close()
    for n in (run.notes if run else []):
        print("  " + n)
    problems = (run.problems if run else []) + ([failure] if failure else [])
    for p in problems:
        print("  PROBLEM: " + p.strip().replace("\n", "\n    "))
    if problems and run is not None:
        print("  agent log (last lines):\n    " +
              "\n    ".join(run.agent.log().strip().split("\n")[-15:] if run.agent else []))
    print("  (%.1f s, in %s)" % (time.monotonic() - t0, os.path.join(ctx.workdir, name)))
    if counts is None:
        counts = {"written": 0, "delivered": 0, "lost": 0, "duplicated": 0}
    print(SUMMARY % (name, counts["written"], counts["delivered"], counts["lost"],
                     counts["duplicated"]), flush=True)
    return (not problems and counts["lost"] == 0
            and counts["duplicated"] == 0)


def main():
    names = [n for n, _ in SCENARIOS]
    p = argparse.ArgumentParser(description="outpost fault-injection suite (docs/chaos.md)")
    p.add_argument("--binary", required=True, help="the outpost executable")
    p.add_argument("--source-dir", required=True, help="the source tree")
    form = p.add_mutually_exclusive_group()
    form.add_argument("--short", dest="long", action="store_false", default=False,
                      help="small sizes, under ~2 minutes (default)")
    form.add_argument("--long", dest="long", action="store_true",
                      help="full sizes: 100 kills, 30 s stalls, 10,000 files, a 50 MB line")
    p.add_argument("--seed", type=int, help="seed of everything random (default: random)")
    p.add_argument("--scenario", nargs="+", choices=names, metavar="NAME",
                   help="only these (%s)" % ", ".join(names))
    p.add_argument("--keep", action="store_true", help="keep the work directory")
    p.add_argument("--list", action="store_true", help="list the scenarios and exit")
    args = p.parse_args()
    if args.list:
        for n, fn in SCENARIOS:
            print("%-20s %s" % (n, " ".join((fn.__doc__ or "").split())))
        return 0
    if os.name != "posix":
        print("chaos: POSIX only")
        return 2
    ctx = Context()
    ctx.binary = os.path.abspath(args.binary)
    ctx.source_dir = os.path.abspath(args.source_dir)
    ctx.long = args.long
    ctx.seed = args.seed if args.seed is not None else random.SystemRandom().randrange(1, 10**6)
    if not os.path.isfile(ctx.binary):
        p.error("no such binary: %s" % ctx.binary)
    if shutil.which("openssl") is None:
        p.error("no openssl command (scripts/make-test-ca.sh needs it)")
    ctx.workdir = tempfile.mkdtemp(prefix="outpost-chaos-")
    print("chaos: %s form, seed %d (replay: --seed %d), work dir %s" % (
        "long" if ctx.long else "short", ctx.seed, ctx.seed, ctx.workdir), flush=True)
    ctx.ca = os.path.join(ctx.workdir, "ca")
    subprocess.run([os.path.join(ctx.source_dir, "scripts", "make-test-ca.sh"), ctx.ca],
                   check=True, stdout=subprocess.DEVNULL)
    chosen = args.scenario or names
    failed = []
    t0 = time.monotonic()
    try:
        for name, fn in SCENARIOS:
            if name in chosen and not run_scenario(ctx, name, fn):
                failed.append(name)
    finally:
        for run in list(OPEN_RUNS):  # interrupted: kill the agent, unmount the tmpfs
            run.close()
    print("chaos: %d scenario(s) in %.0f s, seed %d: %s" % (
        len(chosen), time.monotonic() - t0, ctx.seed,
        "FAILED: " + ", ".join(failed) if failed else "all passed"), flush=True)
    if failed or args.keep:
        print("chaos: work directory kept: %s" % ctx.workdir)
    else:
        shutil.rmtree(ctx.workdir, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
