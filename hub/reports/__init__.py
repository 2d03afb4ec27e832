"""Read-side figures for the dashboard and the API: sales by day, store, terminal, product."""
