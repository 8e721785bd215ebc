"""Settings come from HUB_* variables, parsed once; a bad value names the variable."""

from __future__ import annotations

import pytest

from hub.config import DEV_SECRET_KEY, SettingsError, load_settings


def test_defaults() -> None:
    settings = load_settings({})
    assert settings.database_url == "sqlite+aiosqlite:///var/hub.sqlite3"
    assert settings.timezone == "Europe/London"
    assert settings.financial_year_start == (4, 1)
    assert settings.secret_key == DEV_SECRET_KEY
    assert settings.stripe_secret_key is None
    assert settings.environment == "development"


def test_postgres_urls_get_the_async_driver() -> None:
    settings = load_settings({"HUB_DATABASE_URL": "postgres://hub:pw@db:5432/hub"})
    assert settings.database_url == "postgresql+asyncpg://hub:pw@db:5432/hub"
    assert load_settings({"HUB_DATABASE_URL": "sqlite:///x.db"}).database_url == "sqlite+aiosqlite:///x.db"


def test_all_settings_read() -> None:
    settings = load_settings(
        {
            "HUB_ENV": "production",
            "HUB_SECRET_KEY": "s" * 40,
            "HUB_TIMEZONE": "Europe/Dublin",
            "HUB_FINANCIAL_YEAR_START": "01-01",
            "HUB_STRIPE_SECRET_KEY": "sk_test_123",
            "HUB_STRIPE_WEBHOOK_SECRET": "whsec_123",
            "HUB_STRIPE_API_BASE": "http://127.0.0.1:8420",
        }
    )
    assert settings.is_production
    assert settings.timezone == "Europe/Dublin"
    assert settings.financial_year_start == (1, 1)
    assert settings.stripe_api_base == "http://127.0.0.1:8420"


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"HUB_ENV": "production"}, "HUB_SECRET_KEY"),
        ({"HUB_SECRET_KEY": "short"}, "HUB_SECRET_KEY"),
        ({"HUB_TIMEZONE": "Mars/Olympus_Mons"}, "HUB_TIMEZONE"),
        ({"HUB_FINANCIAL_YEAR_START": "April"}, "HUB_FINANCIAL_YEAR_START"),
        ({"HUB_FINANCIAL_YEAR_START": "02-30"}, "HUB_FINANCIAL_YEAR_START"),
        ({"HUB_FINANCIAL_YEAR_START": "13-01"}, "HUB_FINANCIAL_YEAR_START"),
        ({"HUB_DATABASE_URL": "mysql://root@localhost/hub"}, "HUB_DATABASE_URL"),
        ({"HUB_DATABASE_URL": ""}, "HUB_DATABASE_URL"),
        ({"HUB_STRIPE_API_BASE": "localhost:8420"}, "HUB_STRIPE_API_BASE"),
        ({"HUB_ENV": "staging"}, "HUB_ENV"),
        ({"HUB_LOGIN_MAX_FAILURES": "0"}, "HUB_LOGIN_MAX_FAILURES"),
        ({"HUB_COOKIE_SECURE": "maybe"}, "HUB_COOKIE_SECURE"),
        ({"HUB_BANK_HOLIDAYS": "GB-XYZ"}, "HUB_BANK_HOLIDAYS"),
        ({"HUB_LATE_CANCEL_FEE_PERCENT": "101"}, "HUB_LATE_CANCEL_FEE_PERCENT"),
        ({"HUB_LATE_CANCEL_HOURS": "soon"}, "HUB_LATE_CANCEL_HOURS"),
        ({"HUB_HOLD_HOURS": "0"}, "HUB_HOLD_HOURS"),
    ],
)
def test_bad_values_name_the_variable(env: dict[str, str], variable: str) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(env)
    assert caught.value.variable == variable
    assert str(caught.value).startswith(variable + ":")
