"""The command line, on a real SQLite store in a temporary data directory."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from fabnet.entrypoints.cli.main import app
from fabnet.sim.parts import box_stl

runner = CliRunner()

RECORDS = [
    {
        "id": "fl-1",
        "name": "FabLab One",
        "location": {"gps-coordinates": "52.52, 13.40"},
        "equipment": [
            {
                "manufacturing-process": "FDM",
                "make": "Prusa",
                "model": "MK4",
                "build-volume": "250x210x220",
                "materials-worked": ["PLA", "PETG"],
            }
        ],
    },
    {
        "name": "Shop Two",
        "location": {"address": {"locality": "Hamburg", "country": "DE"}},
        "facilityStatus": "Active",
        "equipment": [
            {
                "manufacturing-process": "laser cutting",
                "build-volume": [600, 400, 50],
                "materials-worked": ["PLYWOOD"],
            }
        ],
    },
    {"name": "Broken", "location": {"gps-coordinates": "not a place"}},
    {
        "name": "Also broken",
        "location": {"lat": 1, "lon": 2},
        "equipment": [
            {
                "manufacturing-process": "FDM",
                "build-volume": "1x1x1",
                "materials-worked": ["CHEESE"],
            }
        ],
    },
]


@pytest.fixture(autouse=True)
def data_dir(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("FABNET_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("FABNET_DATABASE_URL", raising=False)
    return tmp_path


def fab(*args: str):
    return runner.invoke(app, list(args))


def test_import_reports_bad_records_and_imports_the_good(tmp_path):
    path = tmp_path / "okw.yaml"
    path.write_text(yaml.safe_dump(RECORDS))
    result = fab("producers", "import", str(path), "--json")
    assert result.exit_code == 65, result.output
    summary = json.loads(result.stdout)
    assert (summary["created"], summary["updated"], summary["unchanged"]) == (2, 0, 0)
    assert [(e["index"], e["field"]) for e in summary["invalid"]] == [
        (2, "location.gps-coordinates"),
        (3, "equipment[0].materials-worked[0]"),
    ]
    listed = json.loads(fab("producers", "list", "--json").stdout)
    assert sorted(p["name"] for p in listed["items"]) == ["FabLab One", "Shop Two"]


def test_reimporting_the_same_file_changes_nothing(tmp_path):
    path = tmp_path / "okw.json"
    path.write_text(json.dumps(RECORDS[:2]))
    assert fab("producers", "import", str(path)).exit_code == 0
    export_before = fab("producers", "export").stdout
    again = json.loads(fab("producers", "import", str(path), "--json").stdout)
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 2)
    assert fab("producers", "export").stdout == export_before


def test_export_then_import_elsewhere_round_trips(tmp_path, monkeypatch):
    src = tmp_path / "okw.json"
    src.write_text(json.dumps(RECORDS[:2]))
    fab("producers", "import", str(src))
    out = tmp_path / "export.yaml"
    assert fab("producers", "export", "--out", str(out), "--format", "yaml").exit_code == 0
    monkeypatch.setenv("FABNET_DATA_DIR", str(tmp_path / "other"))
    result = json.loads(fab("producers", "import", str(out), "--json").stdout)
    assert result["created"] == 2 and not result["invalid"]
    machines = json.loads(fab("machines", "list", "--json").stdout)["items"]
    assert sorted(m["process"] for m in machines) == ["fdm", "laser_cutting"]


def test_a_changed_record_updates_the_producer(tmp_path):
    path = tmp_path / "okw.json"
    path.write_text(json.dumps(RECORDS[:1]))
    fab("producers", "import", str(path))
    changed = json.loads(json.dumps(RECORDS[:1]))
    changed[0]["facilityStatus"] = "Temporary Closure"
    path.write_text(json.dumps(changed))
    report = json.loads(fab("producers", "import", str(path), "--json").stdout)
    assert report["updated"] == 1
    (p,) = json.loads(fab("producers", "list", "--json").stdout)["items"]
    assert p["status"] == "temporary_closure"


@pytest.mark.parametrize(
    ("content", "name", "code"),
    [
        ("{broken", "x.json", 65),
        ("[]", "x.txt", 65),
    ],
)
def test_bad_import_files_fail_with_a_message(tmp_path, content, name, code):
    path = tmp_path / name
    path.write_text(content)
    result = fab("producers", "import", str(path))
    assert result.exit_code == code
    assert "error" in result.output


def test_missing_file_exit_code():
    result = fab("producers", "import", "/no/such/file.json")
    assert result.exit_code == 66 and "no such file" in result.output


def test_designs_orders_and_jobs_from_the_cli(tmp_path):
    stl = tmp_path / "clip.stl"
    stl.write_bytes(box_stl(30, 12, 8))
    added = fab("designs", "add", str(stl), "--material", "PLA", "--print-time-s", "600", "--json")
    assert added.exit_code == 0, added.output
    assert json.loads(added.stdout)["triangles"] == 12
    assert json.loads(fab("designs", "list", "--json").stdout)["total"] == 1
    assert json.loads(fab("orders", "list", "--json").stdout)["total"] == 0
    assert fab("orders", "show", "ord_missing").exit_code == 66
    design = json.loads(added.stdout)["id"]
    fab_ok = fab("producers", "import", str(_records(tmp_path)))
    assert fab_ok.exit_code == 0, fab_ok.output
    made = fab(
        "orders",
        "create",
        "--design",
        design,
        "--quantity",
        "5",
        "--deadline",
        "2030-01-10T12:00Z",
        "--to",
        "Hamburg, DE",
        "--json",
    )
    assert made.exit_code == 0, made.output
    (line,) = json.loads(made.stdout)["lines"]
    assert abs(line["destination"]["lat"] - 53.55) < 0.05
    lost = fab(
        "orders",
        "create",
        "--design",
        design,
        "--quantity",
        "5",
        "--deadline",
        "2030-01-10T12:00Z",
        "--to",
        "Xyzzyville, DE",
    )
    assert lost.exit_code != 0 and "--to.city" in lost.output and "Traceback" not in lost.output
    naive = fab(
        "orders",
        "create",
        "--design",
        design,
        "--quantity",
        "5",
        "--deadline",
        "2030-01-10",
        "--to",
        "Hamburg",
    )
    assert naive.exit_code == 2 and "timezone" in naive.output
    assert json.loads(fab("orders", "list", "--json").stdout)["total"] == 1
    assert fab("jobs", "show", "job_missing", "--json").exit_code == 66


def _records(tmp_path: Path) -> Path:
    path = tmp_path / "okw.json"
    path.write_text(json.dumps(RECORDS[:1]))
    return path


def test_bad_design_exit_code_and_message(tmp_path):
    bad = tmp_path / "bad.stl"
    bad.write_bytes(b"\x00" * 10)
    result = fab("designs", "add", str(bad))
    assert result.exit_code == 65 and "not an STL" in result.output


def test_keys_create_prints_the_secret_once():
    result = fab("keys", "create", "--role", "consumer", "--name", "clinic", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["secret"].startswith("fab_")
    bad = fab("keys", "create", "--role", "producer", "--name", "x", "--producer-id", "prd_none")
    assert bad.exit_code == 65 and "producer_id" in bad.output


def test_plan_solves_a_problem_file(tmp_path):
    from fabnet.planning.files import to_dict
    from tests.unit.planning.test_flow import random_problem

    path = tmp_path / "problem.json"
    path.write_text(json.dumps(to_dict(random_problem(2, 15, 8))))
    result = fab("plan", str(path), "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    # small lines: the LP bound is a little below the integer optimum, so not certified
    assert summary["certified"] is (summary["gap"] <= 1e-3)
    assert 0 <= summary["gap"] <= 0.01
    assert summary["lp_bound"] <= summary["objective"]
    assert summary["units_assigned"] + summary["units_unmet"] == sum(
        line["units"] for line in json.loads(path.read_text())["lines"]
    )
    assert sum(a["units"] for a in summary["assignments"]) == summary["units_assigned"]
    assert all(set(a["costs"]) == {"production", "transport", "co2", "lateness", "risk"}
               for a in summary["assignments"])  # fmt: skip
    greedy = json.loads(fab("plan", str(path), "--json", "--solver", "greedy").stdout)
    assert greedy["objective"] >= summary["objective"] - 1e-6
    charged = json.loads(fab("plan", str(path), "--json", "--fixed-charge").stdout)
    assert charged["solver"] == "fixed_charge"


def test_plan_says_its_progress_times_its_steps_and_keeps_a_pricing_limit(tmp_path):
    from fabnet.planning.files import to_dict
    from fabnet.planning.steps import STEPS
    from tests.unit.planning.test_flow import random_problem

    path = tmp_path / "problem.json"
    path.write_text(json.dumps(to_dict(random_problem(2, 15, 8))))  # 3 pricing rounds
    quiet = fab("plan", str(path), "--json")
    assert quiet.exit_code == 0 and "round 1:" not in quiet.stderr
    result = fab("plan", str(path), "--json", "--progress")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)  # the progress is on stderr alone
    said = [line.split("] ", 1)[1] for line in result.stderr.splitlines()]
    rounds = [line for line in said if line.startswith("round ")]
    assert len(rounds) == 3 and rounds[0].startswith("round 1: ")
    assert "restricted LP" in rounds[-1] and "bound" in rounds[-1]
    # every step said as it ended, in the order run; the plan file's steps_s the same
    ended = [line.split(":", 1)[0] for line in said if not line.startswith("round ")]
    assert ended == list(document["steps_s"]) == [s for s in STEPS if s in ended]
    assert {"lp", "rounding", "assignments"} <= set(ended)
    assert all(v >= 0 for v in document["steps_s"].values())
    assert sum(document["steps_s"].values()) <= document["plan_s"] + 0.05
    # pricing stopped by time: one round, a plan that still holds, its bound stated
    plan = tmp_path / "plan.json"
    cut = fab("plan", str(path), "--progress", "--pricing-limit-s", "1e-9", "--out", str(plan))
    assert cut.exit_code == 0, cut.output
    assert sum(line.split("] ", 1)[1].startswith("round ") for line in cut.stderr.splitlines()) == 1
    assert fab("plan", "check", str(path), str(plan)).exit_code == 0
    limited = json.loads(plan.read_text())
    # a lower bound of the same problem: below every plan of it
    assert limited["lp_bound"] <= min(document["objective"], limited["objective"]) + 1e-6
    assert limited["gap"] >= 0 and limited["certified"] is (limited["gap"] <= 1e-3)
    for bad in ("0", "-1", "nan", "inf"):
        refused = fab("plan", str(path), "--pricing-limit-s", bad, "--out", str(tmp_path / "x"))
        assert refused.exit_code == 2 and "--pricing-limit-s" in refused.output, bad
        assert not (tmp_path / "x").exists()


def test_a_fixed_charge_plan_says_its_lp_rounds_and_each_candidate_once(tmp_path):
    """With ``--fixed-charge``, progress is the relaxed LP's pricing rounds, the
    splittable plan's rounds and steps (a whole plan of its own) and one line a candidate
    plan (its cost with parcels, the seconds so far), not each candidate's steps or its
    unpriced network."""
    from fabnet.planning.files import to_dict
    from fabnet.planning.steps import STEPS
    from tests.unit.planning.test_flow import random_problem

    path = tmp_path / "problem.json"
    data = to_dict(random_problem(2, 15, 8))
    data["costs"]["fixed_per_pair"] = 50.0
    path.write_text(json.dumps(data))
    result = fab("plan", str(path), "--json", "--progress", "--fixed-charge")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["solver"] == "fixed_charge"
    said = [line.split("] ", 1)[1] for line in result.stderr.splitlines()]
    at = [i for i, line in enumerate(said) if line.split(":", 1)[0] in STEPS]
    first = next(i for i, line in enumerate(said) if line.startswith("fixed charge: "))
    split = next(i for i, line in enumerate(said) if "the splittable plan" in line)
    assert at and first < min(at) and max(at) < split  # the splittable plan's alone
    assert [said[i].split(":", 1)[0] for i in at] == [s for s in STEPS if s != "greedy"]
    notes = [line for line in said if line.startswith("fixed charge: ")]
    assert notes[0].startswith("fixed charge: the LP's plan ")
    assert any(n.startswith("fixed charge: the splittable plan ") for n in notes)
    seconds = [float(n.rsplit("(", 1)[1].removesuffix(" s)")) for n in notes]
    assert seconds == sorted(seconds)
    rounds = [line for line in said if line.startswith("round ")]
    assert rounds[0].startswith("round 1: ") and len(rounds) + len(notes) + len(at) == len(said)
    # the best candidate is the plan: no note below its cost
    costs = [float(n.rsplit("(", 1)[0].split()[-1]) for n in notes]
    assert min(costs) == pytest.approx(document["objective"], abs=1.0)


def test_plan_check_accepts_the_planners_plan_and_names_each_violation(tmp_path):
    from fabnet.planning.files import to_dict
    from tests.unit.planning.test_flow import random_problem

    problem = tmp_path / "problem.json"
    problem.write_text(json.dumps(to_dict(random_problem(3, 20, 10))))
    plan = tmp_path / "plan.json"
    made = fab("plan", str(problem), "--out", str(plan))
    assert made.exit_code == 0, made.output
    checked = fab("plan", "check", str(problem), str(plan), "--json")
    assert checked.exit_code == 0, checked.output
    assert json.loads(checked.stdout) == {"valid": True, "violations": []}
    document = json.loads(plan.read_text())
    first = document["assignments"][0]
    broken = {
        **document,
        "objective": document["objective"] - 100,
        "assignments": [
            {**first, "units": first["units"] + 1, "machine": "nope"},
            *document["assignments"][1:],
        ],
    }
    plan.write_text(json.dumps(broken))
    result = fab("plan", "check", str(problem), str(plan), "--json")
    assert result.exit_code == 1
    violations = json.loads(result.stdout)["violations"]
    assert any("'nope' is not in the problem" in v for v in violations)
    assert any("units assigned or unmet" in v for v in violations)
    assert any(v.startswith("objective:") for v in violations)


def test_plan_replan_moves_only_the_lost_machines_units(tmp_path):
    from collections import Counter

    from fabnet.planning.files import to_dict
    from tests.unit.planning.test_flow import random_problem

    problem = tmp_path / "problem.json"
    problem.write_text(json.dumps(to_dict(random_problem(3, 20, 10))))
    plan = tmp_path / "plan.json"
    assert fab("plan", str(problem), "--out", str(plan)).exit_code == 0
    before = json.loads(plan.read_text())["assignments"]
    load = Counter()
    for a in before:
        load[a["machine"]] += a["units"]
    lost = load.most_common(1)[0][0]
    new = tmp_path / "new.json"
    result = fab("plan", "replan", str(problem), str(plan), "--lost", lost, "--out", str(new))
    assert result.exit_code == 0, result.output
    assert f"units_displaced {load[lost]}" in result.output
    assert fab("plan", "check", str(problem), str(new)).exit_code == 0
    document = json.loads(new.read_text())
    assert document["replan"]["lost_machines"] == [lost]
    assert document["replan"]["units_displaced"] == load[lost]
    after = document["assignments"]
    assert all(a["machine"] != lost for a in after)

    def units(rows):
        out = Counter()
        for a in rows:
            out[(a["line"], a["machine"], a["day"])] += a["units"]
        return out

    # every assignment not on the lost machine stays, on its machine and day
    kept = units(a for a in before if a["machine"] != lost)
    assert not kept - units(after)
    # a machine that is not in the problem, or a plan that does not hold: refused
    unknown = fab("plan", "replan", str(problem), str(plan), "--lost", "nope")
    assert unknown.exit_code == 65 and "--lost" in unknown.output and "nope" in unknown.output
    broken = json.loads(plan.read_text())
    broken["assignments"][0]["units"] += 1_000
    plan.write_text(json.dumps(broken))
    refused = fab("plan", "replan", str(problem), str(plan), "--lost", lost)
    assert refused.exit_code == 65 and "plan: does not hold" in refused.output


def test_plan_refuses_a_bad_problem_file(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text(
        json.dumps(
            {
                "format": "fabnet-problem/1",
                "horizon_days": 7,
                "machines": [],
                "lines": [{"id": "l", "process": "fdm", "material": "PLA"}],
            }
        )
    )
    result = fab("plan", str(path))
    assert result.exit_code == 65
    assert "lines[0]" in result.output
    path.write_text("{oops")
    assert fab("plan", str(path)).exit_code == 65


def test_a_key_file_is_never_overwritten(tmp_path):
    path = tmp_path / "w.key"
    first = fab("keys", "note", "witness.test/w1", "--cosigner", "--out", str(path))
    assert first.exit_code == 0, first.output
    before = path.read_text()
    again = fab("keys", "note", "witness.test/w1", "--out", str(path))
    assert again.exit_code == 73 and "never overwritten" in again.output
    assert path.read_text() == before
    assert fab("keys", "note", "bad name").exit_code == 65


def test_ledger_check_reports_a_sound_log_and_one_with_an_event_twice(tmp_path):
    import sqlalchemy as sa

    path = tmp_path / "okw.json"
    path.write_text(json.dumps(RECORDS[:1]))
    fab("producers", "import", str(path))
    sound = fab("ledger", "check", "--json")
    assert sound.exit_code == 0, sound.output
    report = json.loads(sound.stdout)
    assert report["ok"] and report["size"] >= 2 and report["duplicate_events"] == []
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'fabnet.sqlite'}")
    with engine.begin() as conn:  # what the old, racy sequencer could leave behind
        conn.execute(
            sa.text(
                "insert into log_leaves (idx, leaf, hash, event_seq, order_id) "
                "select (select count(*) from log_leaves), leaf, hash, event_seq, order_id "
                "from log_leaves where idx = 0"
            )
        )
    engine.dispose()
    broken = fab("ledger", "check", "--json")
    assert broken.exit_code == 1
    report = json.loads(broken.stdout)
    assert report["duplicate_events"] == [{"seq": 1, "leaves": [0, report["size"] - 1]}]
    assert "more than once" in report["problems"][0]


def test_keys_list_and_revoke_from_the_cli():
    made = json.loads(
        fab("keys", "create", "--role", "consumer", "--name", "dora", "--json").stdout
    )
    listed = json.loads(fab("keys", "list", "--json").stdout)
    assert [k["name"] for k in listed["items"]] == ["dora"]
    assert "secret" not in listed["items"][0]
    assert fab("keys", "revoke", made["id"]).exit_code == 0
    (key,) = json.loads(fab("keys", "list", "--json").stdout)["items"]
    assert key["revoked_at"]
    assert fab("keys", "revoke", "key_nope").exit_code == 66


def test_bad_files_are_messages_and_exit_codes_not_tracebacks(tmp_path):
    latin = tmp_path / "latin.json"
    latin.write_bytes(b'{"name": "caf\xe9"}')
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 50_000 + "]" * 50_000)
    for args in (
        ("plan", str(latin)),
        ("plan", str(deep)),
        ("producers", "import", str(latin)),
        ("verify", str(deep), "--log-key", "x"),
    ):
        result = fab(*args)
        assert result.exit_code == 65, (args, result.output)
        assert "Traceback" not in result.output
    missing = fab("producers", "export", "--out", str(tmp_path / "no" / "such" / "dir" / "x.json"))
    assert missing.exit_code == 73 and "does not exist" in missing.output


def test_backup_and_restore_give_a_store_that_matches_its_log(tmp_path, monkeypatch):
    path = tmp_path / "okw.json"
    path.write_text(json.dumps(RECORDS[:2]))
    fab("producers", "import", str(path))
    stl = tmp_path / "part.stl"
    stl.write_bytes(box_stl(20, 20, 5))
    assert fab("designs", "add", str(stl)).exit_code == 0
    made = fab("backup", str(tmp_path / "bk"), "--json")
    assert made.exit_code == 0, made.output
    assert json.loads(made.stdout)["store"] == "sqlite"
    assert fab("backup", str(tmp_path / "bk")).exit_code == 73  # never over a backup
    monkeypatch.setenv("FABNET_DATA_DIR", str(tmp_path / "restored"))
    restored = fab("restore", str(tmp_path / "bk"), "--json")
    assert restored.exit_code == 0, restored.output
    report = json.loads(restored.stdout)
    assert report["ok"] and report["events"] >= 4 and report["problems"] == []
    listed = json.loads(fab("producers", "list", "--json").stdout)
    assert sorted(p["name"] for p in listed["items"]) == ["FabLab One", "Shop Two"]
    again = fab("restore", str(tmp_path / "bk"))
    assert again.exit_code in (73, 75)  # not over a hub that holds data


def test_a_tampered_backup_fails_the_restore_check(tmp_path, monkeypatch):
    import sqlalchemy as sa

    path = tmp_path / "okw.json"
    path.write_text(json.dumps(RECORDS[:2]))
    fab("producers", "import", str(path))
    assert fab("backup", str(tmp_path / "bk")).exit_code == 0
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'bk' / 'fabnet.sqlite'}")
    with engine.begin() as conn:  # history rewritten inside the backup
        conn.execute(sa.text("update log_leaves set hash = :h where idx = 0"), {"h": b"\0" * 32})
    engine.dispose()
    monkeypatch.setenv("FABNET_DATA_DIR", str(tmp_path / "restored"))
    result = fab("restore", str(tmp_path / "bk"), "--json")
    assert result.exit_code == 1
    assert "root" in json.loads(result.stdout)["problems"][0]


IOPA = Path(__file__).resolve().parents[1] / "data" / "okw-iopa"


def test_the_iopa_export_imports_with_its_machines_and_reimports_unchanged():
    facilities = str(IOPA / "preliminary_iop_okw_fac_source_01.sample300.json")
    machines = str(IOPA / "mvp_machinery.sample300.csv")
    first = fab("producers", "import", facilities, "--machines", machines, "--json")
    assert first.exit_code == 0, first.output
    summary = json.loads(first.stdout)
    assert (summary["created"], summary["invalid_records"]) == (300, 0)
    assert summary["machines"] + summary["other_equipment"] == 263
    again = json.loads(
        fab("producers", "import", facilities, "--machines", machines, "--json").stdout
    )
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 300)
    listed = json.loads(fab("machines", "list", "--limit", "500", "--json").stdout)["items"]
    unverified = [m for m in listed if m["status"] == "unverified"]
    assert len(listed) == summary["machines"] and len(unverified) == summary["machines_unverified"]
    # a producer (here the operator) confirms one: it is planned on from then
    target = next(m for m in unverified if m["process"] == "fdm")
    bad = fab("machines", "confirm", target["id"], "--build-volume", "200x200", "--material", "PLA")
    assert bad.exit_code == 2 and "--build-volume" in bad.output
    done = fab(
        "machines",
        "confirm",
        target["id"],
        "--build-volume",
        "200x200x180",
        "--material",
        "PLA",
        "--json",
    )
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout)["status"] == "idle"


def test_okh_designs_import_keep_their_licence_reimport_and_export_round_trip(
    tmp_path, monkeypatch
):
    import shutil

    parts = Path(__file__).resolve().parents[1] / "data" / "real-parts"
    src = tmp_path / "src"
    src.mkdir()
    shutil.copy(parts / "voron2_voron_design_cube_v7.stl", src / "cube.stl")
    (src / "okh.toml").write_text(
        'okhv = "2.0"\nname = "Cube"\nlicense = "GPL-3.0"\nrepo = "https://example.org/c"\n'
        '[[part]]\nname = "Cube"\ntsdc = "3DP"\nexport = "cube.stl"\nmaterial = "PETG"\n'
        '[[part]]\nname = "Far"\nexport = "https://example.org/far.stl"\n'
    )
    first = fab("designs", "import", str(src / "okh.toml"), "--json")
    assert first.exit_code == 0, first.output
    report = json.loads(first.stdout)
    ((done,),) = [report["imported"]]
    assert [s["part"] for s in report["skipped"]] == ["part[1] (Far)"]
    again = json.loads(fab("designs", "import", str(src / "okh.toml"), "--json").stdout)
    assert again["imported"][0]["design_id"] == done["design_id"]  # the same record
    (listed,) = json.loads(fab("designs", "list", "--json").stdout)["items"]
    assert (listed["license"], listed["source"]) == ("GPL-3.0", "https://example.org/c")
    exported = tmp_path / "out"
    assert fab("designs", "export", "--out", str(exported)).exit_code == 0
    (manifest,) = exported.glob("*/okh.toml")
    monkeypatch.setenv("FABNET_DATA_DIR", str(tmp_path / "other"))
    back = json.loads(fab("designs", "import", str(manifest), "--json").stdout)
    assert len(back["imported"]) == 1
    (other,) = json.loads(fab("designs", "list", "--json").stdout)["items"]
    assert (other["name"], other["license"], other["materials"]) == ("Cube", "GPL-3.0", ["PETG"])
    broken = tmp_path / "broken.toml"
    broken.write_text("name = ")
    result = fab("designs", "import", str(broken))
    assert (
        result.exit_code == 65
        and "not valid TOML" in result.output
        and "Traceback" not in result.output
    )


def test_with_json_errors_are_json_too():
    result = fab("orders", "show", "ord_missing", "--json")
    assert result.exit_code == 66
    error = json.loads(result.stderr)["error"]
    assert (error["type"], error["kind"], error["ident"]) == ("not_found", "order", "ord_missing")
    plain = fab("orders", "show", "ord_missing")
    assert plain.exit_code == 66 and plain.stderr.startswith("error:")


def test_a_bad_machine_list_is_a_clear_error_not_a_traceback(tmp_path):
    facilities = str(IOPA / "preliminary_iop_okw_fac_source_01.sample300.json")
    bad = tmp_path / "m.csv"
    bad.write_text("a,b\n1,2\n")
    result = fab("producers", "import", facilities, "--machines", str(bad))
    assert result.exit_code == 65 and "CSV columns missing" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_couriers_and_shipments_from_the_cli(tmp_path):
    from fabnet.bootstrap import bootstrap
    from fabnet.config import Settings
    from fabnet.services import commands as cmd
    from tests.conftest import producer_actor

    stl = tmp_path / "clip.stl"
    stl.write_bytes(box_stl(30, 12, 8))
    design = json.loads(fab("designs", "add", str(stl), "--json").stdout)["id"]
    assert fab("producers", "import", str(_records(tmp_path))).exit_code == 0
    van = fab("couriers", "add", "Van 1", "--mode", "van", "--at", "Berlin, DE", "--json")
    assert van.exit_code == 0, van.output
    courier = json.loads(van.stdout)["id"]
    bad = fab("couriers", "add", "Bike", "--mode", "cargo_bike", "--lat", "52.5", "--lon", "13.4")
    assert bad.exit_code != 0 and "modes.cargo_bike.co2_kg_per_km" in bad.output
    assert fab("couriers", "add", "X", "--mode", "van").exit_code == 2  # no base
    listed = json.loads(fab("couriers", "list", "--json").stdout)
    assert [c["id"] for c in listed["items"]] == [courier]
    key = fab(
        "keys", "create", "--role", "courier", "--courier-id", courier, "--name", "v", "--json"
    )
    assert key.exit_code == 0 and json.loads(key.stdout)["principal_id"] == courier
    # to the courier's base: the hub is the destination, one leg
    to_berlin = ["--deadline", "2030-01-10T12:00Z", "--to", "Berlin, DE", "--json"]
    made = fab("orders", "create", "--design", design, "--quantity", "5", *to_berlin)
    order = json.loads(made.stdout)["id"]
    app = bootstrap(Settings())  # the maker prints the job (as its agent would)
    with app.new_uow() as uow:
        (job,) = uow.jobs.of_order(order)
    for step in (cmd.AcceptJob, cmd.QueueJob, cmd.StartJob, cmd.FinishJob):
        app.bus().handle(step(producer_actor(job.producer_id), job.id))
    app.close()
    wave = fab("shipments", "plan", "--json")
    assert wave.exit_code == 0, wave.output
    assert json.loads(wave.stdout)["planned"] == 1
    (parcel,) = json.loads(fab("shipments", "list", order, "--json").stdout)
    assert parcel["courier_id"] == courier and len(parcel["proof_code"]) == 6
    route = json.loads(fab("couriers", "route", courier, "--json").stdout)
    assert [s["action"] for s in route["stops"]] == ["pickup", "deliver"]
    assert fab("shipments", "step", parcel["id"], "picked_up").exit_code == 0
    assert fab("shipments", "step", parcel["id"], "delivered").exit_code == 2  # no code
    wrong = fab("shipments", "step", parcel["id"], "delivered", "--code", "1")
    assert wrong.exit_code != 0 and "does not match" in wrong.output
    done = fab("shipments", "step", parcel["id"], "delivered", "--code", parcel["proof_code"])
    assert done.exit_code == 0 and "delivered" in done.output
    assert fab("shipments", "step", "shp_missing", "picked_up").exit_code == 66


def test_plan_and_replan_refuse_to_write_a_plan_their_checker_refuses(tmp_path, monkeypatch):
    """A planner's fault (a re-plan once gave machines on probation a second job of a
    line) is caught before anything is written: exit 70, the first violation named."""
    from dataclasses import replace

    import fabnet.planning
    import fabnet.planning.replan
    from fabnet.planning.files import to_dict
    from tests.unit.planning.test_flow import random_problem

    problem = tmp_path / "problem.json"
    problem.write_text(json.dumps(to_dict(random_problem(3, 20, 10))))
    plan = tmp_path / "plan.json"
    assert fab("plan", str(problem), "--out", str(plan)).exit_code == 0
    machine = json.loads(plan.read_text())["assignments"][0]["machine"]
    solve, replan = fabnet.planning.solve, fabnet.planning.replan.replan

    def overfull(made):  # every assignment 1,000 units larger: more than any machine has
        return replace(
            made, assignments=tuple(replace(a, units=a.units + 1_000) for a in made.assignments)
        )

    monkeypatch.setattr(fabnet.planning, "solve", lambda *a, **k: overfull(solve(*a, **k)))
    out_file = tmp_path / "broken.json"
    result = fab("plan", str(problem), "--out", str(out_file))
    assert result.exit_code == 70, result.output
    assert "violation" in result.output and "fault of fabnet's planner" in result.output
    assert not out_file.exists()

    def broken_replan(*a, **k):
        report = replan(*a, **k)
        return replace(report, plan=overfull(report.plan))

    monkeypatch.setattr(fabnet.planning.replan, "replan", broken_replan)
    result = fab(
        "plan", "replan", str(problem), str(plan), "--lost", machine, "--out", str(out_file)
    )
    assert result.exit_code == 70, result.output
    assert not out_file.exists()


def test_plan_check_says_the_first_violations_and_how_many_more(tmp_path):
    from fabnet.entrypoints.cli.plan import SHOWN
    from fabnet.planning.files import to_dict
    from tests.unit.planning.test_flow import random_problem

    problem = tmp_path / "problem.json"
    problem.write_text(json.dumps(to_dict(random_problem(3, 20, 10))))
    plan = tmp_path / "plan.json"
    assert fab("plan", str(problem), "--out", str(plan)).exit_code == 0
    document = json.loads(plan.read_text())
    row = {**document["assignments"][0], "machine": "nope"}
    plan.write_text(json.dumps({**document, "assignments": [row] * (SHOWN + 30)}))
    result = fab("plan", "check", str(problem), str(plan))
    assert result.exit_code == 1
    said = result.stdout.splitlines()
    assert sum(line.startswith("violation: ") for line in said) == SHOWN
    total = len(
        json.loads(fab("plan", "check", str(problem), str(plan), "--json").stdout)["violations"]
    )
    assert total > SHOWN and f"... {total - SHOWN} more" in result.stdout
    assert said[-1] == f"{total} violation(s)"
