"""Settings: read once from ``HUB_*`` environment variables into a typed, frozen object.

No other module reads ``os.environ``; they are handed a :class:`Settings`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from email.headerregistry import Address
from email.utils import parseaddr
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEV_SECRET_KEY = "hubkeeper-development-secret-not-for-production"  # noqa: S105 - documented dev default

ENVIRONMENTS = ("development", "production", "test")


class SettingsError(ValueError):
    """A setting has a bad value; the message names the variable."""

    def __init__(self, variable: str, reason: str) -> None:
        super().__init__(f"{variable}: {reason}")
        self.variable = variable
        self.reason = reason


@dataclass(frozen=True)
class SmtpServer:
    """Where mail goes: ``HUB_SMTP_URL`` parsed. ``security`` is ``none`` (plain, for a relay on
    this machine or a test server), ``starttls`` (upgrade after connecting, usually port 587) or
    ``tls`` (TLS from the start, usually port 465)."""

    host: str
    port: int
    security: str = "none"
    username: str | None = None
    password: str | None = None
    timeout_seconds: float = 10.0

    def __repr__(self) -> str:  # never print the password
        return f"SmtpServer({self.host}:{self.port}, {self.security}, user={self.username!r})"


@dataclass(frozen=True)
class Settings:
    environment: str = "development"
    database_url: str = "sqlite+aiosqlite:///var/hub.sqlite3"
    timezone: str = "Europe/London"
    secret_key: str = DEV_SECRET_KEY
    financial_year_start: tuple[int, int] = (4, 1)
    stripe_secret_key: str | None = None
    stripe_webhook_secret: str | None = None
    stripe_api_base: str | None = None
    hub_name: str = "Hubkeeper Community Hub"
    # Failed logins before an account is locked, and for how long (minutes).
    login_max_failures: int = 5
    login_lockout_minutes: int = 15
    session_hours: int = 12
    cookie_secure: bool | None = None  # None: secure when the request came over https
    # Bookings: how long a provisional hold lasts, and the late-cancellation rule.
    hold_hours: int = 48
    late_cancellation_hours: int = 48
    late_cancellation_fee_percent: int = 50
    # Bank holidays the building closes on: a country and subdivision for the holidays package.
    bank_holidays: str = "GB-ENG"
    # Private bookings in public calendar feeds: "busy" (times only, as "Private booking") or "hide".
    feed_private_bookings: str = "busy"
    # The default span of a calendar feed, in days before and after today.
    feed_days_back: int = 92
    feed_days_ahead: int = 548
    # Addresses whose X-Forwarded-For/-Proto headers are believed (the TLS proxy in front).
    trusted_proxies: str = "127.0.0.1"
    # Invoices: who the supplier is (copied onto every invoice), terms, and how to pay.
    supplier_name: str = ""  # empty: the hub's name
    supplier_address: tuple[str, ...] = ()
    vat_number: str | None = None  # set only when the hub is VAT-registered
    charity_number: str | None = None
    payment_terms_days: int = 30
    payment_instructions: str = ""
    invoice_prefix: str = "INV"
    credit_note_prefix: str = "CN"
    stripe_publishable_key: str | None = None
    # How long one call to Stripe may take before the hub gives up and says so (seconds).
    stripe_timeout_seconds: float = 5.0
    # A Pay now attempt or refund still pending after this long is reported by the ledger check.
    stripe_pending_minutes: int = 15
    # Where the hub keeps files people upload (agreement PDFs, menu pictures), each under a random
    # name; relative paths are from the working directory.
    data_dir: Path = Path("var/data")
    # Tenancies: VAT on rent and service charges only when the hub has opted to tax the building.
    opted_to_tax: bool = False
    agreement_document_max_bytes: int = 10 * 1024 * 1024
    # How far ahead agreement ends, breaks, reviews and insurance expiries are listed as alerts.
    agreement_alert_days: int = 90
    # The largest menu picture the café accepts.
    cafe_picture_max_bytes: int = 2 * 1024 * 1024
    # Mail: where it is sent (None: messages wait in the outbox, shown to admins) and who sends it.
    smtp: SmtpServer | None = None
    mail_from: str = "Hubkeeper <hub@localhost>"
    # The address people reach the hub at, for links in messages (password reset, Pay now).
    public_url: str = "http://127.0.0.1:8000"
    # Where ``hubkeeper backup`` writes (and the admin page looks) by default.
    backup_dir: Path = Path("var/backups")

    def today(self) -> date:
        """Today in the building's time zone: the one "today" of invoices, reports and the desk."""
        return datetime.now(self.zone).date()

    @property
    def invoice_supplier_name(self) -> str:
        return self.supplier_name or self.hub_name

    @property
    def stripe_enabled(self) -> bool:
        return self.stripe_secret_key is not None

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def _database_url(raw: str) -> str:
    url = raw.strip()
    if not url:
        raise SettingsError("HUB_DATABASE_URL", "must not be empty")
    # Accept the plain forms people copy from elsewhere and pick the async driver for them.
    if url.startswith(("postgres://", "postgresql://")):
        url = "postgresql+asyncpg://" + url.split("://", 1)[1]
    elif url.startswith("sqlite:///"):
        url = "sqlite+aiosqlite:///" + url.removeprefix("sqlite:///")
    if not url.startswith(("postgresql+asyncpg://", "postgresql+psycopg://", "sqlite+aiosqlite://")):
        raise SettingsError(
            "HUB_DATABASE_URL",
            f"unsupported database URL {raw!r}: use sqlite:///path/file.sqlite3 or postgresql://user@host/db",
        )
    return url


