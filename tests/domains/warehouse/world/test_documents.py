"""The warehouse's documents are byte for byte what they were before the simulator became generic.

The digests below are of the documents the warehouse's own simulator wrote (commit 778a70f, the
last before ``plansentry.sim``), for the same commands: the move changed where the code lives,
never what it computes. The same was checked once at full size (docs/SIMULATION.md, "One engine
for every kit": the 500,000-cycle pilot document and a chaos sweep). A change that is meant to
change these figures must say so, and write the new digests here.
"""

from __future__ import annotations

import hashlib

import pytest

from plansentry.cli import main

BEFORE_THE_MOVE = {
    "simulate --profile chaos --cycles 4000 --seed 1 --robots 3 --sweep-budget 50 --json": (
        "f02a71075fa3c15341323f9043e2b0c3f1257f023149f492c5033a04ec7da688"
    ),
    "simulate --profile pilot --cycles 6000 --seed 3 --json": (
        "4f8f29debbf468b32b00289a18413b5c2879ee40297f61fdc68acbb6fa7eb44b"
    ),
    "sweep --budgets 50,150 --profiles chaos --robots 1,4 --cycles 2000 --json": (
        "d75ffdc335ef34ea22bfb958c389c4c6e677c2db586870458eede9ad4927514e"
    ),
}


@pytest.mark.parametrize("command", sorted(BEFORE_THE_MOVE))
def test_the_document_is_the_one_written_before_the_move(command: str, capsys) -> None:
    """The same command writes the same bytes (sha256 of stdout)."""
    assert main(command.split()) == 0
    out = capsys.readouterr().out.encode()
    assert hashlib.sha256(out).hexdigest() == BEFORE_THE_MOVE[command]
