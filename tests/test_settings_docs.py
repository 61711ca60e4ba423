from pathlib import Path

from app.core.settings import Settings

README = Path(__file__).resolve().parent.parent / "README.md"


def test_every_setting_has_a_default_and_description() -> None:
    for name, field in Settings.model_fields.items():
        assert field.description, name
        assert not field.is_required(), name


def test_every_setting_is_in_the_readme_table() -> None:
    text = README.read_text()
    missing = [n for n in Settings.model_fields if f"| `{n}` |" not in text]
    assert not missing, f"settings missing from README's settings table: {missing}"


def test_openai_variables_configure_the_llm(monkeypatch) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    s = Settings()
    assert s.llm_base_url == "http://127.0.0.1:9/v1" and s.llm_configured
    monkeypatch.delenv("OPENAI_BASE_URL")
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    assert not Settings().llm_configured


def test_llm_fields_can_be_set_by_name_as_well_as_by_environment() -> None:
    s = Settings(llm_base_url="http://127.0.0.1:9/v1", llm_api_key="k")
    assert s.llm_configured and s.llm_api_key is not None
    assert s.llm_api_key.get_secret_value() == "k"
