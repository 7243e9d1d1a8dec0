"""The night's JUnit XML and Markdown summary say, per target and phase, what happened and why."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

from tests.nightly.fakes import Night, cli_error
from tests.nightly.test_lifecycle import RUN_ID, night_for
from tools.nightly.lifecycle import PhaseResult, TargetResult, format_duration, run_target
from tools.nightly.report import junit_xml, markdown, write_reports
from tools.nightly.targets import target_named


def two_targets() -> list[TargetResult]:
    good: Night = night_for("gcp")
    bad: Night = night_for("aws")
    bad.stack.scripts["up"].errors.append(cli_error("creating RDS DB Instance: InvalidParameterCombination | x"))
    return [
        run_target(target_named("aws"), RUN_ID, bad.services()),
        run_target(target_named("gcp"), RUN_ID, good.services()),
    ]


def test_junit_has_a_suite_per_target_and_a_case_per_phase() -> None:
    root = ET.fromstring(junit_xml(two_targets(), RUN_ID))

    assert root.tag == "testsuites" and root.get("name") == f"nightly {RUN_ID}"
    assert (root.get("tests"), root.get("failures"), root.get("skipped")) == ("18", "1", "4")
    aws, gcp = root.findall("testsuite")
    assert (aws.get("name"), aws.get("failures"), aws.get("skipped")) == ("aws", "1", "4")
    assert gcp.get("failures") == "0" and gcp.get("skipped") == "0"
    assert aws.find("properties/property").attrib == {"name": "stack", "value": f"ci-aws-{RUN_ID}"}
    cases = {case.get("name"): case for case in aws.findall("testcase")}
    assert list(cases) == ["preflight", "configure", "up", "ready", "probe", "support", "preview", "destroy", "remove"]
    failure = cases["up"].find("failure")
    assert failure is not None
    assert failure.get("message") == "creating RDS DB Instance: InvalidParameterCombination | x"
    assert cases["ready"].find("skipped").get("message") == "an earlier phase failed"
    assert cases["destroy"].find("failure") is None and cases["destroy"].find("skipped") is None
    assert all(case.get("classname") == "nightly.aws" for case in cases.values())


def test_markdown_is_a_table_of_target_phase_duration_result_error() -> None:
    text = markdown(two_targets(), RUN_ID)
    lines = text.splitlines()

    assert lines[0] == f"## Nightly {RUN_ID}: 1 of 2 targets passed"
    assert lines[2] == "| target | phase | duration | result | error |"
    assert "| aws | up | 0m00s | FAILED | creating RDS DB Instance: InvalidParameterCombination \\| x |" in lines
    assert "| aws | ready | 0m00s | skipped | an earlier phase failed |" in lines
    assert "| gcp | remove | 0m00s | ok |  |" in lines
    assert f"- `aws`: stack `ci-aws-{RUN_ID}`, FAILED" in lines
    # Every table row has exactly the five cells of the header.
    rows = [line for line in lines if line.startswith("| ")]
    assert rows and all(len(re.split(r"(?<!\\)\|", line)) - 2 == 5 for line in rows)


def test_multi_line_errors_stay_on_one_row_and_durations_read_as_minutes() -> None:
    result = TargetResult("aws", "ci-aws-x", [PhaseResult("up", "failed", 3723.4, "first line\nsecond line")])
    assert "| aws | up | 1h02m03s | FAILED | first line second line |" in markdown([result], "r")
    assert format_duration(723) == "12m03s"
    assert format_duration(0.4) == "0m00s"


def test_reports_are_written_where_asked(tmp_path: Path) -> None:
    xml_path, md_path = write_reports(two_targets(), RUN_ID, tmp_path / "out")
    assert ET.parse(xml_path).getroot().get("tests") == "18"
    assert md_path.read_text().startswith(f"## Nightly {RUN_ID}")
