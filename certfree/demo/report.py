"""The demo's output: each step recorded as a :class:`Step` and printed by a
:class:`Reporter`, as plain lines for people or as JSON lines with ``--json``; and
:class:`StepFailed`, which ends a scenario at the step that failed.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import TextIO


@dataclass(frozen=True)
class Step:
    """One step of a scenario, as printed and as ``--json`` writes it."""

    scenario: int
    """The scenario's number (0: preparing the catalogue)."""
    number: int
    """The step's number within its scenario, from 1."""
    label: str
    """What happened, zh-CN with English."""
    ok: bool
    """True when the step's checks passed."""
    figures: dict[str, str] = field(default_factory=dict)
    """The figures that matter: ids, ledger indexes, states, seconds."""
    failure: str = ""
    """What failed, when not ok."""


class StepFailed(Exception):
    """A step's check failed (or the step could not be played); the message says what."""


class Reporter:
    """Prints steps as they happen: plain lines for people, JSON lines with ``--json``."""

    def __init__(self, out: TextIO, *, as_json: bool) -> None:
        self.out = out
        self.as_json = as_json
        self.steps: list[Step] = []

    def heading(self, text: str) -> None:
        """A scenario's title (people only)."""
        if not self.as_json:
            print(f"\n{text}", file=self.out, flush=True)

    def note(self, text: str) -> None:
        """A line of explanation (people only)."""
        if not self.as_json:
            print(f"  {text}", file=self.out, flush=True)

    def step(self, step: Step) -> None:
        """Record and print one step."""
        self.steps.append(step)
        if self.as_json:
            print(json.dumps(asdict(step), ensure_ascii=False), file=self.out, flush=True)
            return
        mark = "✓" if step.ok else "✗"
        name = "准备 / setup" if step.scenario == 0 else f"步骤 {step.number} / step {step.number}"
        line = f"  {mark} {name}: {step.label}"
        figures = ", ".join(f"{key} {value}" for key, value in step.figures.items())
        if figures:
            line += f"\n      {figures}"
        if step.failure:
            line += f"\n      失败 / FAILED: {step.failure}"
        print(line, file=self.out, flush=True)

    def summary(self, scenario: int, ok: bool, seconds: float) -> None:
        """A scenario's verdict."""
        record = {"scenario": scenario, "passed": ok, "seconds": round(seconds, 2)}
        if self.as_json:
            print(json.dumps({"summary": record}), file=self.out, flush=True)
        else:
            verdict = "通过 / passed" if ok else "未通过 / FAILED"
            print(f"  => 场景 {scenario} {verdict} ({seconds:.2f} s)", file=self.out, flush=True)
