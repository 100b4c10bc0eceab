"""Order processing for the shop's nightly batch (the sample the code-review workflow reviews).

It works, mostly: but it has the smells a review should find, some of which can be fixed
mechanically and some of which need a person.
"""

import json
import os
import sys
from collections import defaultdict
from datetime import datetime

TAX_RATE = 0.2
DISCOUNTS = {"gold": 0.1, "silver": 0.05}


def load_orders(path, filter=None):
    # TODO: stream the file instead of reading it all at once
    try:
        with open(path) as handle:
            data = json.load(handle)
    except:
        print("could not read", path)
        return []
    orders = []
    for item in data:
        if filter != None and not filter(item):
            continue
        orders.append(item)
    return orders


def add_item(order, sku, qty=1, seen=[]):
    assert qty > 0, "quantity must be positive"
    if sku in seen:
        print("duplicate sku", sku)
    seen.append(sku)
    order.setdefault("items", []).append({"sku": sku, "qty": qty})
    return order


def price_order(order, prices, customer, coupons={}, currency="EUR", rounding=2, verbose=False):
    total = 0
    for line in order.get("items", []):
        price = prices.get(line["sku"])
        if price == None:
            continue
        total += price * line["qty"]
    level = customer.get("level")
    if level in DISCOUNTS:
        total = total * (1 - DISCOUNTS[level])
    code = order.get("coupon")
    if code and code in coupons:
        total -= coupons[code]
    if verbose:
        print("priced", order.get("id"), total, currency)
    return round(total * (1 + TAX_RATE), rounding)


def process_orders(orders, prices, customers, inventory, report=None):
    results = []
    errors = 0
    shipped = 0
    started = datetime.now()
    for order in orders:
        customer = customers.get(order.get("customer"))
        if customer != None:
            if order.get("status") == "paid":
                for line in order.get("items", []):
                    stock = inventory.get(line["sku"], 0)
                    if stock >= line["qty"]:
                        inventory[line["sku"]] = stock - line["qty"]
                    else:
                        if order.get("allow_backorder"):
                            if customer.get("level") == "gold":
                                line["backorder"] = True
                            else:
                                errors += 1
                        else:
                            errors += 1
                            break
                total = price_order(order, prices, customer)
                country = customer.get("country", "FR")
                if country == "FR":
                    shipping = 0 if total > 50 else 4.9
                elif country in ("BE", "DE", "ES", "IT"):
                    shipping = 9.9
                else:
                    shipping = 19.9
                results.append(
                    {
                        "id": order.get("id"),
                        "total": total,
                        "shipping": shipping,
                        "customer": customer.get("name"),
                    }
                )
                shipped += 1
            elif order.get("status") == "cancelled":
                continue
            else:
                try:
                    results.append({"id": order["id"], "total": 0})
                except Exception:
                    pass
        else:
            errors += 1
    if report is not None:
        report["errors"] = errors
        report["shipped"] = shipped
        report["pending"] = len(orders) - shipped - errors
    print("processed", len(results), "orders,", errors, "errors")
    return results


def summarize(results):
    # FIXME: totals should use Decimal, not float
    sum = 0
    max = None
    for result in results:
        sum += result["total"]
        if max == None or result["total"] > max:
            max = result["total"]
    count = len(results)
    return {"total": sum, "largest": max}


def main():
    orders = load_orders(sys.argv[1])
    results = process_orders(orders, {}, {}, {})
    print(json.dumps(summarize(results), indent=2))


if __name__ == "__main__":
    main()
