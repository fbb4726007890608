"""tenants.schema and tenants.onboarding: a clinic's TOML file, checked field by field, with
every problem naming the file and the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from praxis.tenants.onboarding import TenantFileError, read_tenant_file
from praxis.tenants.schema import RESERVED_SLUGS, TenantSpec

EXAMPLE = Path(__file__).resolve().parents[2] / "tenants" / "examples" / "demo.toml"

MINIMAL = """\
slug = "north"
name = "North Clinic"

[controller]
legal_name = "North Clinic Ltd"
address = "1 High Street, Leeds LS1 1AA"
dpo_contact = "dpo@north.example"
ico_registration = "ZA123456"
"""


def write(folder: Path, text: str, name: str = "clinic.toml") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def problems(path: Path) -> list[str]:
    with pytest.raises(TenantFileError) as caught:
        read_tenant_file(path)
    error = caught.value
    assert error.path == path
    for line in str(error).splitlines():
        assert line.startswith(f"{path}: "), line
    return error.problems


def replace(old: str, new: str) -> str:
    assert old in MINIMAL
    return MINIMAL.replace(old, new)


# --- good files ------------------------------------------------------------------------------


def test_the_example_tenant_loads() -> None:
    spec = read_tenant_file(EXAMPLE)
    assert spec.slug == "demo"
    assert spec.name == "Riverside Health Clinic"
    assert spec.timezone == "Europe/London"
    assert spec.locale == "en_GB"
    assert spec.domains == ["book.riverside-health.example"]
    assert spec.branding.primary_colour == "#0b6e4f"
    assert spec.branding.logo_url == "/static/demo-logo.svg"
    assert spec.controller.ico_registration == "ZA123456"
    assert spec.booking.cancellation_window_hours == 24
    assert spec.retention.billing_years == 6
    assert spec.providers == {
        "video": "video_whereby",
        "payments": "payments_stripe",
        "sms": "sms_twilio",
        "email": "email_smtp",
        "questionnaires": "questionnaires",
    }


def test_a_minimal_file_takes_the_defaults(tmp_path: Path) -> None:
    spec = read_tenant_file(write(tmp_path, MINIMAL))
    assert spec.timezone == "Europe/London"
    assert spec.locale == "en_GB"
    assert spec.domains == []
    assert spec.branding.primary_colour == "#0b6e4f"
    assert spec.booking.minimum_notice_hours == 2
    assert spec.booking.horizon_days == 60


def test_values_are_normalised(tmp_path: Path) -> None:
    text = """\
slug = "north"
name = "North Clinic"
locale = "en_gb"
domains = ["Book.North.Example."]

[branding]
primary_colour = "#0B6E4F"

