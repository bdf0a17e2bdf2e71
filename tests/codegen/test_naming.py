"""Readable identifiers from the names documents use."""

from __future__ import annotations

import keyword

import pytest

from schemakit.codegen.naming import class_name, field_name, unique_names


@pytest.mark.parametrize(
    ("text", "field", "cls"),
    [
        ("sepal length (cm)", "sepal_length_cm", "SepalLengthCm"),
        ("my-model-2", "my_model_2", "MyModel2"),
        ("a.b", "a_b", "AB"),
        ("camelCase", "camel_case", "CamelCase"),
        ("1st", "col_1st", "Model1st"),
        ("class", "class_", "Class"),
        ("match", "match_", "Match"),
        ("café", "cafe", "Cafe"),
        ("数据", "数据", "数据"),
        ("json", "json_", "Json"),
        ("datetime", "datetime_", "Datetime"),
        ("model_dump_x", "col_model_dump_x", "ModelDumpX"),
        ("", "col", "Model"),
        ('"); import os; os.system("x") #', "import_os_os_system_x", "ImportOsOsSystemX"),
        ("line\nbreak", "line_break", "LineBreak"),
    ],
)
def test_identifiers_are_valid_and_readable(text: str, field: str, cls: str) -> None:
    assert field_name(text) == field
    assert class_name(text) == cls
    for name in (field_name(text), class_name(text)):
        assert name.isidentifier()
        assert not keyword.iskeyword(name)


def test_collisions_after_cleaning_are_numbered_in_document_order() -> None:
    assert unique_names(["a b", "a_b", "a-b", "", "!!"]) == {
        "a b": "a_b",
        "a_b": "a_b_2",
        "a-b": "a_b_3",
        "": "col",
        "!!": "col_2",
    }
    assert unique_names(["models", "x"], taken={"models"}) == {"models": "models_2", "x": "x"}
    assert unique_names(["m-1", "m_1"], style="class") == {"m-1": "M1", "m_1": "M1_2"}
