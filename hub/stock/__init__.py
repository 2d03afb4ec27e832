"""Stock per store and product: an append-only ledger of movements (docs/stock.md)."""
