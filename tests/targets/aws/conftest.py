"""The aws example stack, evaluated once for every test file here that reads it unchanged."""

from __future__ import annotations

import pytest

from tests.harness.stack import Evaluation, evaluate
from tests.targets.aws.stack import aws_stack


@pytest.fixture(scope="package")
def example() -> Evaluation:
    return evaluate(aws_stack())
