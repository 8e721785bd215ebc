"""Money: charges, invoices and credit notes, payments (manual and Stripe), the ledger, aged debt.

What the modules may use: :func:`post_for_source` to say what a thing of theirs costs (the
charges follow), :class:`Posting` to describe it, :func:`charges_for_source` to show them, and
:func:`post_takings` for a till's cash-up, :func:`post_journal` for money held rather than
earned (a deposit, a gift paid in advance), :data:`LEDGER_CHECKS` to add their own proof to
the ledger check, and :data:`PERIODIC_CHARGES` to post charges by the period (rent) when the
monthly billing run starts. Income streams and charge sources are the modules'
own (declared in their :class:`hub.modules.Module`); money stores their codes.
"""

from hub.billing.models import LedgerAccount
from hub.billing.services.charges import Posting, charges_for_source, post_for_source
from hub.billing.services.invoices import PERIODIC_CHARGES
from hub.billing.services.ledger import LEDGER_CHECKS, JournalLine, TakingsLine, post_journal, post_takings

__all__ = [
    "LEDGER_CHECKS",
    "PERIODIC_CHARGES",
    "JournalLine",
    "LedgerAccount",
    "Posting",
    "TakingsLine",
    "charges_for_source",
    "post_for_source",
    "post_journal",
    "post_takings",
]
