"""Money: charges, invoices and credit notes, payments (manual and Stripe), the ledger, aged debt.

What the modules may use: :func:`post_for_source` to say what a thing of theirs costs (the
charges follow), :class:`Posting` to describe it, :func:`charges_for_source` to show them, and
:func:`post_takings` for a till's cash-up. Income streams and charge sources are the modules'
own (declared in their :class:`hub.modules.Module`); money stores their codes.
"""

from hub.billing.services.charges import Posting, charges_for_source, post_for_source
from hub.billing.services.ledger import TakingsLine, post_takings

__all__ = [
    "Posting",
    "TakingsLine",
    "charges_for_source",
    "post_for_source",
    "post_takings",
]
