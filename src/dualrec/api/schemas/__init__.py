"""Request and response bodies, one module per domain (as in ``dualrec.services``). Requests forbid
unknown fields (``common.StrictModel``)."""
