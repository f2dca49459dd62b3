"""Five foreign export shapes of one small product's events, for the onboarding tests.

Each shape is how a real tool writes events (column names, time formats, nesting), from
the same underlying events, so one independent truth serves them all: the events as
generated here, never read back from a file. The order log is its own product (one kind
of event, no ids), as a retail export is.
"""

from __future__ import annotations

import csv
import json
import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

START = datetime(2024, 1, 1, tzinfo=UTC)
DAYS = 84
NAMES = ("Page Viewed", "Report Created", "Report Shared", "Signed Up")


@dataclass(frozen=True)
class Event:
    event_id: str
    user: str
    at: datetime
    name: str  # as the tool writes it ("Report Created"); staging normalizes it
    platform: str
    country: str
    amount: float


def product_events(users: int = 40, seed: int = 11) -> list[Event]:
    """Users sign up over the first weeks and come back at their own pace."""
    rng = random.Random(seed)
    events = []
    for number in range(users):
        user = f"u{number:03d}"
        platform, country = rng.choice(["ios", "web", "android"]), rng.choice(["US", "DE", "BR"])
        first = START + timedelta(days=rng.randrange(0, 40), seconds=rng.randrange(86_400))
        events.append(Event(f"{user}-0", user, first, "Signed Up", platform, country, 0.0))
        pace = rng.choice([1, 2, 3, 7])
        day = 0
        while True:
            day += rng.randint(1, pace)
            at = first + timedelta(days=day, seconds=rng.randrange(3_600))
            if at >= START + timedelta(days=DAYS):
                break
            for k in range(rng.randint(1, 4)):
                name = rng.choice(NAMES[:3])
                amount = round(rng.uniform(1, 50), 2) if name == "Report Created" else 0.0
                events.append(
                    Event(
                        f"{user}-{day}-{k}",
                        user,
                        at + timedelta(minutes=k),
                        name,
                        platform,
                        country,
                        amount,
                    )
                )
    return sorted(events, key=lambda e: (e.at, e.event_id))


def segment_tracks(events: list[Event], path: Path) -> Path:
    """Segment's `tracks` table as CSV: message_id, timestamp (ISO, Z), event,
    anonymous_id, context_os."""
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["message_id", "timestamp", "event", "anonymous_id", "context_os"])
        for e in events:
            writer.writerow(
                [e.event_id, e.at.isoformat().replace("+00:00", "Z"), e.name, e.user, e.platform]
            )
    return path


def amplitude_export(events: list[Event], path: Path) -> Path:
    """Amplitude's export: NDJSON with $insert_id, event_type, event_time ('YYYY-MM-DD
    HH:MM:SS.ffffff', UTC), user_id, platform, country, and nested event_properties."""
    with path.open("w") as handle:
        for e in events:
            row = {
                "$insert_id": e.event_id,
                "event_type": e.name,
                "event_time": e.at.strftime("%Y-%m-%d %H:%M:%S.%f"),
                "user_id": e.user,
                "platform": e.platform,
                "country": e.country,
                "event_properties": {"amount": e.amount} if e.amount else {},
            }
            handle.write(json.dumps(row) + "\n")
    return path


def mixpanel_export(events: list[Event], path: Path) -> Path:
    """Mixpanel's raw export: NDJSON {"event", "properties": {time (epoch seconds),
    distinct_id, $insert_id, $os, mp_country_code, ...}}: everything but the name nested."""
    with path.open("w") as handle:
        for e in events:
            properties = {
                "time": int(e.at.timestamp()),
                "distinct_id": e.user,
                "$insert_id": e.event_id,
                "$os": e.platform,
                "mp_country_code": e.country,
            }
            if e.amount:
                properties["amount"] = e.amount
            handle.write(json.dumps({"event": e.name, "properties": properties}) + "\n")
    return path


def ga4_export(events: list[Event], path: Path) -> Path:
    """A GA4 BigQuery-export shape as Parquet-free NDJSON: event_date (YYYYMMDD),
    event_timestamp (epoch microseconds), event_name (snake case), user_pseudo_id,
    platform, geo.country, and event_params as a list of {key, value} records."""
    with path.open("w") as handle:
        for e in events:
            params = [{"key": "ga_session_id", "value": {"int_value": 1}}]
            if e.amount:
                params.append({"key": "amount", "value": {"double_value": e.amount}})
            row = {
                "event_date": e.at.strftime("%Y%m%d"),
                "event_timestamp": int(e.at.timestamp() * 1_000_000),
                "event_name": e.name.lower().replace(" ", "_"),
                "user_pseudo_id": e.user,
                "platform": e.platform.upper(),
                "geo": {"country": e.country},
                "event_params": params,
            }
            handle.write(json.dumps(row) + "\n")
    return path


@dataclass(frozen=True)
class Order:
    customer: str
    day: date
    quantity: int
    amount: float


def retail_orders(customers: int = 150, seed: int = 5) -> list[Order]:
    """A purchase log: customers acquired in the first months, buying now and then."""
    rng = random.Random(seed)
    orders = []
    for number in range(1, customers + 1):
        first = date(1997, 1, 1) + timedelta(days=rng.randrange(0, 75))
        day = first
        while day <= date(1997, 9, 30):
            quantity = rng.randint(1, 5)
            orders.append(Order(f"{number:05d}", day, quantity, round(quantity * 11.5, 2)))
            day += timedelta(days=rng.randint(5, 60))
    return sorted(orders, key=lambda o: (o.day, o.customer))


def order_log(orders: list[Order], path: Path) -> Path:
    """Whitespace-aligned text: customer, date (YYYYMMDD), quantity, amount; no id, no
    event name. Each order is unique (quantity and day differ), so none is a duplicate."""
    lines = [f"{'customer':<10} {'date':<10} {'quantity':<9} amount"]
    lines += [f"{o.customer:<10} {o.day:%Y%m%d}   {o.quantity:<9} {o.amount:.2f}" for o in orders]
    path.write_text("\n".join(lines) + "\n")
    return path
