"""The analysis error type, and the rule that analysis code never imports Django."""

import ast
import pickle
from pathlib import Path

import characterization.analysis as analysis_package
from characterization.analysis.errors import AnalysisError


def test_analysis_error_is_a_value_error_with_a_field_and_a_plain_message():
    error = AnalysisError("active_mass_mg", "active mass must be > 0 mg")
    assert isinstance(error, ValueError)
    assert error.field == "active_mass_mg"
    assert str(error) == "active mass must be > 0 mg"
    assert error.as_dict() == {"active_mass_mg": ["active mass must be > 0 mg"]}


def test_analysis_error_survives_pickling_with_its_field():
    error = pickle.loads(pickle.dumps(AnalysisError("z_oxygen", "oxygen z must be ...")))
    assert (error.field, error.message) == ("z_oxygen", "oxygen z must be ...")


def test_analysis_modules_never_import_django():
    package_dir = Path(analysis_package.__file__).parent
    offenders = []
    for path in sorted(package_dir.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] == "django"]
    assert offenders == []
