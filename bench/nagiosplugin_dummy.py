"""Baseline for bench/check_startup.py: a standalone nagiosplugin dummy check.

This is what an operator would write by hand without osops: argparse, one
Resource, one Context, nagiosplugin's runtime. osops must start about as fast.
"""

import argparse

import nagiosplugin

STATES = [nagiosplugin.Ok, nagiosplugin.Warn, nagiosplugin.Critical, nagiosplugin.Unknown]


class Dummy(nagiosplugin.Resource):
    def __init__(self, state, text):
        self.state, self.text = state, text

    def probe(self):
        return [nagiosplugin.Metric("dummy", (self.state, self.text), context="dummy")]


class Given(nagiosplugin.Context):
    def evaluate(self, metric, resource):
        state, text = metric.value
        return nagiosplugin.Result(STATES[state], text, metric)


class Text(nagiosplugin.Summary):
    def ok(self, results):
        return results.first_significant.hint

    def problem(self, results):
        return results.first_significant.hint


@nagiosplugin.guarded
def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--state", type=int, choices=range(4), default=0)
    parser.add_argument("--text", default="dummy")
    parser.add_argument("-t", "--timeout", type=int, default=10)
    args = parser.parse_args()
    check = nagiosplugin.Check(Dummy(args.state, args.text), Given("dummy"), Text())
    check.main(timeout=args.timeout)


if __name__ == "__main__":
    main()
