#!/usr/bin/env python3
"""An independent reference implementation of DOMAIN.md "Schedule rules", written from the
specification alone (without reading src/domain), in exact rational arithmetic (fractions.Fraction,
no floats). It produces test/fixtures/reference-schedules.json, which test/unit/schedule.reference.test.ts
compares our engine with, case by case:

    python3 test/reference/schedule_reference.py --fixture < cases.json > test/fixtures/reference-schedules.json

where cases.json is a JSON array of preview request bodies (the fixture keeps them as `terms`).
Without --fixture it prints the full schedules.
"""
import sys, json, datetime, hashlib
from fractions import Fraction

PERIODS = {"monthly": (12, 1), "quarterly": (4, 3), "semiannual": (2, 6), "annual": (1, 12)}
CENT = Fraction(1, 100)


def days_in_month(y, m):
    if m == 12:
        return 31
    return (datetime.date(y, m + 1, 1) - datetime.date(y, m, 1)).days


def add_months(date, months, anchor_day):
    total = date.year * 12 + (date.month - 1) + months
    y, m = divmod(total, 12)
    m += 1
    return datetime.date(y, m, min(anchor_day, days_in_month(y, m)))


def parse_date(s):
    y, m, d = s.split("-")
    return datetime.date(int(y), int(m), int(d))


def round_to_multiple(x, mult, mode):
    """Round Fraction x to nearest multiple of mult (>0). half_up = ties away from zero."""
    q = x / mult
    sign = -1 if q < 0 else 1
    a = abs(q)
    fl = a.numerator // a.denominator
    rem = a - fl
    if rem > Fraction(1, 2):
        k = fl + 1
    elif rem < Fraction(1, 2):
        k = fl
    else:
        if mode == "half_up":
            k = fl + 1
        elif mode == "half_even":
            k = fl if fl % 2 == 0 else fl + 1
        else:
            raise ValueError("bad rounding mode %r" % mode)
    return sign * k * mult


def fmt(x):
    x = Fraction(x)
    c = x * 100
    if c.denominator != 1:
        raise ValueError("amount %s not a whole number of cents" % x)
    c = c.numerator
    s = "-" if c < 0 else ""
    c = abs(c)
    return "%s%d.%02d" % (s, c // 100, c % 100)


def days30e360(a, b):
    return 360 * (b.year - a.year) + 30 * (b.month - a.month) + (min(b.day, 30) - min(a.day, 30))


def schedule(terms):
    principal = Fraction(terms["principal"])
    annual = Fraction(terms["annual_rate_percent"]) / 100
    ppy, mpp = PERIODS[terms["periodicity"]]
    n = int(terms["term_periods"])
    d = int(terms.get("deferral_periods", 0) or 0)
    dtype = terms.get("deferral_type") or "partial"
    method = terms["method"]
    dc = terms.get("day_count") or "30E/360"
    mode = terms.get("rounding") or "half_up"
    mult = Fraction(terms.get("instalment_multiple") or "0.01")
    disb = parse_date(terms["disbursement_date"])
    fdd = terms.get("first_due_date")
    if not (0 <= d < n):
        raise ValueError("need 0 <= d < n")
    if dtype not in ("partial", "total"):
        raise ValueError("bad deferral_type")

    r = annual / ppy
    default_first = add_months(disb, mpp, disb.day)
    if fdd:
        first = parse_date(fdd)
        anchor = first.day
    else:
        first = default_first
        anchor = disb.day
    dues = [add_months(first, k * mpp, anchor) for k in range(n)]

    # interest fractions f_1..f_n (index 0..n-1)
    fr = []
    for k in range(n):
        start = disb if k == 0 else dues[k - 1]
        end = dues[k]
        if dc == "30E/360":
            if k == 0 and first != default_first:
                fr.append(annual * days30e360(start, end) / 360)
            else:
                fr.append(r)
        elif dc == "ACT/365":
            fr.append(annual * (end - start).days / 365)
        elif dc == "ACT/360":
            fr.append(annual * (end - start).days / 360)
        else:
            raise ValueError("bad day_count")

    def rnd(x):
        return round_to_multiple(x, CENT, mode)

    rows = []
    bal = principal
    tot_cap = Fraction(0)
    tot_int = Fraction(0)

    def add_row(k, p, i, cap):
        rows.append({
            "number": k + 1,
            "due_date": dues[k].isoformat(),
            "principal": fmt(p),
            "interest": fmt(i),
            "total": fmt(p + i),
            "balance_after": fmt(bal),
            "capitalised_interest": fmt(cap),
        })

    # deferral
    for k in range(d):
        i = rnd(bal * fr[k])
        if dtype == "partial":
            tot_int += i
            add_row(k, Fraction(0), i, Fraction(0))
        else:
            bal += i
            tot_cap += i
            add_row(k, Fraction(0), Fraction(0), i)

    m = n - d
    B = bal
    A = None
    if method == "annuity":
        prod = Fraction(1)
        s = Fraction(0)
        for k in range(d, n):
            prod *= (1 + fr[k])
            s += 1 / prod
        A = round_to_multiple(B / s, mult, mode)
    elif method == "linear":
        P = round_to_multiple(B / m, mult, mode)
    elif method != "bullet":
        raise ValueError("bad method")

    for k in range(d, n):
        i = rnd(bal * fr[k])
        last = (k == n - 1)
        if not last and method == "annuity" and i > A:
            # The instalment does not cover the period's interest (e.g. a long first period):
            # A is paid as interest and the shortfall is capitalised (negative amortisation).
            cap = i - A
            bal += cap
            tot_cap += cap
            tot_int += A
            add_row(k, Fraction(0), A, cap)
            continue
        if last:
            p = bal
        elif method == "annuity":
            p = min(A - i, bal)
        elif method == "linear":
            p = min(P, bal)
        else:
            p = Fraction(0)
        bal -= p
        tot_int += i
        add_row(k, p, i, Fraction(0))

    if method == "annuity":
        inst = fmt(A)
    else:
        inst = rows[d]["total"]
    total_interest = tot_int + tot_cap
    return {
        "instalment_amount": inst,
        "total_interest": fmt(total_interest),
        "total_capitalised_interest": fmt(tot_cap),
        "total_payable": fmt(principal + total_interest),
        "instalments": rows,
    }


def fixture_entry(terms):
    """The terms, the summary figures and the SHA-256 of the whole schedule as compact JSON."""
    result = schedule(terms)
    canonical = json.dumps(result, separators=(",", ":"), ensure_ascii=False)
    return {
        "terms": terms,
        "instalment_amount": result["instalment_amount"],
        "total_interest": result["total_interest"],
        "total_payable": result["total_payable"],
        "first_row": result["instalments"][0],
        "last_row": result["instalments"][-1],
        "sha256": hashlib.sha256(canonical.encode()).hexdigest(),
    }


def main():
    cases = json.load(sys.stdin)
    if "--fixture" in sys.argv:
        json.dump([fixture_entry(c) for c in cases], sys.stdout, indent=1)
    else:
        json.dump([schedule(c) for c in cases], sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
