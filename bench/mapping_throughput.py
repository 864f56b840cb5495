"""Mapping throughput: the formula engine against hand-written Python, and JSONata engines.

Run: `.venv/bin/python bench/mapping_throughput.py [--records N] [--rounds N]`

Part 1 maps generated contact records through a realistic 15-field mapping (`$case`, `$concat`,
`$tpl`, `$map`, `$eval`, `$and`, `$firstName`, one `$jsonata`, ...) compiled once, and through a
hand-written function that produces the same output (checked on a sample). It prints records
per second for both, the ratio, and the same figures without the `$jsonata` field.

Part 2 runs the same JSONata expressions through every JSONata implementation importable here
(jsonata-python, jsonatapy, jlens, zopyx.pyjsonata, jsonata2py, jsonata-rs) and through Osmo's
`$jsonata` runner (jsonatapy with the impure built-ins refused, see
core/formulas/jsonata_formula.py), checks each on expressions with known answers, and prints
microseconds per evaluation.

The last line of output is one JSON object with the headline figures.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

ORDER_TOTAL = "$sum(orders.(amount * qty))"

MAPPING: dict[str, Any] = {
    "externalId": {"$var": "id"},
    "firstName": {"$firstName": {"$var": "fullName"}},
    "lastName": {"$lastName": {"$var": "fullName"}},
    "email": {"$var": "email"},
    "domain": {"$domainFromEmail": {"$var": "email"}},
    "displayName": {"$tpl": "{fullName} <{email}>"},
    "location": {
        "$concat": {
            "values": [{"$var": "address.city"}, {"$var": "address.country"}],
            "delimiter": ", ",
        }
    },
    "lifecycle": {
        "$map": {
            "value": {"$var": "status"},
            "mapping": [
                {"from": "lead", "to": "prospect"},
                {"from": "active", "to": "customer"},
                {"from": "churned", "to": "former"},
            ],
            "default": "unknown",
        }
    },
    "tier": {
        "$case": [
            {"filter": {"field": "mrr", "operator": "more_than", "value": 1000}, "value": "key"},
            {
                "filter": [
                    {"field": "plan", "operator": "is", "value": "pro"},
                    {"field": "vip", "operator": "is_true"},
                ],
                "value": "priority",
            },
            {"value": "standard"},
        ]
    },
    "createdDate": {"$extractDate": {"$var": "createdAt"}},
    "createdTime": {"$extractTime": {"$var": "createdAt"}},
    "orderTotal": {"$jsonata": ORDER_TOTAL},
    "isPaying": {"$eval": {"$var": "plan"}, "isNot": "free"},
    "contactable": {
        "$and": [
            {"$eval": {"$var": "email"}, "isNotEmpty": True},
            {"$eval": {"$var": "phone"}, "isNotEmpty": True},
        ]
    },
    "ownerName": {"$firstNotEmpty": [{"$var": "owner.name"}, "unassigned"]},
}

FIRST = ["Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "Ken"]
LAST = ["Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Allen", "van Rossum"]
CITIES = [("London", "gb"), ("Paris", "fr"), ("Berlin", "de"), ("Austin", "us"), ("", "nl")]


def generate_records(count: int, seed: int = 7) -> list[dict[str, Any]]:
    """Deterministic contact records with nested objects, arrays and missing fields."""
    rng = random.Random(seed)
    records = []
    for i in range(count):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        city, country = rng.choice(CITIES)
        record: dict[str, Any] = {
            "id": f"c-{i}",
            "fullName": f"{first} {last}",
            "email": f"{first.lower()}.{i}@Example{i % 13}.com",
            "status": rng.choice(["lead", "active", "churned", "paused"]),
            "plan": rng.choice(["free", "pro", "enterprise"]),
            "mrr": rng.choice([0, 49.5, 300, 2500]),
            "vip": rng.random() < 0.3,
            "createdAt": f"2024-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T"
            f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:00Z",
            "address": {"city": city, "country": country},
            "orders": [
                {"amount": rng.randint(1, 400) / 4, "qty": rng.randint(1, 3)}
                for _ in range(rng.randint(1, 4))
            ],
        }
        if rng.random() < 0.6:
            record["phone"] = f"+1555{i:07d}"
        if rng.random() < 0.7:
            record["owner"] = {"name": rng.choice(FIRST)}
        records.append(record)
    return records


_LIFECYCLE = {"lead": "prospect", "active": "customer", "churned": "former"}


def handwritten(record: dict[str, Any]) -> dict[str, Any]:
    """The mapping written by hand, as a developer would without the engine."""
    out = handwritten_without_total(record)
    total = sum(order["amount"] * order["qty"] for order in record.get("orders", []))
    out["orderTotal"] = int(total) if float(total).is_integer() else total
    return out


def handwritten_without_total(record: dict[str, Any]) -> dict[str, Any]:
    """The hand-written mapping less the field the engine computes with JSONata."""
    out: dict[str, Any] = {"externalId": record["id"]}
    full_name = record.get("fullName")
    if isinstance(full_name, str):
        words = full_name.split(None, 1)
        if words:
            out["firstName"] = words[0]
        if len(words) == 2:
            out["lastName"] = words[1].strip()
    email = record.get("email")
    out["email"] = email
    if isinstance(email, str) and "@" in email:
        out["domain"] = email.strip().rpartition("@")[2].lower()
    out["displayName"] = f"{full_name or ''} <{email or ''}>"
    address = record.get("address") or {}
    out["location"] = ", ".join(p for p in (address.get("city"), address.get("country")) if p)
    out["lifecycle"] = _LIFECYCLE.get(record.get("status"), "unknown")  # type: ignore[arg-type]
    if record.get("mrr", 0) > 1000:
        out["tier"] = "key"
    elif record.get("plan") == "pro" and record.get("vip") is True:
        out["tier"] = "priority"
    else:
        out["tier"] = "standard"
    created = datetime.fromisoformat(record["createdAt"].upper())
    out["createdDate"] = created.date().isoformat()
    out["createdTime"] = created.time().isoformat()
    out["isPaying"] = record.get("plan") != "free"
    out["contactable"] = bool(email) and bool(record.get("phone"))
    out["ownerName"] = (record.get("owner") or {}).get("name") or "unassigned"
    return out


def records_per_second(
    functions: dict[str, Callable[[Any], Any]], records: list[dict[str, Any]], rounds: int = 5
) -> dict[str, float]:
    """Best timed pass over all records for each function.

    The passes are interleaved (one pass of each function per round) so that a change in the
    machine's load during the run affects every function alike rather than one of a ratio.
    """
    best = dict.fromkeys(functions, float("inf"))
    for _ in range(rounds):
        for name, fn in functions.items():
            start = time.perf_counter()
            for record in records:
                fn(record)
            best[name] = min(best[name], time.perf_counter() - start)
    return {name: len(records) / seconds for name, seconds in best.items()}


def measure_mapping(records: list[dict[str, Any]], rounds: int = 5) -> dict[str, float]:
    """Engine vs hand-written throughput, with and without the `$jsonata` field."""
    from core.formulas import compile_formula

    engine = compile_formula(MAPPING).evaluate
    for record in records[:500]:
        assert engine(record) == handwritten(record), record
    engine_core = compile_formula({k: v for k, v in MAPPING.items() if k != "orderTotal"}).evaluate
    figures = records_per_second(
        {
            "engine_rps": engine,
            "handwritten_rps": handwritten,
            "engine_no_jsonata_rps": engine_core,
            "handwritten_no_jsonata_rps": handwritten_without_total,
        },
        records,
        rounds,
    )
    figures["ratio"] = figures["engine_rps"] / figures["handwritten_rps"]
    figures["ratio_no_jsonata"] = (
        figures["engine_no_jsonata_rps"] / figures["handwritten_no_jsonata_rps"]
    )
    return figures


# --- Part 2: JSONata implementations -------------------------------------------------------

JSONATA_DATA = {
    "name": "Ada Lovelace",
    "age": 36,
    "nickname": None,
    "tags": ["math", "poetry"],
    "address": {"city": "London"},
    "orders": [
        {"sku": "A", "amount": 10.5, "qty": 2},
        {"sku": "B", "amount": 4, "qty": 1},
        {"sku": "C", "amount": 7.25, "qty": 4},
    ],
}
# Expressions with the answers the JSONata reference implementation gives (None = undefined
# or null: not every binding tells them apart).
CONFORMANCE: list[tuple[str, Any]] = [
    (ORDER_TOTAL, 54),
    ("name & ' (' & $string(age) & ')'", "Ada Lovelace (36)"),
    ("orders[qty > 1].sku", ["A", "C"]),
    ("orders[0].sku", "A"),
    ("orders[sku = 'B'].amount * 2", 8),
    ("$count(orders)", 3),
    ("$max(orders.amount)", 10.5),
    ("$uppercase(address.city)", "LONDON"),
    ("age > 30 ? 'senior' : 'junior'", "senior"),
    ("$join(tags, ', ')", "math, poetry"),
    ("$substringBefore(name, ' ')", "Ada"),
    ("{'n': $count(tags), 'first': tags[0]}", {"n": 2, "first": "math"}),
    ("$string(1/3)", "0.333333333333333"),
    ("$round(2.675, 2)", 2.68),
    ("$formatNumber(1234.5, '#,##0.00')", "1,234.50"),
    ("$exists(missing)", False),
    ("nickname", None),
    ("missing", None),
]
TIMED = [
    ORDER_TOTAL,
    "name & ' (' & $string(age) & ')'",
    "orders[qty > 1].sku",
    "{'n': $count(tags), 'first': tags[0]}",
]

Compile = Callable[[str], Callable[[Any], Any]]


def _plain(value: Any) -> Any:
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if value is None or type(value).__name__ in (
        "Undefined",
        "UndefinedType",
        "_Missing",
        "_Undefined",
    ):
        return None
    return value


def jsonata_engines() -> dict[str, tuple[str, Compile]]:
    """Importable JSONata implementations: name -> (version, compile)."""
    from importlib import import_module
    from importlib.metadata import PackageNotFoundError, version

    candidates: list[tuple[str, str, str, Callable[[Any], Compile]]] = [
        ("jsonata-python", "jsonata-python", "jsonata", lambda m: lambda s: m.Jsonata(s).evaluate),
        ("jsonata-rs", "jsonata-rs", "jsonata", lambda m: lambda s: m.Jsonata(s).evaluate),
        ("jsonatapy", "jsonatapy", "jsonatapy", lambda m: lambda s: m.compile(s).evaluate),
        ("jlens", "jlens", "jlens", lambda m: lambda s: m.Expression(s).evaluate),
        (
            "zopyx.pyjsonata",
            "zopyx.pyjsonata",
            "zopyx.pyjsonata",
            lambda m: lambda s: m.Jsonata(s).evaluate,
        ),
        ("jsonata2py", "jsonata2py", "jsonata2py", lambda m: lambda s: m.compile(s).evaluate),
    ]
    engines: dict[str, tuple[str, Compile]] = {}
    for name, dist, module_name, make in candidates:
        try:
            module = import_module(module_name)
            is_rust = hasattr(module, "JsonataError")
            if module_name == "jsonata" and is_rust != (name == "jsonata-rs"):
                continue
            engines[name] = (version(dist), make(module))
        except (ImportError, PackageNotFoundError):
            continue
    if "jsonatapy" in engines:
        from core.formulas.jsonata_formula import compile_expression

        engines["Osmo $jsonata (jsonatapy)"] = (engines["jsonatapy"][0], compile_expression)
    return engines


def compare_jsonata(iterations: int) -> dict[str, dict[str, Any]]:
    """Conformance and microseconds per evaluation for each importable implementation."""
    results: dict[str, dict[str, Any]] = {}
    for name, (engine_version, compile_expression) in jsonata_engines().items():
        failures = []
        for source, expected in CONFORMANCE:
            try:
                got = _plain(compile_expression(source)(JSONATA_DATA))
            except Exception as error:
                got = f"error: {type(error).__name__}"
            if got != expected or isinstance(expected, bool) != isinstance(got, bool):
                failures.append(f"{source} -> {got!r}")
        timings = {}
        for source in TIMED:
            evaluate = compile_expression(source)
            start = time.perf_counter()
            for _ in range(iterations):
                evaluate(JSONATA_DATA)
            timings[source] = (time.perf_counter() - start) / iterations * 1e6
        results[name] = {
            "version": engine_version,
            "conformance": f"{len(CONFORMANCE) - len(failures)}/{len(CONFORMANCE)}",
            "failures": failures,
            "us_per_eval": timings,
        }
    return results


def print_jsonata(results: dict[str, dict[str, Any]]) -> None:
    print("\nJSONata implementations (microseconds per evaluation, lower is better)")
    print(
        f"{'implementation':26} {'version':9} {'conf.':6} "
        + " ".join(f"e{i + 1:<7}" for i in range(len(TIMED)))
    )
    for name, result in results.items():
        times = " ".join(f"{result['us_per_eval'][source]:8.1f}" for source in TIMED)
        print(f"{name:26} {result['version']:9} {result['conformance']:6} {times}")
        for failure in result["failures"]:
            print(f"    differs: {failure}")
    for i, source in enumerate(TIMED):
        print(f"  e{i + 1}: {source}")


def main() -> None:
    parser = argparse.ArgumentParser(description="Mapping and JSONata throughput.")
    parser.add_argument("--records", type=int, default=50_000)
    parser.add_argument("--jsonata-iterations", type=int, default=2_000)
    parser.add_argument("--rounds", type=int, default=5, help="timed passes per function")
    parser.add_argument(
        "--jsonata-only",
        action="store_true",
        help="only compare JSONata implementations (e.g. with jsonata-rs on PYTHONPATH)",
    )
    args = parser.parse_args()
    jsonata = compare_jsonata(args.jsonata_iterations)
    print_jsonata(jsonata)
    if args.jsonata_only:
        print(json.dumps({"bench": "jsonata_engines", "results": jsonata}))
        return
    records = generate_records(args.records)
    figures = measure_mapping(records, args.rounds)
    print(f"\nMapping {args.records} records through a 15-field mapping")
    print(f"  engine:       {figures['engine_rps']:>10,.0f} records/s")
    print(f"  hand-written: {figures['handwritten_rps']:>10,.0f} records/s")
    print(f"  ratio:        {figures['ratio']:>10.3f}  (target >= 0.25)")
    print(
        f"  without the $jsonata field: engine {figures['engine_no_jsonata_rps']:,.0f}/s, "
        f"hand-written {figures['handwritten_no_jsonata_rps']:,.0f}/s, "
        f"ratio {figures['ratio_no_jsonata']:.3f}"
    )
    total_us = {name: r["us_per_eval"][ORDER_TOTAL] for name, r in jsonata.items()}
    core_us = 1e6 / figures["engine_no_jsonata_rps"]
    projected = {
        name: round(1e6 / (core_us + us) / figures["handwritten_rps"], 3)
        for name, us in total_us.items()
    }
    print(f"  ratio if $jsonata ran on each implementation: {projected}")
    print(
        json.dumps(
            {
                "bench": "mapping_throughput",
                "engine_rps": round(figures["engine_rps"]),
                "handwritten_rps": round(figures["handwritten_rps"]),
                "ratio": round(figures["ratio"], 3),
                "engine_no_jsonata_rps": round(figures["engine_no_jsonata_rps"]),
                "ratio_no_jsonata": round(figures["ratio_no_jsonata"], 3),
                "records": args.records,
            }
        )
    )


if __name__ == "__main__":
    main()
