"""The night's report: JUnit XML for CI's test views, and a Markdown table for people.

One test suite per target and one test case per phase, so a failed destroy
shows up as itself and not as a vague failed target. Skipped phases (after
an earlier failure) are reported as skipped, with the reason.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path

from tools.nightly.lifecycle import TargetResult, format_duration

RESULT_WORDS = {"passed": "ok", "failed": "FAILED", "skipped": "skipped"}


def junit_xml(results: Sequence[TargetResult], run_id: str) -> str:
    suites = ET.Element("testsuites", name=f"nightly {run_id}")
    for result in results:
        failures = sum(1 for p in result.phases if p.outcome == "failed")
        skipped = sum(1 for p in result.phases if p.outcome == "skipped")
        seconds = sum(p.seconds for p in result.phases)
        suite = ET.SubElement(
            suites,
            "testsuite",
            name=result.target,
            tests=str(len(result.phases)),
            failures=str(failures),
            errors="0",
            skipped=str(skipped),
            time=f"{seconds:.3f}",
        )
        ET.SubElement(ET.SubElement(suite, "properties"), "property", name="stack", value=result.stack)
        for phase in result.phases:
            case = ET.SubElement(
                suite, "testcase", classname=f"nightly.{result.target}", name=phase.phase, time=f"{phase.seconds:.3f}"
            )
            if phase.outcome == "failed":
                failure = ET.SubElement(case, "failure", message=phase.detail.splitlines()[0] if phase.detail else "")
                failure.text = phase.detail
            elif phase.outcome == "skipped":
                ET.SubElement(case, "skipped", message=phase.detail)
    phases = [phase for result in results for phase in result.phases]
    suites.set("tests", str(len(phases)))
    suites.set("failures", str(sum(1 for p in phases if p.outcome == "failed")))
    suites.set("errors", "0")
    suites.set("skipped", str(sum(1 for p in phases if p.outcome == "skipped")))
    suites.set("time", f"{sum(p.seconds for p in phases):.3f}")
    ET.indent(suites)
    return ET.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"


def _cell(text: str) -> str:
    # A table cell is one line, and a pipe would end it early.
    return " ".join(text.split()).replace("|", "\\|")


def markdown(results: Sequence[TargetResult], run_id: str) -> str:
    passed = sum(1 for r in results if r.passed)
    lines = [
        f"## Nightly {run_id}: {passed} of {len(results)} targets passed",
        "",
        "| target | phase | duration | result | error |",
        "| --- | --- | --- | --- | --- |",
    ]
    for result in results:
        for phase in result.phases:
            error = phase.detail if phase.outcome != "passed" else ""
            lines.append(
                f"| {result.target} | {phase.phase} | {format_duration(phase.seconds)} "
                f"| {RESULT_WORDS[phase.outcome]} | {_cell(error)} |"
            )
    lines.append("")
    lines.extend(f"- `{r.target}`: stack `{r.stack}`, {'passed' if r.passed else 'FAILED'}" for r in results)
    return "\n".join(lines) + "\n"


def write_reports(results: Sequence[TargetResult], run_id: str, directory: Path) -> tuple[Path, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    xml_path, md_path = directory / "junit.xml", directory / "summary.md"
    xml_path.write_text(junit_xml(results, run_id), encoding="utf-8")
    md_path.write_text(markdown(results, run_id), encoding="utf-8")
    return xml_path, md_path