[controller]
legal_name = "North Clinic Ltd"
address = "1 High Street, Leeds LS1 1AA"
dpo_contact = "DPO@North.Example"
ico_registration = " za123456 "
"""
    spec = read_tenant_file(write(tmp_path, text))
    assert spec.controller.ico_registration == "ZA123456"
    assert spec.controller.dpo_contact == "DPO@north.example"
    assert spec.locale == "en_GB"
    assert spec.domains == ["book.north.example"]
    assert spec.branding.primary_colour == "#0b6e4f"


# --- problems name the file and the field ----------------------------------------------------


def test_a_bad_colour_names_the_file_the_field_and_the_value(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL + '\n[branding]\nprimary_colour = "green"\n', "x.toml")
    assert problems(path) == ["branding.primary_colour: must be a colour like #0b6e4f, not 'green'"]
    with pytest.raises(TenantFileError) as caught:
        read_tenant_file(path)
    assert str(caught.value) == (
        f"{path}: branding.primary_colour: must be a colour like #0b6e4f, not 'green'"
    )


def test_missing_required_fields(tmp_path: Path) -> None:
    found = problems(write(tmp_path, 'slug = "north"\n'))
    assert found == ["name: is required", "controller: is required"]
    text = MINIMAL.replace('legal_name = "North Clinic Ltd"\n', "")
    assert problems(write(tmp_path, text)) == ["controller.legal_name: is required"]


def test_misspelt_keys_are_refused(tmp_path: Path) -> None:
    text = MINIMAL.replace('name = "North Clinic"', 'name = "North Clinic"\ntimezon = "UTC"')
    text += '\n[branding]\nprimary_color = "#000000"\n'
    assert sorted(problems(write(tmp_path, text))) == [
        "branding.primary_color: is not a known setting (check its spelling)",
        "timezon: is not a known setting (check its spelling)",
    ]


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    text = (
        replace('slug = "north"', 'slug = "North Clinic"')
        .replace('ico_registration = "ZA123456"', 'ico_registration = "12"')
        .replace('name = "North Clinic"', 'name = "North Clinic"\ntimezone = "Mars/Olympus"')
    )
    found = problems(write(tmp_path, text))
    assert [p.split(":")[0] for p in found] == ["slug", "timezone", "controller.ico_registration"]


def test_bad_toml(tmp_path: Path) -> None:
    [found] = problems(write(tmp_path, 'slug = "north"\nname = \n'))
    assert found.startswith("not valid TOML: ")
    assert "line 2" in found


def test_a_missing_file(tmp_path: Path) -> None:
    assert problems(tmp_path / "nope.toml") == ["no such file"]


def test_a_folder_instead_of_a_file(tmp_path: Path) -> None:
    [found] = problems(tmp_path)
    assert found == "is a folder, not a file"


def test_a_file_that_is_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin1.toml"
    path.write_bytes(MINIMAL.replace("North Clinic", "Cl\xednica Norte").encode("latin-1"))
    [found] = problems(path)
    assert found == "is not UTF-8 text; save it as UTF-8"


@pytest.mark.parametrize(
    ("line", "field", "words"),
    [
        ('timezone = "Europe/Lodnon"', "timezone", "is not an IANA time zone"),
        ('timezone = "localtime"', "timezone", "is not an IANA time zone"),
        ('timezone = ""', "timezone", "is not an IANA time zone"),
        ('locale = "xx_YY"', "locale", "is not a locale such as en_GB"),
        ('locale = ""', "locale", "is not a locale such as en_GB"),
        ('domains = ["not a domain"]', "domains.0", "is not a domain name"),
        ('domains = ["localhost"]', "domains.0", "is not a domain name"),
        ('domains = ["-bad.example"]', "domains.0", "is not a domain name"),
        ('domains = ["https://book.example.org"]', "domains.0", "is not a domain name"),
    ],
)
def test_bad_top_level_values(tmp_path: Path, line: str, field: str, words: str) -> None:
    text = MINIMAL.replace('name = "North Clinic"', f'name = "North Clinic"\n{line}')
    [found] = problems(write(tmp_path, text))
    assert found.startswith(f"{field}: ")
    assert words in found


@pytest.mark.parametrize("slug", ["North", "north clinic", "-north", "north-", "n_orth", "a" * 64])
def test_bad_slugs(tmp_path: Path, slug: str) -> None:
    [found] = problems(write(tmp_path, replace('slug = "north"', f'slug = "{slug}"')))
    assert found == "slug: use lower-case letters, digits and hyphens (e.g. north-clinic)"


@pytest.mark.parametrize("slug", sorted(RESERVED_SLUGS))
def test_reserved_slugs(tmp_path: Path, slug: str) -> None:
    [found] = problems(write(tmp_path, replace('slug = "north"', f'slug = "{slug}"')))
    assert found == f"slug: {slug!r} is reserved; choose another slug"


@pytest.mark.parametrize("number", ["ZA12345", "ZA1234567", "ZA-12345", "", "ZA12345!"])
def test_bad_ico_numbers(tmp_path: Path, number: str) -> None:
    text = replace('ico_registration = "ZA123456"', f'ico_registration = "{number}"')
    [found] = problems(write(tmp_path, text))
    assert found == (
        "controller.ico_registration: must be the 8-character ICO registration number, "
        "e.g. ZA123456"
    )


def test_bad_dpo_contact(tmp_path: Path) -> None:
    text = replace('dpo_contact = "dpo@north.example"', 'dpo_contact = "nobody"')
    [found] = problems(write(tmp_path, text))
    assert found.startswith("controller.dpo_contact: is not a valid email address")


def test_numbers_out_of_range(tmp_path: Path) -> None:
    text = MINIMAL + "\n[booking]\nhorizon_days = 0\ncancellation_window_hours = -1\n"
    assert problems(write(tmp_path, text)) == [
        "booking.cancellation_window_hours: Input should be greater than or equal to 0",
        "booking.horizon_days: Input should be greater than or equal to 1",
    ]


def test_unknown_provider_kind(tmp_path: Path) -> None:
    text = MINIMAL + '\n[providers]\nvideo = "video_whereby"\nfax = "fax_machine"\n'
    [found] = problems(write(tmp_path, text))
    assert found.startswith("providers.fax")


def test_logo_must_be_https_or_static(tmp_path: Path) -> None:
    text = MINIMAL + '\n[branding]\nlogo_url = "http://evil.example/logo.png"\n'
    assert problems(write(tmp_path, text)) == [
        "branding.logo_url: must be an https:// address or a /static/ path"
    ]


# --- template overrides ----------------------------------------------------------------------


def with_templates(tmp_path: Path, files: dict[str, str]) -> Path:
    folder = tmp_path / "look"
    for name, source in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(source, encoding="utf-8")
    return write(tmp_path, MINIMAL + '\n[branding]\ntemplates_dir = "look"\n')


def test_templates_dir_overrides_are_loaded(tmp_path: Path) -> None:
    path = with_templates(
        tmp_path,
        {
            "portal/home.html": "{% extends 'base.html' %}{% block main %}Hi{% endblock %}",
            "portal/_footer.html": "<p>{{ tenant.name }}</p>",
        },
    )
    spec = read_tenant_file(path)
    assert spec.branding.template_overrides == {
        "portal/_footer.html": "<p>{{ tenant.name }}</p>",
        "portal/home.html": "{% extends 'base.html' %}{% block main %}Hi{% endblock %}",
    }


def test_a_jinja_syntax_error_names_the_template_and_line(tmp_path: Path) -> None:
    path = with_templates(tmp_path, {"portal/home.html": "<h1>Hi</h1>\n\n{% if tenant %}\n"})
    [found] = problems(path)
    assert found.startswith("branding.templates_dir: portal/home.html line ")
    assert "line 4" in found or "line 3" in found
    assert "if" in found


def test_a_template_that_may_not_be_overridden(tmp_path: Path) -> None:
    path = with_templates(tmp_path, {"admin/index.html": "<p>mine</p>"})
    [found] = problems(path)
    assert found.startswith("branding.template_overrides: cannot override admin/index.html")


def test_a_missing_templates_dir(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL + '\n[branding]\ntemplates_dir = "nowhere"\n')
    [found] = problems(path)
    assert found.startswith("branding.templates_dir: no folder at ")


def test_inline_template_overrides_are_checked_too(tmp_path: Path) -> None:
    text = MINIMAL + '\n[branding.template_overrides]\n"portal/_footer.html" = "{% endif %}"\n'
    [found] = problems(write(tmp_path, text))
    assert found.startswith("branding.template_overrides: portal/_footer.html line 1: ")


def test_the_spec_model_is_strict() -> None:
    with pytest.raises(ValueError, match="Extra inputs"):
        TenantSpec.model_validate(
            {
                "slug": "north",
                "name": "North",
                "controller": {
                    "legal_name": "x",
                    "address": "y",
                    "dpo_contact": "a@b.example",
                    "ico_registration": "ZA123456",
                },
                "colour": "red",
            }
        )