def _timezone(raw: str) -> str:
    try:
        ZoneInfo(raw)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise SettingsError(
            "HUB_TIMEZONE", f"unknown time zone {raw!r} (expected e.g. Europe/London)"
        ) from exc
    return raw


_MONTH_DAY = re.compile(r"^(\d{2})-(\d{2})$")


def _financial_year_start(raw: str) -> tuple[int, int]:
    match = _MONTH_DAY.match(raw.strip())
    if not match:
        raise SettingsError("HUB_FINANCIAL_YEAR_START", f"expected MM-DD such as 04-01, got {raw!r}")
    month, day = int(match.group(1)), int(match.group(2))
    days_in_month = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
    if not 1 <= month <= 12 or not 1 <= day <= days_in_month[month - 1]:
        raise SettingsError(
            "HUB_FINANCIAL_YEAR_START", f"{raw!r} is not a day of the year (29 Feb is not allowed)"
        )
    return month, day


def _positive_int(name: str, raw: str) -> int:
    try:
        value = int(raw)
    except ValueError as exc:
        raise SettingsError(name, f"expected a whole number, got {raw!r}") from exc
    if value < 1:
        raise SettingsError(name, f"must be at least 1, got {value}")
    return value


def _seconds(name: str, raw: str, maximum: float) -> float:
    try:
        value = float(raw)
    except ValueError as exc:
        raise SettingsError(name, f"expected a number of seconds, got {raw!r}") from exc
    if not 0.1 <= value <= maximum:
        raise SettingsError(name, f"must be between 0.1 and {maximum:g} seconds, got {raw}")
    return value


def _whole(name: str, raw: str, maximum: int) -> int:
    try:
        value = int(raw)
    except ValueError as exc:
        raise SettingsError(name, f"expected a whole number, got {raw!r}") from exc
    if not 0 <= value <= maximum:
        raise SettingsError(name, f"must be between 0 and {maximum}, got {value}")
    return value


def _choice(name: str, raw: str, allowed: tuple[str, ...]) -> str:
    value = raw.strip().lower()
    if value not in allowed:
        raise SettingsError(name, f"expected one of {', '.join(allowed)}, got {raw!r}")
    return value


