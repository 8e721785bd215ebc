"""Settings come from HUB_* variables, parsed once; a bad value names the variable."""

from __future__ import annotations

import pytest

from hub.config import DEV_SECRET_KEY, SettingsError, SmtpServer, load_settings


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
        ({"HUB_SMTP_URL": "http://mail.example.org"}, "HUB_SMTP_URL"),
        ({"HUB_SMTP_URL": "smtp://"}, "HUB_SMTP_URL"),
        ({"HUB_SMTP_URL": "smtp://mail.example.org:99999"}, "HUB_SMTP_URL"),
        ({"HUB_SMTP_URL": "smtp://mail.example.org/inbox"}, "HUB_SMTP_URL"),
        ({"HUB_SMTP_URL": "smtp://mail.example.org?tls=yes"}, "HUB_SMTP_URL"),
        ({"HUB_SMTP_URL": "smtp://mail.example.org?timeout=0"}, "HUB_SMTP_URL"),
        ({"HUB_MAIL_FROM": "Hub <desk@example.org>\r\nBcc: all@example.org"}, "HUB_MAIL_FROM"),
        ({"HUB_MAIL_FROM": "the front desk"}, "HUB_MAIL_FROM"),
        ({"HUB_MAIL_FROM": "desk@example.org, boss@example.org"}, "HUB_MAIL_FROM"),
        ({"HUB_PUBLIC_URL": "hub.example.org"}, "HUB_PUBLIC_URL"),
        ({"HUB_PUBLIC_URL": "https://hub.example.org/?next=1"}, "HUB_PUBLIC_URL"),
    ],
)
def test_bad_values_name_the_variable(env: dict[str, str], variable: str) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(env)
    assert caught.value.variable == variable
    assert str(caught.value).startswith(variable + ":")


def test_mail_settings_default_to_an_outbox_that_waits() -> None:
    settings = load_settings({})
    assert settings.smtp is None
    assert settings.mail_from == "Hubkeeper <hub@localhost>"
    assert settings.public_url == "http://127.0.0.1:8000"
    assert str(settings.backup_dir) == "var/backups"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("smtp://127.0.0.1:1025", SmtpServer("127.0.0.1", 1025, "none")),
        ("smtp://mail.example.org", SmtpServer("mail.example.org", 25, "none")),
        ("smtp://mail.example.org:587?starttls=true", SmtpServer("mail.example.org", 587, "starttls")),
        (
            "smtp+starttls://desk%40example.org:p%3Ass%2Fword@mail.example.org",
            SmtpServer("mail.example.org", 587, "starttls", "desk@example.org", "p:ss/word"),
        ),
        (
            "smtps://u:pw@mail.example.org?timeout=2.5",
            SmtpServer("mail.example.org", 465, "tls", "u", "pw", 2.5),
        ),
    ],
)
def test_smtp_url_forms(url: str, expected: SmtpServer) -> None:
    assert load_settings({"HUB_SMTP_URL": url}).smtp == expected


def test_smtp_password_never_shown() -> None:
    smtp = load_settings({"HUB_SMTP_URL": "smtps://u:hunter2hunter2@mail.example.org"}).smtp
    assert "hunter2" not in repr(smtp)


def test_mail_from_and_public_url_read() -> None:
    settings = load_settings(
        {
            "HUB_MAIL_FROM": "Fleetwood Hub <desk@fleetwoodhub.org.uk>",
            "HUB_PUBLIC_URL": "https://hub.example.org/",
        }
    )
    assert settings.mail_from == "Fleetwood Hub <desk@fleetwoodhub.org.uk>"
    assert settings.public_url == "https://hub.example.org"
