"""A terminal process that commits sales in a loop and prints each sale id once committed.

``python -m tests.sync.sell_loop DB DEVICE COUNT [PAUSE]``: the power-loss tests kill it
with SIGKILL at an arbitrary point; every id it printed must be in the database
with its outbox event. ``PAUSE`` (seconds between sales, default 0) paces a shop that keeps
selling while something else happens (the key rotation test).
"""

import datetime as dt
import sys
import time
import uuid

from kiosk.domain.cart import Cart, Product
from kiosk.store.db import open_database
from kiosk.store.sales import PaymentIntent, Terminal, commit_sale

TEA = Product("T1", "6901010370005", "绿茶", "Green tea", 300)
BUN = Product("B1", "6901010370012", "豆沙包", "Bean bun", 250)


def main(argv: list[str]) -> int:
    """Commit ``COUNT`` sales (0: until killed), printing each id after its commit."""
    path, device, count = argv[0], argv[1], int(argv[2])
    pause = float(argv[3]) if len(argv) > 3 else 0.0
    open_database(path)
    terminal = Terminal(store="S01", device=device, boot=str(uuid.uuid4()))
    done = 0
    while count == 0 or done < count:
        cart = Cart().add(TEA, 1 + done % 3).add(BUN, 1)
        sale = commit_sale(cart, [PaymentIntent("cash", cart.total_fen)], terminal, dt.datetime.now(dt.UTC))
        print(sale.id, cart.total_fen, flush=True)
        done += 1
        time.sleep(pause)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