def _bank_holidays(raw: str) -> str:
    value = raw.strip().upper()
    if value == "NONE":
        return "none"
    import holidays

    country, _, subdivision = value.partition("-")
    try:
        holidays.country_holidays(country, subdiv=subdivision or None)
    except (NotImplementedError, KeyError) as exc:
        raise SettingsError(
            "HUB_BANK_HOLIDAYS", f"unknown calendar {raw!r}: use e.g. GB-ENG, GB-SCT, GB-NIR or none"
        ) from exc
    return value


def _bool(name: str, raw: str) -> bool:
    lowered = raw.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise SettingsError(name, f"expected true or false, got {raw!r}")


_VAT_NUMBER = re.compile(r"^GB(?:[0-9]{9}|[0-9]{12})$")
_PREFIX = re.compile(r"^[A-Z][A-Z0-9]{0,7}$")


def _vat_number(raw: str | None) -> str | None:
    if raw is None:
        return None
    value = "".join(raw.split()).upper()
    if not value.startswith("GB"):
        value = "GB" + value
    if not _VAT_NUMBER.match(value):
        raise SettingsError("HUB_VAT_NUMBER", f"expected a UK VAT number such as GB123456789, got {raw!r}")
    return value


def _prefix(name: str, raw: str) -> str:
    value = raw.strip().upper()
    if not _PREFIX.match(value):
        raise SettingsError(
            name, f"expected 1-8 capital letters or digits starting with a letter, got {raw!r}"
        )
    return value


_SMTP_SCHEMES = {"smtp": ("none", 25), "smtp+starttls": ("starttls", 587), "smtps": ("tls", 465)}


def _smtp(raw: str | None) -> SmtpServer | None:
    """``smtp://host:port`` (plain), ``smtp+starttls://user:pass@host:587`` or
    ``smtps://user:pass@host:465``; ``?starttls=true`` on ``smtp://`` also asks for STARTTLS and
    ``?timeout=`` sets the seconds to wait (default 10). User and password are percent-encoded."""
    if raw is None:
        return None
    name = "HUB_SMTP_URL"
    example = "e.g. smtp://127.0.0.1:1025 or smtp+starttls://user:password@mail.example.org:587"
    try:
        parts = urlsplit(raw)
        port = parts.port
    except ValueError as exc:
        raise SettingsError(name, f"not a valid URL ({exc}); {example}") from exc
    if parts.scheme not in _SMTP_SCHEMES:
        raise SettingsError(
            name, f"unknown scheme {parts.scheme!r}: use smtp, smtp+starttls or smtps; {example}"
        )
    if not parts.hostname:
        raise SettingsError(name, f"has no host; {example}")
    if parts.path not in ("", "/"):
        raise SettingsError(name, f"must not have a path ({parts.path!r}); {example}")
    security, default_port = _SMTP_SCHEMES[parts.scheme]
    timeout = 10.0
    for key, values in parse_qs(parts.query, keep_blank_values=True).items():
        if key == "starttls" and parts.scheme == "smtp":
            if _bool(name, values[-1]):
                security = "starttls"
        elif key == "timeout":
            timeout = _seconds(name, values[-1], 120.0)
        else:
            raise SettingsError(name, f"unknown option {key!r} (expected starttls or timeout)")
    if parts.password is not None and parts.username is None:
        raise SettingsError(name, "has a password but no user name")
    return SmtpServer(
        host=parts.hostname,
        port=port or default_port,
        security=security,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password is not None else None,
        timeout_seconds=timeout,
    )


def _mail_from(raw: str) -> str:
    """One sender, ``Name <address>`` or a bare address, with no line breaks (they would let a
    value write mail headers of its own)."""
    value = raw.strip()
    if any(ch in value for ch in "\r\n\0"):
        raise SettingsError("HUB_MAIL_FROM", "must not contain line breaks")
    display, address = parseaddr(value)
    local, _, domain = address.partition("@")
    if not local or not domain or "," in value.replace(display, "", 1):
        raise SettingsError(
            "HUB_MAIL_FROM", f"expected one address such as 'Fleetwood Hub <desk@example.org>', got {raw!r}"
        )
    try:
        str(Address(display_name=display, username=local, domain=domain))
    except (ValueError, IndexError) as exc:
        raise SettingsError("HUB_MAIL_FROM", f"not a valid address: {exc}") from exc
    return value


