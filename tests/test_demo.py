"""`certfree demo`: the seed scenarios played against the real stack on loopback."""

from __future__ import annotations

import dataclasses
import io
import json
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from certfree import demo
from certfree.stack import Stack
from runtime.config import Settings
from runtime.errors import InvalidArgument
from runtime.holders import check_resident_id, check_uscc
from services.proofs import SAMPLE_CATALOGUE as PROOF_SAMPLE

# Any 18 characters that could be a resident ID: 17 digits and a digit or X.
RESIDENT_ID_LIKE = re.compile(r"(?<![0-9A-Z])[0-9]{17}[0-9X](?![0-9A-Z])")
# Names the demo's claims carry; none may reach the output.
NAMES = ("示例法定代表人",)


@pytest.fixture
async def stack(settings: Settings) -> AsyncIterator[Stack]:
    """certfree up --insecure-dev on loopback, its sampler ticking fast."""
    running = await Stack.start(
        dataclasses.replace(settings, proofs_sweep_seconds=0.2), insecure_dev=True
    )
    try:
        yield running
    finally:
        await running.stop()


async def _play(stack: Stack, *, as_json: bool) -> tuple[int, str]:
    out = io.StringIO()
    status = await demo.play(
        stack.addresses()["gateway"],
        verifier_key=demo.local_verifier_key(stack.settings.data_dir),
        out=out,
        as_json=as_json,
    )
    return status, out.getvalue()


def _is_resident_id(candidate: str) -> bool:
    try:
        check_resident_id(candidate, "output")
    except InvalidArgument:
        return False
    return True


def _resident_ids_in(text: str) -> list[str]:
    return [found for found in RESIDENT_ID_LIKE.findall(text) if _is_resident_id(found)]


class TestDemo:
    """Every scenario plays through the gateway and passes; holders stay masked."""

    async def test_every_scenario_passes_and_prints_no_resident_id(self, stack: Stack) -> None:
        """All five scenarios pass (exit 0), twice on one stack (the catalogue and the shared
        license are reused), and neither output holds a resident ID in clear or a name."""
        for as_json in (True, False):
            status, output = await _play(stack, as_json=as_json)
            assert status == demo.EXIT_OK, output
            assert _resident_ids_in(output) == []
            assert not any(name in output for name in NAMES)
            for number in range(1, 10):
                assert demo.synthetic_resident_id(number) not in output
        records = [json.loads(line) for line in (await _play(stack, as_json=True))[1].splitlines()]
        summaries = [r["summary"] for r in records if "summary" in r]
        assert [(s["scenario"], s["passed"]) for s in summaries] == [(n, True) for n in range(1, 6)]
        steps = [r for r in records if "summary" not in r]
        assert all(step["ok"] for step in steps)
        revoked = [s for s in steps if s["scenario"] == 4 and "status check" in s["figures"]]
        assert revoked and revoked[0]["figures"]["status check"].startswith("failed")

    async def test_missing_catalogue_entries_are_created(
        self, settings: Settings, tmp_path: Path
    ) -> None:
        """On a stack seeded without the demo's proof items, the demo creates exactly those
        (as the operator), and a second run creates nothing."""
        sample = yaml.safe_load(PROOF_SAMPLE.read_text(encoding="utf-8"))
        others = [i for i in sample["proof_items"] if i["code"] not in demo.NEEDED_PROOF_ITEMS]
        seed = tmp_path / "proof-items.yaml"
        seed.write_text(yaml.safe_dump({"proof_items": others[:1]}), encoding="utf-8")
        changed = dataclasses.replace(settings, proofs_catalog_file=seed)
        running = await Stack.start(changed, insecure_dev=True)
        try:
            created = []
            for _ in range(2):
                out = io.StringIO()
                status = await demo.play(
                    running.addresses()["gateway"], scenarios=[2], out=out, as_json=True
                )
                assert status == demo.EXIT_OK, out.getvalue()
                first = json.loads(out.getvalue().splitlines()[0])
                assert first["scenario"] == 0 and first["ok"]
                created.append(first["figures"]["created"])
        finally:
            await running.stop()
        assert created == [str(len(demo.NEEDED_PROOF_ITEMS)), "0"]

    async def test_scenario_5_without_a_verifier_key_fails(self, stack: Stack) -> None:
        """Without the log's verifier key the offline check cannot be played: exit 1, said so."""
        out = io.StringIO()
        status = await demo.play(stack.addresses()["gateway"], scenarios=[5], out=out)
        assert status == demo.EXIT_FAILED
        assert "not available" in out.getvalue()

    async def test_gateway_not_answering_is_exit_2(self) -> None:
        """No gateway: the demo cannot run, exit 2."""
        status = await demo.play("http://127.0.0.1:9", out=io.StringIO())
        assert status == demo.EXIT_CANNOT_RUN


class TestSyntheticHolders:
    """The demo's holders are well-formed, and printed masked."""

    @given(st.integers(min_value=0, max_value=999))
    def test_resident_ids_are_valid_and_masked(self, number: int) -> None:
        """Every synthetic resident ID passes GB 11643; its mask hides the middle."""
        resident_id = demo.synthetic_resident_id(number)
        check_resident_id(resident_id, "holder")
        masked = demo.mask(resident_id)
        assert masked == resident_id[:6] + "*" * 8 + resident_id[-4:]

    @given(st.integers(min_value=0, max_value=9_999_999))
    def test_usccs_are_valid(self, number: int) -> None:
        """Every synthetic USCC passes GB 32100's check character."""
        check_uscc(demo.synthetic_uscc(number), "holder")
