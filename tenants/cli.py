"""``hubkeeper tenants``: the tenancy commands (for now, the alerts list the office works from)."""

from __future__ import annotations

from datetime import date

import click
from sqlalchemy.ext.asyncio import AsyncSession

from hub.commands import cli_settings, run_with_db
from tenants.services import alerts as alerts_service
from tenants.services.alerts import Alert

KIND_LABELS = {
    "end": "Ends",
    "break": "Break",
    "rent_review": "Rent review",
    "insurance": "Insurance",
    "arrears": "Arrears",
}


@click.group()
def tenants() -> None:
    """Tenancies: units, agreements and what is due on them."""


@tenants.command("alerts")
@click.option("--on", "on", default=None, help="As if today were this date (YYYY-MM-DD); default today.")
def alerts_command(on: str | None) -> None:
    """Agreement ends, break dates (with the last day to give notice), rent reviews, insurance
    expiries within the alert window, and tenants in arrears: soonest first."""
    settings = cli_settings()
    try:
        today = date.fromisoformat(on) if on else settings.today()
    except ValueError as exc:
        raise click.BadParameter("expected a date as YYYY-MM-DD", param_hint="--on") from exc

    async def work(db: AsyncSession) -> list[Alert]:
        return await alerts_service.alerts(db, settings, today)

    found = run_with_db(settings, work, write=False)
    if not found:
        click.echo(f"No alerts in the {settings.agreement_alert_days} days from {today}.")
        return
    for alert in found:
        click.echo(
            f"{alert.due_on.isoformat()}  {KIND_LABELS[alert.kind]:<12} {alert.reference:<9} "
            f"{alert.organisation_name}: {alert.text}"
        )