def _public_url(raw: str) -> str:
    value = raw.strip().rstrip("/")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise SettingsError(
            "HUB_PUBLIC_URL", f"expected the hub's address such as https://hub.example.org, got {raw!r}"
        )
    return value


def _optional(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name, "").strip()
    return value or None


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Parse ``HUB_*`` variables. Raises :class:`SettingsError` naming the first bad variable."""
    env = os.environ if env is None else env
    environment = env.get("HUB_ENV", "").strip().lower() or "development"
    if environment not in ENVIRONMENTS:
        raise SettingsError("HUB_ENV", f"expected one of {', '.join(ENVIRONMENTS)}, got {environment!r}")

    secret_key = _optional(env, "HUB_SECRET_KEY")
    if secret_key is None:
        if environment == "production":
            raise SettingsError("HUB_SECRET_KEY", "is required in production (use 32+ random characters)")
        secret_key = DEV_SECRET_KEY
    elif len(secret_key) < 32:
        raise SettingsError("HUB_SECRET_KEY", "must be at least 32 characters long")

    stripe_api_base = _optional(env, "HUB_STRIPE_API_BASE")
    if stripe_api_base is not None and not stripe_api_base.startswith(("http://", "https://")):
        raise SettingsError("HUB_STRIPE_API_BASE", f"expected an http(s) URL, got {stripe_api_base!r}")

    cookie_secure_raw = _optional(env, "HUB_COOKIE_SECURE")
    invoice_prefix = _prefix("HUB_INVOICE_PREFIX", env.get("HUB_INVOICE_PREFIX", "INV"))
    credit_note_prefix = _prefix("HUB_CREDIT_NOTE_PREFIX", env.get("HUB_CREDIT_NOTE_PREFIX", "CN"))
    if invoice_prefix == credit_note_prefix:
        raise SettingsError("HUB_CREDIT_NOTE_PREFIX", "must differ from HUB_INVOICE_PREFIX")
    return Settings(
        environment=environment,
        database_url=_database_url(env.get("HUB_DATABASE_URL", Settings.database_url)),
        timezone=_timezone(env.get("HUB_TIMEZONE", Settings.timezone)),
        secret_key=secret_key,
        financial_year_start=_financial_year_start(env.get("HUB_FINANCIAL_YEAR_START", "04-01")),
        stripe_secret_key=_optional(env, "HUB_STRIPE_SECRET_KEY"),
        stripe_webhook_secret=_optional(env, "HUB_STRIPE_WEBHOOK_SECRET"),
        stripe_api_base=stripe_api_base,
        hub_name=env.get("HUB_NAME", Settings.hub_name).strip() or Settings.hub_name,
        login_max_failures=_positive_int(
            "HUB_LOGIN_MAX_FAILURES", env.get("HUB_LOGIN_MAX_FAILURES", str(Settings.login_max_failures))
        ),
        login_lockout_minutes=_positive_int(
            "HUB_LOGIN_LOCKOUT_MINUTES",
            env.get("HUB_LOGIN_LOCKOUT_MINUTES", str(Settings.login_lockout_minutes)),
        ),
        session_hours=_positive_int(
            "HUB_SESSION_HOURS", env.get("HUB_SESSION_HOURS", str(Settings.session_hours))
        ),
        cookie_secure=None if cookie_secure_raw is None else _bool("HUB_COOKIE_SECURE", cookie_secure_raw),
        trusted_proxies=_optional(env, "HUB_TRUSTED_PROXIES") or "127.0.0.1",
        hold_hours=_positive_int("HUB_HOLD_HOURS", env.get("HUB_HOLD_HOURS", "48")),
        late_cancellation_hours=_whole(
            "HUB_LATE_CANCEL_HOURS", env.get("HUB_LATE_CANCEL_HOURS", "48"), 24 * 365
        ),
        late_cancellation_fee_percent=_whole(
            "HUB_LATE_CANCEL_FEE_PERCENT", env.get("HUB_LATE_CANCEL_FEE_PERCENT", "50"), 100
        ),
        bank_holidays=_bank_holidays(env.get("HUB_BANK_HOLIDAYS", "GB-ENG")),
        feed_days_back=_whole("HUB_FEED_DAYS_BACK", env.get("HUB_FEED_DAYS_BACK", "92"), 366),
        feed_days_ahead=_whole("HUB_FEED_DAYS_AHEAD", env.get("HUB_FEED_DAYS_AHEAD", "548"), 2 * 366),
        supplier_name=(_optional(env, "HUB_SUPPLIER_NAME") or ""),
        supplier_address=tuple(
            line.strip() for line in env.get("HUB_SUPPLIER_ADDRESS", "").split(";") if line.strip()
        ),
        vat_number=_vat_number(_optional(env, "HUB_VAT_NUMBER")),
        charity_number=_optional(env, "HUB_CHARITY_NUMBER"),
        payment_terms_days=_whole("HUB_PAYMENT_TERMS_DAYS", env.get("HUB_PAYMENT_TERMS_DAYS", "30"), 365),
        payment_instructions=env.get("HUB_PAYMENT_INSTRUCTIONS", "").replace("\\n", "\n").strip(),
        invoice_prefix=invoice_prefix,
        credit_note_prefix=credit_note_prefix,
        stripe_publishable_key=_optional(env, "HUB_STRIPE_PUBLISHABLE_KEY"),
        stripe_timeout_seconds=_seconds(
            "HUB_STRIPE_TIMEOUT_SECONDS", env.get("HUB_STRIPE_TIMEOUT_SECONDS", "5"), 60.0
        ),
        stripe_pending_minutes=_positive_int(
            "HUB_STRIPE_PENDING_MINUTES", env.get("HUB_STRIPE_PENDING_MINUTES", "15")
        ),
        data_dir=Path(env.get("HUB_DATA_DIR", "").strip() or "var/data"),
        opted_to_tax=_bool("HUB_OPTED_TO_TAX", env.get("HUB_OPTED_TO_TAX", "false")),
        agreement_document_max_bytes=_positive_int(
            "HUB_AGREEMENT_DOCUMENT_MAX_BYTES",
            env.get("HUB_AGREEMENT_DOCUMENT_MAX_BYTES", str(10 * 1024 * 1024)),
        ),
        agreement_alert_days=_whole(
            "HUB_AGREEMENT_ALERT_DAYS", env.get("HUB_AGREEMENT_ALERT_DAYS", "90"), 3 * 366
        ),
        cafe_picture_max_bytes=_positive_int(
            "HUB_CAFE_PICTURE_MAX_BYTES", env.get("HUB_CAFE_PICTURE_MAX_BYTES", str(2 * 1024 * 1024))
        ),
        smtp=_smtp(_optional(env, "HUB_SMTP_URL")),
        mail_from=_mail_from(env.get("HUB_MAIL_FROM", "").strip() or Settings.mail_from),
        public_url=_public_url(env.get("HUB_PUBLIC_URL", "").strip() or Settings.public_url),
        backup_dir=Path(env.get("HUB_BACKUP_DIR", "").strip() or "var/backups"),
        feed_private_bookings=_choice(
            "HUB_FEED_PRIVATE_BOOKINGS", env.get("HUB_FEED_PRIVATE_BOOKINGS", "busy"), ("busy", "hide")
        ),
    )


def sqlite_path(database_url: str) -> Path | None:
    """The file behind a SQLite URL (None for in-memory or other databases)."""
    if not database_url.startswith("sqlite"):
        return None
    path = database_url.split(":///", 1)[1] if ":///" in database_url else ""
    if not path or path == ":memory:":
        return None
    return Path(path)
