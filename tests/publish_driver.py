"""Run one publish in this process, pausing at a named step: the kill drills of test_publish.

    python tests/publish_driver.py CONFIG TARGET [--keep N] [--pause-at STEP]

Prints ``paused at STEP`` on stderr and sleeps there, so a test can SIGKILL the publish at
exactly that step (the step callback of :func:`kb.publish.release.publish`; production code has no
switch for it). Not collected by pytest.
"""

from __future__ import annotations

import argparse
import sys
import time

from kb.publish import release as pub


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("config")
    parser.add_argument("target")
    parser.add_argument("--keep", type=int, default=5)
    parser.add_argument("--pause-at", choices=pub.STEPS)
    args = parser.parse_args()

    def on_step(step: str) -> None:
        if step == args.pause_at:
            print(f"paused at {step}", file=sys.stderr, flush=True)
            time.sleep(3600)

    def say(text: str) -> None:
        print(f"kb publish: {text}", file=sys.stderr, flush=True)

    result = pub.publish(args.config, args.target, keep=args.keep, say=say, on_step=on_step)
    print(result.path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
