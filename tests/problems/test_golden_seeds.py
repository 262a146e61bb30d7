"""Seeds are forever: a seed printed on a mock exam or stored with an attempt must pose the same
instance after any upgrade. This pins, per family, a digest of the params and reference answers
of seeds 0..19 (golden_seeds.json). A change here is a break of every stored seed: bump the
family's version instead (stored attempts keep their params), then regenerate on purpose with
    .venv/bin/python -m tests.problems.test_golden_seeds --write
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import pytest

from problems.registry import all_families, instantiate

GOLDEN = Path(__file__).with_name("golden_seeds.json")
SEEDS = range(20)


def digest(family_id: str) -> str:
    h = hashlib.sha256()
    for seed in SEEDS:
        inst = instantiate(family_id, seed=seed)
        h.update(json.dumps([inst.params, inst.answers], sort_keys=True, ensure_ascii=False).encode())
    return h.hexdigest()


def current() -> dict[str, str]:
    return {f.id: digest(f.id) for f in sorted(all_families(), key=lambda f: f.id)}


def pinned() -> dict[str, str]:
    return json.loads(GOLDEN.read_text()) if GOLDEN.exists() else {}


@pytest.mark.parametrize("family_id", sorted(pinned()))
def test_seeds_pose_the_pinned_instances(family_id: str) -> None:
    assert digest(family_id) == pinned()[family_id], (
        f"seeds of {family_id} now pose other instances (see module doc)"
    )


def test_every_family_is_pinned() -> None:
    assert sorted(pinned()) == sorted(f.id for f in all_families())


if __name__ == "__main__" and "--write" in sys.argv:
    GOLDEN.write_text(json.dumps(current(), indent=1, sort_keys=True) + "\n")
    print(f"wrote {GOLDEN}")
