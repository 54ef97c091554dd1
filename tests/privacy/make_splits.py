#!/usr/bin/env python3
"""Writes dev.jsonl and heldout.jsonl: labelled texts for the privacy scanner.

Each line is {"text": ..., "find": [[kind, value], ...]}: every value is a substring of the text
that the scanner must cover with a finding of that kind; a text with an empty `find` holds
nothing sensitive. Dev has three template sets, each with its own locales, and two dev-only sets
for kinds whose held-out recall was short (`extend`, `streets`); heldout has a fourth set and
other locales, and shares no template, no locale and no seed with dev: the detector is
tuned on dev only, and heldout measures it (see the README). A held-out set whose misses were
looked at moves to dev, and a new held-out set is written; so did the fourth set's `address` rows,
whose templates were seen while tuning `address`, and then their successors (`seen_addresses`). The
street set that followed them, written by `seen_streets.py` with a seed and templates of its own,
was held out and measured (`address` recall 0.762 / precision 0.951 on its street lines, `person`
0.462 / 0.706 on its names), then moved to dev; `heldout_fresh.py` holds its successor, written
without reading the scanner. Values are synthetic, made with Faker
(`pip install Faker==40.63.0`; scripts/make-privacy-corpus.sh installs it) and the generators
below. Run once; the output is committed.
"""
import base64
import os
import sys

# Some of Faker's choices follow Python's per-process string hashing; a fixed hash seed makes
# every run write the same files.
if os.environ.get("PYTHONHASHSEED") != "0":
    os.environ["PYTHONHASHSEED"] = "0"
    os.execv(sys.executable, [sys.executable, *sys.argv])
import json
import random
import string
from urllib.parse import quote

from faker import Faker
import faker.providers.date_time as faker_dates

import heldout_fresh
import seen_streets

# Faker counts dates of birth back from today; the committed files were written on 2026-12-03,
# so that day is pinned and the output does not depend on the day the script runs.
WRITTEN = faker_dates.dtdate(2026, 12, 3)


def _date_of_birth(self, tzinfo=None, minimum_age=0, maximum_age=115):
    start = faker_dates.change_year(WRITTEN, -(maximum_age + 1))
    end = faker_dates.change_year(WRITTEN, -minimum_age)
    dob = self.date_time_ad(tzinfo=tzinfo, start_datetime=start, end_datetime=end).date()
    return dob if dob != start else dob + faker_dates.timedelta(days=1)


faker_dates.Provider.date_of_birth = _date_of_birth

ALNUM = string.ascii_letters + string.digits
HEX = "0123456789abcdef"


class Split:
    def __init__(self, name, seed, locales):
        self.name = name
        self.rnd = random.Random(seed)
        self.fakers = [Faker(loc) for loc in locales]
        for i, f in enumerate(self.fakers):
            f.seed_instance(seed + i)
        self.rows = []

    def fake(self):
        return self.rnd.choice(self.fakers)

    def rand(self, chars, n):
        return "".join(self.rnd.choice(chars) for _ in range(n))

    def pick(self, xs):
        return self.rnd.choice(xs)

    def add(self, template, **values):
        """A row from a template whose `{kind}` or `{kind_2}` fields are filled with values."""
        text = template
        find = []
        for key, value in values.items():
            kind = key.rsplit("_", 1)[0] if key[-1].isdigit() else key
            text = text.replace("{" + key + "}", value)
            if kind not in ("ctx", "x"):
                find.append([kind, value])
        for kind, value in find:
            assert value in text, (value, text)
        self.rows.append({"text": text, "find": find})

    def neg(self, text):
        self.rows.append({"text": text, "find": []})


def luhn_complete(rnd, prefix, length):
    digits = [int(c) for c in prefix]
    while len(digits) < length - 1:
        digits.append(rnd.randrange(10))
    for check in range(10):
        ds = digits + [check]
        total = 0
        for i, d in enumerate(reversed(ds)):
            if i % 2 == 1:
                d *= 2
                d = d - 9 if d > 9 else d
            total += d
        if total % 10 == 0:
            return "".join(map(str, ds))


def grouped(s, n=4, sep=" "):
    return sep.join(s[i:i + n] for i in range(0, len(s), n))


def b64url(obj):
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")


# Templates per kind, one list per split. `{v}` is the value.
T = {
    "email": (
        ["Please email me at {v} when it ships.", "my address is {v}", "{v}", "Contact: {v}, thanks!",
         '{"to": "{v}", "subject": "Order"}', "user={v}&plan=pro", "2026-03-01 12:00:01 INFO sent receipt to {v}",
         "id,email,plan\n17,{v},pro", "SMTP_FROM={v}"],
        ["Could you cc {v} on the ticket?", "reply-to: <{v}>", '[{"customer": {"mail": "{v}"}}]',
         "WARN bounce for recipient={v} code=550", "\"{v}\";\"active\";\"2025-01-09\"", "Ich bin unter {v} erreichbar.",
         "Écrivez-moi à {v} svp", "ALERT_EMAIL = '{v}'"],
        ["Send the invoice to {v} by Friday.", "From: Support <{v}>", '{"user": {"contact_email": "{v}"}}', "DEBUG notify target {v}", "{v},2024-11-02,refund", "Mijn e-mailadres is {v}.", "E-posta adresim {v}", "NOTIFY_TO: {v}"],
        ["Drop a line to {v} if anything changes", "email={v}", '{"profile": {"email_address": "{v}"}}', "INFO login ok user={v} mfa=true", "name;{v};active", "Meu email: {v}", "alias {v} forwards here"],
    ),
    "phone": (
        ["Call me on {v}.", "phone: {v}", "{v}", "You can reach the driver at {v} after 6pm", '{"phone": "{v}"}',
         "Mobile {v} (evenings)", "name,phone\nX,{v}"],
        ["Ring the front desk on {v} tomorrow", "tel={v}&lang=en", '{"contact": {"mobile": "{v}"}}',
         "Meine Nummer ist {v}.", "Mon numéro : {v}", "sms sent to {v} status=delivered", "\"{v}\",\"home\""],
        ["Please phone me back at {v}.", "Telefon: {v}", '{"customer": {"phone_number": "{v}"}}', "Puhelin {v}", "call-back number {v} (mobile)", "SMS verification sent to {v}", "{v};mobile;primary"],
        ["Text me at {v} whenever", "Phone number: {v}", '{"owner": {"tel": "{v}"}}', "Tel. {v}", "callback requested to {v}", "whatsapp {v}"],
    ),
    "card": (
        ["card {v}", "My card number is {v}, exp 04/29", "{v}", "charge {v} please", '{"card_number": "{v}", "amount": 42}'],
        ["Pay with {v} and keep the receipt", "pan={v} exp=11/28", '{"payment": {"pan": "{v}"}}',
         "Kartennummer: {v}", "ERROR declined card {v} reason=insufficient_funds"],
        ["The card ending is the full {v}, right?", "cc={v}&cvv=***", '{"billing": {"card": "{v}"}}', "Numéro de carte {v}", "WARN fraud check on {v}"],
        ["Use card number {v} for the deposit", "card_number: {v}", '[{"type": "card", "number": "{v}"}]', "Tarjeta {v}", "tokenize failed for pan {v}"],
    ),
    "iban": (
        ["IBAN {v}", "Please wire it to {v}.", "{v}", "account: {v}", '{"iban": "{v}"}'],
        ["Refund to my account {v} please", "beneficiary_iban={v}", '{"bank": {"account": "{v}"}}',
         "Überweisung auf {v} erbeten", "payout,{v},EUR"],
        ["My IBAN is {v}.", "iban: {v}", '{"payout": {"iban": "{v}"}}', "Rekeningnummer {v}", "transfer,{v},42.00"],
        ["Bank account (IBAN): {v}", "IBAN:{v}", '{"sepa": {"debtor_iban": "{v}"}}', "Cuenta {v}", "iban={v}&bic=XYZ"],
    ),
    "ssn": (
        ["SSN {v}", "my social is {v}", "ssn: {v}", '{"ssn": "{v}"}', "SSN={v}"],
        ["Social Security number {v} on file", '{"applicant": {"social_security_number": "{v}"}}',
         "tax id (SSN) {v} verified", "ssn,{v},ok"],
        ["My SSN is {v}.", "social security no. {v}", '{"employee": {"ssn": "{v}"}}', "SSN:{v}"],
        ["The SSN on the form is {v}", "SSN: {v}", '{"tax": {"ssn": "{v}"}}', "social security: {v}"],
    ),
    "ip": (
        ["login from {v}", "client ip {v}.", "{v}", "blocked {v} after 5 attempts", '{"ip": "{v}"}',
         "X-Forwarded-For: {v}"],
        ["connection reset by peer {v}:443", "remote_addr={v} status=403", '{"request": {"client": "{v}"}}',
         "ssh: failed password for root from {v} port 22", "allowlist: [{v}]"],
        ["Request from {v} was throttled", "client_ip={v}", '{"meta": {"source_ip": "{v}"}}', "sshd: Accepted publickey for deploy from {v}", "deny from {v}"],
        ["Origin IP {v} flagged", "ip_address: {v}", '{"geo": {"ip": "{v}"}}', "Invalid user admin from {v} port 51234", "nginx: {v} - - [GET /]"],
    ),
    "person": (
        ["Hi, my name is {v} and I need help.", "Customer: {v}", '{"name": "{v}", "tier": "gold"}',
         "Thanks, {v}! Your ticket is open.", "Booked for {v}, 2 nights.", "full_name,plan\n{v},pro",
         "This is {v} from accounting.", "Dear {v},", "Signed: {v}"],
        ["I'm {v}, calling about my order", "passenger {v} checked in", '[{"holder": "{v}"}]',
         "Best regards,\n{v}", "Account owner - {v}", "Guest name: {v}", "{v} asked to cancel the booking",
         "Kind regards, {v}"],
        ["Hello, I am {v} and my order is late.", "Contact person: {v}", '{"customer_name": "{v}"}', "Thank you, {v}. We have refunded you.", "Reservation under {v}", "Mr. {v} called again", "Regards,\n{v}", "Signed by {v}"],
        ["Good morning, this is {v} speaking.", "Name: {v}", '{"full_name": "{v}", "role": "admin"}', "Dear {v}, your refund is on its way.", "Patient: {v}", "Best,\n{v}", "Mrs {v} phoned twice"],
    ),
    "address": (
        ["Ship it to {v}.", "address: {v}", '{"street": "{v}"}', "I moved to {v} last month.",
         "delivery_address={v}"],
        ["Please send the parcel to {v}, thanks", "Billing address - {v}", '{"shipping": {"line1": "{v}"}}',
         "Lieferadresse: {v}", "We live at {v} now"],
        ["Deliver to {v}, please.", "Address: {v}", '{"address": {"street": "{v}"}}', "Our office is at {v}.", "shipping_address={v}"],
        ["My address is {v}.", "street address: {v}", '{"addr": "{v}"}', "Bill to {v}", "address_line_1={v}"],
    ),
    "dob": (
        ["born on {v}", "DOB: {v}", '{"date_of_birth": "{v}"}', "date of birth {v}", "birthday: {v}"],
        ["My birthdate is {v}.", "patient d.o.b. {v}", '{"person": {"birth_date": "{v}"}}', "geboren am {v}",
         "née le {v}", "fecha de nacimiento: {v}"],
        ["Date of birth: {v}", "DOB {v}", '{"patient": {"dob": "{v}"}}', "I was born on {v}.", "birth date {v}"],
        ["DOB: {v}", "born {v}", '{"birthdate": "{v}"}', "Date of Birth - {v}", "my date of birth is {v}"],
    ),
    "passport": (
        ["passport number {v}", "Passport: {v}", '{"passport_no": "{v}"}', "my passport is {v}"],
        ["Travel document (passport) no. {v}", "passport_number={v}", "Reisepassnummer {v}",
         "numéro de passeport : {v}", '{"traveller": {"passport": "{v}"}}'],
        ["Passport No. {v}", "passport: {v}", '{"document": {"passport_number": "{v}"}}', "My passport number is {v}.", "passeport {v}"],
        ["Passport #{v}", "passport no: {v}", '{"id_document": {"passport_no": "{v}"}}', "pasaporte {v}", "Her passport number: {v}"],
    ),
    "api_key": (
        ["here is my key {v}", "{v}", "OPENAI_API_KEY={v}", "export KEY {v}", '{"key": "{v}"}',
         "use {v} for the staging account"],
        ["leaked in the log: {v}", "config.token = \"{v}\"", '[{"credential": "{v}"}]', "curl -H 'X-Key: {v}'",
         "set it to {v} and restart"],
        ["Here's the token: {v}", "API_TOKEN={v}", '{"auth": {"api_key": "{v}"}}', "Authorization failed for key {v}", "please rotate {v}"],
        ["Found key {v} in the repo", "TOKEN: {v}", '{"secrets": {"token": "{v}"}}', "revoke {v} now", "X-API-Key: {v}"],
    ),
    "secret": (
        ["{n}={v}", "{n}: {v}", '"{n}": "{v}"', "set {n} = '{v}'", '{"{n}": "{v}"}'],
        ["export {N}=\"{v}\"", "{N}={v}", "  {n}: \"{v}\"", '[{"{n}": "{v}"}]', "--{n} {v}"],
        ["{N}={v}", "{n}: '{v}'", '{"{n}": "{v}"}', "{n} = \"{v}\"", "-e {N}={v}"],
        ["{n}: {v}", "{N}='{v}'", '{"config": {"{n}": "{v}"}}', "--{n}={v}", "set {N} {v}"],
    ),
}


def value(split, kind, v):
    """A value of `kind`; each template set `v` draws from its own locales and shapes."""
    r = split.rnd
    f = split.fake()
    if kind == "email":
        if r.random() < 0.25:
            first = split.pick([["jörg", "élodie", "zoë", "søren", "josé", "müller", "françois", "ines"],
                                ["björn", "renée", "łukasz", "göran", "álvaro", "kübra", "çelik", "æsa"],
                                ["ülkü", "dóra", "šárka", "tõnu", "jüri", "ağça", "mário", "chloé"],
                                ["dāvis", "mõnika", "nguyễn", "günel", "seán", "siobhán", "añez", "ēriks"]][v])
            last = split.pick([["schäfer", "moreau", "lópez", "núñez"], ["öztürk", "håkansson", "dvořák"],
                               ["kovács", "ionescu", "virtanen", "jørgensen"], ["bērziņš", "tamm", "trần", "ó_briain"]][v])
            dom = split.pick([["gmx.de", "orange.fr", "web.de"], ["seznam.cz", "telia.se", "mail.pl"],
                              ["citromail.hu", "yahoo.ro", "suomi24.fi"], ["inbox.lv", "hot.ee", "mail.az"]][v])
            return f"{first}.{last}@{dom}"
        return f.email()
    if kind == "phone":
        num = f.phone_number()
        return num.split("x")[0].split(" ext")[0].strip()
    if kind == "card":
        prefixes = [[("4", 16), ("51", 16), ("2221", 16), ("34", 15), ("6011", 16)],
                    [("4", 16), ("55", 16), ("37", 15), ("35", 16), ("2720", 16), ("62", 16)],
                    [("4", 13), ("53", 16), ("2500", 16), ("36", 14), ("65", 16), ("4", 19)],
                    [("4", 16), ("54", 16), ("2300", 16), ("37", 15), ("6011", 16), ("38", 14)]][v]
        p, n = split.pick(prefixes)
        num = luhn_complete(r, p, n)
        return split.pick([num, grouped(num), grouped(num, 4, "-")]) if n == 16 else num
    if kind == "iban":
        iban = f.iban()
        return grouped(iban) if r.random() < 0.5 else iban
    if kind == "ssn":
        area = r.choice([r.randrange(1, 666), r.randrange(667, 900)])
        g, s = r.randrange(1, 100), r.randrange(1, 10000)
        sep = split.pick([["-", "-", " ", ""], ["-", " ", "", "."], ["-", "-", "", " "], ["-", " ", "-", ""]][v])
        return f"{area:03d}{sep}{g:02d}{sep}{s:04d}"
    if kind == "ip":
        return f.ipv6() if r.random() < 0.25 else f.ipv4_public()
    if kind == "person":
        return f"{f.first_name()} {f.last_name()}"
    if kind == "address":
        return f.street_address().replace("\n", ", ").strip()
    if kind == "dob":
        d = f.date_of_birth(minimum_age=18, maximum_age=90)
        months = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
                  "October", "November", "December"]
        forms = [[d.strftime("%Y-%m-%d"), d.strftime("%d/%m/%Y"), d.strftime("%d.%m.%Y"),
                  f"{months[d.month - 1]} {d.day}, {d.year}"],
                 [d.strftime("%m/%d/%Y"), f"{d.day} {months[d.month - 1]} {d.year}", d.strftime("%d-%m-%Y"),
                  d.strftime("%Y/%m/%d"), f"{months[d.month - 1][:3]} {d.day} {d.year}"],
                 [d.strftime("%Y.%m.%d"), f"{d.day}. {months[d.month - 1]} {d.year}", d.strftime("%d/%m/%y"),
                  f"{months[d.month - 1]} {d.day} {d.year}", d.strftime("%Y-%m-%d")],
                 [d.strftime("%d/%m/%Y"), f"{months[d.month - 1]} {d.day}, {d.year}", d.strftime("%m-%d-%Y"),
                  f"{d.day} {months[d.month - 1][:3]} {d.year}", d.strftime("%d.%m.%Y")]][v]
        return split.pick(forms)
    if kind == "passport":
        up, dig = string.ascii_uppercase, string.digits
        shapes = [[lambda: split.rand(dig, 9), lambda: split.rand(up, 2) + split.rand(dig, 7),
                   lambda: "C" + split.rand("CFGHJKLMNPRTVWXYZ0123456789", 8)],
                  [lambda: split.rand(up, 1) + split.rand(dig, 7),
                   lambda: split.rand(dig, 2) + split.rand(up, 2) + split.rand(dig, 5),
                   lambda: split.rand(up, 2) + split.rand(dig, 6)],
                  [lambda: split.rand(up, 1) + split.rand(dig, 8), lambda: split.rand(dig, 8),
                   lambda: split.rand(up, 3) + split.rand(dig, 6)],
                  [lambda: split.rand(up, 2) + split.rand(dig, 7), lambda: split.rand(dig, 9),
                   lambda: split.rand(up, 1) + split.rand(dig, 6) + split.rand(up, 1)]][v]
        return split.pick(shapes)()
    if kind == "api_key":
        slack = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"
        shapes = [[
            lambda: "sk-proj-" + split.rand(ALNUM + "_-", 56), lambda: "ghp_" + split.rand(ALNUM, 36),
            lambda: "sk_live_" + split.rand(ALNUM, 24), lambda: "rk_live_" + split.rand(ALNUM, 24),
            lambda: "xoxb-" + split.rand(string.digits, 12) + "-" + split.rand(string.digits, 12) + "-" + split.rand(ALNUM, 24),
            lambda: "hf_" + split.rand(ALNUM, 34), lambda: "AKIA" + split.rand(string.ascii_uppercase + string.digits, 16),
            lambda: "https://hooks.slack.com/services/T" + split.rand(slack, 8) + "/B" + split.rand(slack, 10) + "/" + split.rand(ALNUM, 24),
            lambda: "SK" + split.rand(HEX, 32), lambda: "glpat-" + split.rand(ALNUM + "_-", 20),
        ], [
            lambda: "sk-" + split.rand(ALNUM, 48), lambda: "github_pat_" + split.rand(ALNUM + "_", 82),
            lambda: "whsec_" + split.rand(ALNUM, 32), lambda: "sk_test_" + split.rand(ALNUM, 34),
            lambda: "npm_" + split.rand(ALNUM, 36), lambda: "key-" + split.rand(HEX, 32),
            lambda: "AIza" + split.rand(ALNUM + "_-", 35), lambda: "xoxp-" + split.rand(string.digits, 11) + "-" + split.rand(string.digits, 12) + "-" + split.rand(ALNUM, 32),
            lambda: "SG." + split.rand(ALNUM + "_-", 22) + "." + split.rand(ALNUM + "_-", 43),
            lambda: "sk-ant-api03-" + split.rand(ALNUM + "_-", 80),
        ], [
            lambda: "sk-svcacct-" + split.rand(ALNUM + "_-", 64), lambda: "gho_" + split.rand(ALNUM, 36),
            lambda: "rk_test_" + split.rand(ALNUM, 30), lambda: "xoxa-" + split.rand(string.digits, 10) + "-" + split.rand(ALNUM, 30),
            lambda: "ASIA" + split.rand(string.ascii_uppercase + string.digits, 16), lambda: "hf_" + split.rand(ALNUM, 37),
            lambda: "AC" + split.rand(HEX, 32), lambda: "https://hooks.slack.com/workflows/T" + split.rand(slack, 9) + "/A" + split.rand(slack, 10) + "/" + split.rand(ALNUM, 30),
            lambda: "ghs_" + split.rand(ALNUM, 36), lambda: "sk-admin-" + split.rand(ALNUM, 40),
        ], [
            lambda: "sk-proj-" + split.rand(ALNUM, 40), lambda: "ghu_" + split.rand(ALNUM, 36),
            lambda: "sk_live_" + split.rand(ALNUM, 40), lambda: "whsec_" + split.rand(ALNUM, 40),
            lambda: "xoxs-" + split.rand(string.digits, 12) + "-" + split.rand(ALNUM, 20), lambda: "npm_" + split.rand(ALNUM, 36),
            lambda: "AKIA" + split.rand(string.ascii_uppercase + string.digits, 16), lambda: "glpat-" + split.rand(ALNUM, 20),
            lambda: "SG." + split.rand(ALNUM, 22) + "." + split.rand(ALNUM, 43), lambda: "key-" + split.rand(HEX, 32),
        ]][v]
        return split.pick(shapes)()
    raise ValueError(kind)


SECRET_NAMES = (
    ["password", "db_password", "client_secret", "SECRET_KEY", "auth_token", "ENCRYPTION_KEY", "pwd"],
    ["passwd", "api_secret", "access_token", "SMTP_PASSWORD", "signing_key", "APP_SECRET", "refresh_token"],
    ["admin_password", "webhook_secret", "session_token", "MASTER_KEY", "jwt_secret", "REDIS_PASSWORD", "passphrase"],
    ["root_password", "oauth_client_secret", "id_token", "PRIVATE_KEY", "cookie_secret", "MYSQL_PWD", "api_token"],
)


def secret(split, v):
    r = split.rnd
    weak = [["Summer2024!", "hunter2hunter2", "Passw0rd!", "letmein123"],
            ["Winter2025#", "qwerty2020!", "Dragon99$", "Welcome1!"],
            ["Autumn2023?", "Monkey123!", "trustno1trustno1", "Sunshine7&"],
            ["Spring2026!", "Football1#", "iloveyou2iloveyou2", "Rainbow42%"]][v]
    shapes = [lambda: split.rand(ALNUM + "!@#$%^&*", r.randrange(12, 32)),
              lambda: base64.b64encode(bytes(r.randrange(256) for _ in range(32))).decode(),
              lambda: split.pick(weak)]
    return split.pick(shapes)()


def build(split, v, n, divert=None):
    """Rows of template set `v`; rows of a kind in `divert` ({kind: rows}) are drawn here, with this
    split's seed, and put in that list instead (a held-out set whose templates were seen moves to dev
    unchanged, and the rest of this split stays as it was)."""
    divert = divert or {}
    for kind, pools in T.items():
        templates = pools[v]
        start = len(split.rows)
        for k in range(n):
            t = templates[k % len(templates)]
            if kind == "secret":
                name = split.pick(SECRET_NAMES[v])
                t = t.replace("{n}", name).replace("{N}", name.upper()).replace("{v}", "{secret}")
                split.add(t, secret=secret(split, v))
            else:
                split.add(t.replace("{v}", "{" + kind + "}"), **{kind: value(split, kind, v)})
        if kind in divert:
            divert[kind].extend(split.rows[start:])
            del split.rows[start:]
    r = split.rnd
    # Credentials inside URLs, headers and connection strings.
    for k in range(n):
        user = split.fake().user_name()
        pw = quote(secret(split, v), safe="")
        host = split.pick([["db.internal", "pg-primary", "pg.prod.example.com"], ["mysql.corp", "redis-1.local", "mongo.svc"],
                           ["cache.prod", "queue.internal", "db-replica-2"], ["warehouse.db", "kafka-0", "es-cluster"]][v])
        scheme = split.pick([["postgres", "postgresql", "mysql"], ["mongodb", "redis", "amqp"], ["mssql", "rediss", "ftp"],
                             ["mongodb+srv", "sftp", "postgres"]][v])
        tok = base64.b64encode(f"{user}:{secret(split, v)}".encode()).decode()
        key = base64.b64encode(bytes(r.randrange(256) for _ in range(64))).decode()
        forms = [[
            (f"DATABASE_URL={scheme}://{user}:{{secret}}@{host}:5432/app", pw),
            ("Authorization: Basic {secret}", tok),
            ("DefaultEndpointsProtocol=https;AccountName=store1;AccountKey={secret};EndpointSuffix=core.windows.net", key),
        ], [
            (f"connecting to {scheme}://{user}:{{secret}}@{host}/0 failed", pw),
            ("curl -H \"Authorization: Basic {secret}\" https://api.local", tok),
            ("AccountName=backup;AccountKey={secret};", key),
        ], [
            (f"{{\"dsn\": \"{scheme}://{user}:{{secret}}@{host}\"}}", pw),
            ("headers: {{'Authorization': 'Basic {secret}'}}", tok),
            ("Endpoint=sb://bus.servicebus.windows.net/;SharedAccessKeyName=root;SharedAccessKey={secret}", key),
        ], [
            (f"url: {scheme}://{user}:{{secret}}@{host}:27017", pw),
            ("proxy-authorization: basic {secret}", tok),
            ("BlobEndpoint=https://acct.blob.core.windows.net/;AccountKey={secret}", key),
        ]][v]
        t, val = forms[k % len(forms)]
        split.add(t, secret=val)
    # Lists of addresses and several values in one transcript.
    for k in range(n):
        a, b = split.fake().ipv4_public(), split.fake().ipv4_public()
        split.add(split.pick([["peers: {ip_1},{ip_2}", "ips={ip_1}, {ip_2}"], ["upstreams [{ip_1} {ip_2}]", "{ip_1};{ip_2}"],
                              ["hosts={ip_1},{ip_2}", "from {ip_1} via {ip_2}"], ["[{ip_1}, {ip_2}]", "{ip_1} -> {ip_2}"]][v]),
                  ip_1=a, ip_2=b)
    for k in range(n):
        f = split.fake()
        person, email, phone = f"{f.first_name()} {f.last_name()}", f.email(), value(split, "phone", v)
        t = ["User: Hello, I'm {person_1}. My email is {email_1} and my number is {phone_1}.",
             "agent> thanks {person_1}, we'll write to {email_1} or text {phone_1}",
             "Customer {person_1} <{email_1}> asked us to call {phone_1} tomorrow",
             "ticket: caller={person_1}; email={email_1}; phone={phone_1}"][v]
        split.add(t, person_1=person, email_1=email, phone_1=phone)
        addr, dob = f.street_address().replace("\n", ", ").strip(), value(split, "dob", v)
        t = ["Please update: name {person_1}, address {address_1}, date of birth {dob_1}.",
             "Record for {person_1} (born {dob_1}) lives at {address_1}",
             "KYC: {person_1}; DOB {dob_1}; address: {address_1}",
             "Name: {person_1}\nDate of birth: {dob_1}\nAddress: {address_1}"][v]
        split.add(t, person_1=person, address_1=addr, dob_1=dob)
    negatives(split, v, n)


def negatives(split, v, n):
    r = split.rnd
    f = split.fake()
    fixed = [[
        "api_key=sk-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "OPENAI_API_KEY=YOUR_API_KEY", "aws_access_key_id = AKIAIOSFODNN7EXAMPLE",
        "aws_secret_access_key = wJalrXUtnFI/K7MDENG/bPxRfiCYEXAMPLEKEY", "netmask 255.255.255.0", "version 10.2.14.3",
        "git clone git@github.com:acme/api.git", "Tracking number 1Z999AA10123456784", "Order #4000123456 confirmed",
        "password: <SECRET_1>", "token: ********", "password=changeme", "Mr Smith? no, the Smith Street office",
    ], [
        "STRIPE_KEY=sk_live_XXXXXXXXXXXXXXXXXXXXXXXX", "export API_KEY=<your-api-key>", "key: AKIAI44QH8DHBEXAMPLE",
        "mask 255.255.240.0 gateway", "Release 4.18.2.1 is out", "origin git@gitlab.com:team/web.git (fetch)",
        "parcel 9400111899223197428490 in transit", "invoice no. 2025000123 paid", "secret: ${VAULT_SECRET}",
        "password: ************", "token=REDACTED", "subnet 255.255.0.0 (/16)",
    ], [
        "GITHUB_TOKEN=ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "api_key: <API_KEY>", "export AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE",
        "ifconfig eth0 netmask 255.255.252.0", "build 3.2.10.4 deployed", "git@bitbucket.org:team/app.git",
        "shipment 00340434161094042557 delivered", "PO number 4500012345", "password = '{{ vault_password }}'",
        "token: null", "SECRET=REPLACE_ME_WITH_A_SAMPLE_VALUE", "See RFC 1918: 10.0.0.0/8",
    ], [
        "HF_TOKEN=hf_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "token: <TOKEN>", "AWS key AKIAIOSFODNN7EXAMPLE from the docs",
        "route add -net 10.8.0.0 netmask 255.255.255.128", "v4.2.1.9 changelog", "git@github.com:org/infra.git",
        "Order no. 3345987712 shipped", "FedEx 794629384125 delivered", "password: \"\"", "api_key: ${API_KEY}",
        "token=xxxxxxxx", "password_policy: min 12 chars",
    ]][v]
    for t in fixed:
        split.neg(t)
    months = ["January", "March", "June", "October"]
    for k in range(n * 4):
        c = f.city()
        shapes = [[
            f"Weather in {c}: {r.randrange(-10, 40)}C, wind {r.randrange(0, 60)} km/h",
            f"Order {r.randrange(10000, 999999)} for {c} costs {r.randrange(1, 999)}.{r.randrange(0, 100):02d} USD",
            f"Meeting on {r.randrange(1, 28)} {split.pick(months)} {r.randrange(2020, 2027)} at {r.randrange(8, 18)}:00",
            f"{f.company()} opened a store in {c}.",
            f"The flight from {c} lands at {r.randrange(0, 24):02d}:{r.randrange(0, 60):02d} on 2026-{r.randrange(1, 13):02d}-{r.randrange(1, 28):02d}",
            f"Version {r.randrange(0, 20)}.{r.randrange(0, 30)}.{r.randrange(0, 100)} fixes {r.randrange(2, 50)} bugs",
            f"{{\"city\": \"{c}\", \"nights\": {r.randrange(1, 15)}, \"status\": \"Confirmed\"}}",
            f"Shipped {r.randrange(2, 40)} items to the {c} warehouse on Monday",
        ], [
            f"Forecast for {c}: high {r.randrange(-5, 38)} low {r.randrange(-15, 20)}",
            f"Ticket #{r.randrange(100000, 9999999)} was closed by Support",
            f"Delivered on {split.pick(months)} {r.randrange(1, 28)}, {r.randrange(2020, 2027)} to the {c} depot",
            f"{f.company()} reported revenue of {r.randrange(1, 900)} million",
            f"Train {r.randrange(100, 999)} to {c} departs from platform {r.randrange(1, 20)}",
            f"Upgrade to {r.randrange(1, 9)}.{r.randrange(0, 20)}.{r.randrange(0, 9)} before Friday",
            f"[{{\"sku\": \"{r.randrange(10000, 99999)}\", \"qty\": {r.randrange(1, 9)}, \"warehouse\": \"{c}\"}}]",
            f"The {c} Marathon starts at {r.randrange(6, 10)}:30 AM",
        ], [
            f"Hotel in {c} rated {r.randrange(1, 5)}.{r.randrange(0, 9)} by {r.randrange(10, 9000)} guests",
            f"2026-{r.randrange(1, 13):02d}-{r.randrange(1, 28):02d}T{r.randrange(0, 24):02d}:{r.randrange(0, 60):02d}:00Z job {r.randrange(100, 999)} finished in {r.randrange(1, 90)}s",
            f"{f.company()} and {f.company()} signed a deal in {c}",
            f"Bus {r.randrange(1, 99)} to {c} leaves every {r.randrange(5, 30)} minutes",
            f"Refund of {r.randrange(1, 500)}.{r.randrange(0, 100):02d} EUR for order {r.randrange(100000, 9999999)} approved",
            f"Node v{r.randrange(10, 24)}.{r.randrange(0, 20)}.{r.randrange(0, 9)} on {c} runners",
            f"{{\"event\": \"checkout\", \"items\": {r.randrange(1, 9)}, \"store\": \"{c}\"}}",
            f"The {c} office closes on {split.pick(months)} {r.randrange(1, 28)}",
        ], [
            f"Weekly sales in {c}: {r.randrange(100, 9999)} units",
            f"Case {r.randrange(10000, 999999)} escalated to Tier {r.randrange(1, 4)}",
            f"{f.company()} is hiring in {c}",
            f"Deploy {r.randrange(1, 9)}.{r.randrange(0, 30)}.{r.randrange(0, 99)} to {c} region at {r.randrange(0, 24):02d}:00",
            f"Package weighs {r.randrange(1, 40)}.{r.randrange(0, 9)} kg, {r.randrange(10, 99)}x{r.randrange(10, 99)}x{r.randrange(10, 99)} cm",
            f"{{\"region\": \"{c}\", \"latency_ms\": {r.randrange(5, 400)}}}",
            f"Conference in {c}, {split.pick(months)} {r.randrange(1, 28)}-{r.randrange(1, 28)}",
            f"Welcome to {c} Central Station",
        ]][v]
        split.neg(split.pick(shapes))


# A fifth template set, dev only, for the two kinds whose held-out recall was short (secrets,
# street addresses): other config syntaxes, credential names (camelCase too), quoted values with
# any character, and street forms of further languages, from locales no other set uses.
STREETS_4 = [
    # (form, street-type words): {t} the type, {w} a name, {n} a house number.
    ("{w} {t} {n}", ["iela", "gatvė", "g.", "tänav", "mnt", "puiestee", "prospektas", "bulvāris", "sokak", "caddesi"]),
    ("{t} {w} {n}", ["ul.", "ulica", "Rruga", "Jalan", "Jl.", "Lorong", "Soi", "Thanon", "Calle", "Carrera", "Avenida",
                     "bulevar", "trg", "Bóthar", "вул.", "ул.", "проспект", "Λεωφόρος", "Οδός"]),
    ("{n} {w} {t}", ["Street", "Road", "Lane", "Avenue", "Marg", "Nagar", "Sorok", "Umgwaqo", "Close", "Drive"]),
    ("{w}{t} {n}", ["gata", "vegur", "braut", "stræti", "weg", "gasse", "straße", "katu", "utca", "vej"]),
    ("{t} {w}, {n}", ["Rua", "Travessa", "Via", "Viale", "Piazza", "Strada", "Ulitsa", "Carrer", "Passeig"]),
]


def extend(split, n):
    r = split.rnd
    names = ["dbPassword", "clientSecret", "apiKey", "accessToken", "smtp_pass", "DB_PASS", "x-api-key", "AUTH_KEY",
             "private_token", "secretKey", "userPwd", "adminPass", "mailgun_secret", "ssh_passphrase"]
    templates = [
        "{n}: {v}", '"{n}": "{v}"', "{N}={v}", "export {N}='{v}'", "--{n}={v}", "<{n}>{v}</{n}>", "{n} = \"{v}\"",
        "[database]\n{n} = {v}", "ENV {N} {v}", "$env:{N} = \"{v}\"", "set {N}={v}", "  {n}: '{v}'",
        "?{n}={v}&format=json", "{n} => '{v}',", "X-Api-Key: {v}", "Authorization: Token {v}",
        "Server=sql01;User Id=sa;Password={v};", "jdbc:postgresql://db:5432/app?user=app&password={v}",
        "machine api.corp.local login deploy password {v}", "PGPASSWORD={v} psql -h db -U app",
        "my password is {v}", "Passwort: {v}", "mot de passe : {v}", "contraseña: {v}", "wifi password: {v}",
    ]
    weak = ["Qwerty!234", "Berlin#2021", "Pa$$w0rd99", "Tr0ub4dor&3", "Mar1anne!", "zxcvbn123!"]
    symbols = "!@#$%^&*()[]{}<>:;,|~?"
    for k in range(n * 2):
        t = templates[k % len(templates)]
        name = split.pick(names)
        shapes = [lambda: split.rand(ALNUM + symbols, r.randrange(12, 28)),
                  lambda: base64.b64encode(bytes(r.randrange(256) for _ in range(24))).decode(),
                  lambda: split.rand(HEX, 40), lambda: split.pick(weak)]
        v = split.pick(shapes)()
        quoted = "'{v}'" in t or '"{v}"' in t
        if not quoted:
            # Unquoted values stop at what ends a value in their syntax.
            v = "".join(c for c in v if c not in " ;,&'\"<>" and c not in "()[]{}|")
        t = t.replace("{n}", name).replace("{N}", name.upper().replace("-", "_"))
        split.add(t.replace("{v}", "{secret}"), secret=v)
    for k in range(n):
        user, pw = split.fake().user_name(), quote(split.pick(weak) + split.rand(ALNUM, 4), safe="")
        host = split.pick(["db.svc.cluster.local", "db-3.internal", "cache-2", "broker.prod"])
        form = split.pick([f"redis://:{{secret}}@{host}:6379/0", f"https://{user}:{{secret}}@git.corp.local/org/repo.git",
                           f"amqps://{user}:{{secret}}@{host}/vhost", f"mongodb://{user}:{{secret}}@{host},db2:27017/?replicaSet=rs0",
                           f"SQLALCHEMY_DATABASE_URI = 'mysql+pymysql://{user}:{{secret}}@{host}/shop'"])
        split.add(form, secret=pw)
    for k in range(n * 2):
        f = split.fake()
        form, types = split.pick(STREETS_4)
        t = split.pick(types)
        word = split.pick([f.last_name(), f.first_name(), f.city()]).split(" ")[0]
        num = split.pick([str(r.randrange(1, 300)), f"{r.randrange(1, 200)}{split.pick('abcAB')}", f"{r.randrange(1, 99)}-{r.randrange(1, 40)}",
                          f"{r.randrange(1, 120)}/{r.randrange(1, 30)}"])
        addr = form.format(w=word, t=t, n=num)
        if form == "{w}{t} {n}":
            addr = addr[0].upper() + addr[1:]
        split.add(split.pick(["Ship it to {address}.", "address: {address}", '{"street": "{address}"}', "I live at {address}, 2nd floor.",
                              "Kunde wohnt in der {address}", "Адрес: {address}", "Send the courier to {address} before noon",
                              "billing_street={address}", "Nuevo domicilio: {address}", "Our new office: {address}"]), address=addr)
    for k in range(n):
        split.add(split.pick(["Address: {address}", "Ship to {address}", "{address}", "deliver to {address}, please"]),
                  address=split.fake().street_address().replace("\n", ", ").strip())


# A sixth set, dev only, for street addresses (whose held-out recall was short), written for the
# forms the README lists as gaps: street types of more languages, lowercase words inside a street's
# name, no house number after a cue, a unit, floor or post code after the street, addresses in
# lists and in multi-line blocks, and scripts without capitals; from locales no other set uses.
STREETS_5 = [
    # (form, street-type words): {t} the type, {w} a name, {l} lowercase words before it, {m} after
    # it, {n} a house number.
    ("{t} {w} {n}", ["Strada", "Calea", "Aleea", "Bulevardul", "Rruga", "Sráid", "Heol", "Ffordd", "Mtaa wa", "Barabara ya",
                     "Kalye", "Gang", "Gg.", "Avinguda", "Rúa", "Transversal", "Diagonal", "Pasaje", "Lungomare",
                     "Salita", "Sentier", "Voie", "Traverse", "Montée", "Faubourg", "Rond-point", "пр-т", "б-р",
                     "бул.", "проезд", "шосе", "наб.", "узвіз", "площа", "Taman", "Lebuhraya", "Jalan", "Đường", "Phố"]),
    ("{w} {t} {n}", ["sor", "sétány", "köz", "tér", "laukums", "gatve", "prospekts", "aikštė", "skg.", "tee", "väylä",
                     "raitti", "bulvar", "mahallesi", "küçəsi", "prospekti", "meydanı", "trg", "put", "obala",
                     "Etorbidea", "kalea", "Laan", "Rylaan", "Avenue", "Road", "Lane", "Street", "Gali", "Chowk"]),
    ("{w}{t} {n}", ["straat", "steeg", "dreef", "pad", "zeile", "graben", "berg", "feld", "plads", "stræde", "allé",
                    "plass", "gränd", "torget", "kuja", "polku", "väylä", "út", "utca", "körút"]),
    ("{n} {w} {t}", ["Street", "Road", "Avenue", "Crescent", "Close", "Way", "Drive", "Boulevard", "Terrace", "Row"]),
    ("{t} {l} {w} {n}", ["calle", "avenida", "rua", "via", "rue", "carrer", "ulica", "вулиця", "улица", "strada"]),
    ("{t} {w} {m}, {n}", ["провулок", "вулиця", "улица", "ulica", "ulice", "cesta"]),
]
LOWER = {"calle": ["de la", "del"], "avenida": ["dos", "de la"], "rua": ["do", "das"], "via": ["dei", "delle"],
         "rue": ["de la", "des"], "carrer": ["de", "del"], "ulica": ["świętego", "księdza"], "вулиця": ["героїв", "нова"],
         "улица": ["генерала", "новая"], "strada": ["lungă", "mare"]}
# Lowercase words after a street's name (`провулок Ветеранів праці`).
AFTER_5 = ["праці", "миру", "свободы", "pokoju", "slobode", "míru", "svobody"]
UNITS_5 = ["Apt 4B", "Flat 2", "2nd floor", "Suite 300", "Unit 7", "kv. 12", "Wohnung 3", "piso 2", "étage 3",
           "Block C", "Top 5", "App. 14"]


def streets(split, n):
    r = split.rnd
    rows = []
    for k in range(n * 4):
        f = split.fake()
        form, types = split.pick(STREETS_5)
        t = split.pick(types)
        word = split.pick([f.last_name(), f.first_name(), f.city()]).split(" ")[-1]
        lower = split.pick(LOWER.get(t.lower(), ["de"]))
        num = split.pick([str(r.randrange(1, 300)), f"{r.randrange(1, 200)}{split.pick('abAB')}",
                          f"{r.randrange(1, 99)}-{r.randrange(1, 40)}", f"{r.randrange(1, 120)}/{r.randrange(1, 30)}"])
        addr = form.format(w=word, t=t, l=lower, m=split.pick(AFTER_5), n=num)
        if r.random() < 0.3:
            addr += ", " + split.pick(UNITS_5)
        rows.append(addr)
    cues = ["Address: {address}", "Ship to {address}", "address={address}", '{"address": "{address}"}',
            "Please deliver to {address}.", "Customer lives at {address}", "Send the invoice to {address}, thanks",
            "Adresse : {address}", "Dirección: {address}", "адрес: {address}", "Our new address is {address}.",
            "billing_address: {address}", "I moved to {address} in May.", "Wohnhaft in {address}",
            "Please send it to my home address, {address}", "Shipping address -> {address}"]
    for addr in rows[:n * 2]:
        split.add(split.pick(cues), address=addr)
    # Two addresses in a list, and a multi-line block with the post code and city on the next line.
    for k in range(0, n, 2):
        a, b = rows[n * 2 + k], rows[n * 2 + k + 1]
        split.add(split.pick(["Addresses: {address_1}; {address_2}", "Stops:\n- {address_1}\n- {address_2}",
                              "from {address_1} to {address_2}", "[\"{address_1}\", \"{address_2}\"]"]),
                  address_1=a, address_2=b)
        f = split.fake()
        city = split.pick(["Oran", "Tbilisi", "Yerevan", "Manila", "Nairobi", "Lahore", "Liège", "Lugano", "Sofia", "Haifa",
                           "Busan", "Taichung", "Chiang Mai"])
        split.add(split.pick(["Address:\n{address}\n{x} {ctx}", "Deliver to:\n  {address}\n  {x} {ctx}",
                              "{person}\n{address}\n{x} {ctx}"]).replace("{person}", "{ctx_2}"),
                  address=rows[n * 3 + k], x=f.postcode(), ctx=city, ctx_2=f.company())
    # No house number: only after a cue.
    for k in range(n):
        f = split.fake()
        word = f.last_name().split(" ")[-1]
        addr = split.pick([f"{word}straat", f"{word}weg", f"rue {word}", f"Via {word}", f"{word} Street",
                           f"calle de {word}", f"ulica {word}", f"{word} tér", f"Strada {word}", f"{word} iela"])
        split.add(split.pick(["address: {address}", "Address - {address}", "street={address}", "Ship to {address}, please"]),
                  address=addr)
    # Street addresses as these locales write them, scripts without capitals too.
    for k in range(n * 2):
        split.add(split.pick(["Address: {address}", "ship to {address}", "address_line_1={address}", "I live at {address}",
                              '{"street": "{address}"}']),
                  address=split.fake().street_address().replace("\n", ", ").strip())
    # Look-alikes: the word without an address after it, and numbered things that are no street.
    for t in ["We will address the 3 open issues by Friday", "IP address 10.0.0.0/8 is private",
              "MAC address 00:1B:44:11:3A:B7", "email address: <EMAIL_1>", "Gate 12, Terminal 2",
              "Room 101 is booked", "Route 66 diner reviews", "Section 3, Clause 4 applies", "Platform 9 at Central Station",
              "address: unknown", "Addressed in release 2.4.1", "the address field is required (max 80 chars)",
              "Address line 2 is optional", "Highway 61 Revisited is an album", "Studio 54 opened in 1977",
              "Terminal 5 at Heathrow", "Apollo 11 landed in 1969", "Level 3 support", "Step 2 of 5",
              "address: <ADDRESS_1>", "Delivery window 9-12, Monday", "We ship to 40 countries",
              "I moved to Berlin 2 years ago", "Street Fighter 2 is on sale", "Bill to the account on file",
              "Please address 3 issues first", "She moved to team 4 last week"]:
        split.neg(t)


# A seventh set, dev only, for street addresses with no cue word (the held-out address set showed
# the scanner finds few of those): chat sentences, CSV and table rows, JSON fields under other
# keys, signature blocks, log lines, lists, multi-line blocks and sentences in other languages;
# with look-alikes that hold numbers and capitalized words but no street (products, films,
# versions, headings, scores, dates, amounts). Its own seed and locales (none of the held-out ones).
CUELESS_LOCALES = ["en_US", "en_GB", "en_AU", "fr_FR", "it_IT", "nl_NL", "pt_PT", "pl_PL", "cs_CZ", "sv_SE", "da_DK",
                   "fi_FI", "hu_HU", "id_ID", "uk_UA", "ru_RU", "el_GR", "de_AT", "es_MX", "fr_CH", "sk_SK", "hr_HR",
                   "sl_SI", "nl_BE", "en_IE", "no_NO"]
CUELESS_OWN = [
    # (form, street-type words), as in STREETS_5.
    ("{n} {w} {t}", ["Street", "Road", "Avenue", "Lane", "Drive", "Close", "Way", "Crescent", "Place", "Court", "Terrace"]),
    ("{t} {w} {n}", ["Via", "Viale", "Calle", "Avenida", "Rua", "Carrer", "ul.", "Strada", "Jalan", "Jl.", "Rue"]),
    ("{n}, {t} {w}", ["rue", "avenue", "boulevard", "place", "allée", "impasse"]),
    ("{w}{t} {n}", ["straße", "strasse", "gasse", "weg", "gatan", "vägen", "vej", "gade", "veien", "straat", "laan", "katu", "tie"]),
    ("{w} {t} {n}", ["utca", "út", "iela", "ulica", "cesta", "caddesi", "sokak", "Straße", "Allee"]),
    ("{t} {w}, {n}", ["Calle", "C/", "Av.", "Avda.", "Paseo", "Plaza", "Via", "Piazza", "Rua", "Travessa", "Carrer"]),
    ("{n} {w} {t}", ["St", "Rd", "Ave", "Blvd", "Ln", "Dr", "St.", "Rd."]),
    ("{t} {w} {n}", ["вулиця", "улица", "ул.", "пр-т", "οδός", "Jalan", "Jln", "Soi", "Thanon"]),
]
# Streets in scripts and languages Faker's dev locales do not write: types of Arabic, Persian,
# Hindi, Bengali, Tamil and Swahili, house numbers in their digits too.
CUELESS_NATIVE = [
    ("{t} {w}، پلاک {d}", ["خیابان", "کوچه", "بلوار"], ["آزادی", "بهار", "نسترن", "فردوسی"], "۰۱۲۳۴۵۶۷۸۹"),
    ("{d} {t} {w}", ["شارع", "طريق", "نهج"], ["الحرية", "النصر", "الجمهورية"], "0123456789"),
    ("{d} {w} {t}", ["मार्ग", "रोड", "गली"], ["गांधी", "नेहरू", "शिवाजी"], "०१२३४५६७८९"),
    ("{d} {w} {t}", ["রোড", "সড়ক", "লেন"], ["কাজী নজরুল", "মিরপুর", "শাহবাগ"], "০১২৩৪৫৬৭৮৯"),
    ("{d} {w} {t}", ["சாலை", "தெரு"], ["காந்தி", "அண்ணா", "நேரு"], "0123456789"),
    ("{t} {w} {d}", ["Mtaa wa", "Barabara ya"], ["Uhuru", "Jamhuri", "Nyerere", "Kenyatta"], "0123456789"),
]
CUELESS_UNITS = ["Apt 4B", "Flat 2", "3rd floor", "Suite 210", "Unit 7", "piso 2", "3º B", "kv. 12", "Top 5", "étage 3"]
CUELESS_TEMPLATES = [
    # Chat, no cue word.
    "hi, I'm at {address} now, where are you?", "meet me at {address} tomorrow at 10",
    "can you pick me up from {address}?", "the package is still at {address}, not at my office",
    "We're at {address}, second door on the left.", "Is {address} inside your delivery zone?",
    "{address} is where the workshop is this year", "I've just moved into {address} and need internet",
    "The courier left it at {address} instead of next door", "Can the technician come to {address} on Monday?",
    "my parents' place is {address}", "ok so {address} works for the pickup",
    # Other languages.
    "Ich wohne jetzt in der {address}.", "J'habite au {address} depuis mars.", "Vivo en {address}, cerca del parque.",
    "Mieszkam przy {address}.", "Abito in {address} da due anni.", "Ik woon op {address}.", "Bor på {address} nu.",
    "Я живу на {address}.", "Bydlím na {address}.", "Saya tinggal di {address}.",
    # Rows: CSV, TSV, tables.
    "id,name,street,city\n{x},{person},{address},{ctx_2}", "{x};{person};{address};{ctx_2}",
    "customer,address_line_1,postcode\n{person},{address},{x}", "| {x} | {person} | {address} | {ctx_2} |",
    "{person}\t{address}\t{ctx_2}", "Name,Street Address,City\n{person},{address},{ctx_2}",
    # JSON under other keys.
    '{"name": "{person}", "addressLine1": "{address}", "postalCode": "{x}"}', '{"line_1": "{address}", "city": "{ctx_2}"}',
    '{"street1": "{address}", "zip": "{x}"}', '{"shipping": {"address1": "{address}", "city": "{ctx_2}"}}',
    '{"location": "{address}", "city": "{ctx_2}"}', '{"dest": "{address}", "eta": "14:20"}',
    '{"AddressLine1": "{address}", "Town": "{ctx_2}"}', '{"strasse": "{address}", "ort": "{ctx_2}"}',
    # Signature blocks and multi-line blocks.
    "Kind regards,\n{person}\n{address}\n{x} {ctx_2}", "--\n{person} | {address}, {x} {ctx_2}",
    "{person}\n{address}\n{x} {ctx_2}", "Best,\n{person}\nHead of Ops\n{address}\n{ctx_2} {x}",
    # Logs.
    '2026-03-02 10:14:07 INFO geocoder: resolved "{address}" to 48.85,2.35',
    "WARN delivery 55123 failed at {address}: nobody home", "[route] stop 3/7: {address} (eta 14:20)",
    'level=info msg="order shipped" dest="{address}" carrier=dhl', "geocode miss for '{address}', falling back",
]
CUELESS_LISTS = ["Stops today:\n1. {address_1}\n2. {address_2}", "- {address_1}\n- {address_2}",
                 "Branches: {address_1}; {address_2}", "from {address_1} to {address_2} by bike",
                 "Our stores:\n* {address_1}\n* {address_2}"]
CUELESS_NEGATIVES = [
    "iPhone 15 Pro Max in Blue Titanium", "Galaxy S24 Ultra, 512 GB", "Route 66 diner reviews are in",
    "Build 12 passed on main", "Room for 4 people, Wi-Fi included", "Release 2.4.1 Harbor is out",
    "Ubuntu 22.04 Jammy Jellyfish", "macOS 14 Sonoma update", "Debian 12 Bookworm images",
    "## Address", "Street Address (required)", "Address Book 2.0 release notes", "Section 4: Street names",
    "Shipping Address", "Main Street Capital reported Q3 results", "Wall Street Journal, 12 May 2024",
    "Abbey Road Studios opened in 1931", "Park Avenue Partners LLC", "Green Bay 24, Chicago 17",
    "Lake Como in 3 days", "Mount Everest is 8848 m high", "Cape Town 2010 World Cup", "Palm Springs 2024 Film Festival",
    "12 March 2024 at 10:30", "Monday 3 June, 9:00 to 17:00", "Paid 250 EUR on 4 April", "$40 Gift Card for Ana",
    "12 Angry Men is a 1957 film", "101 Dalmatians on Sunday", "Ocean's 11 and Ocean's 12", "Top 5 Hiking Apps",
    "Sprint 14 Review notes", "Episode 4 A New Hope", "Platform 4 for the Express", "Row 5 Seat 12",
    "Level 2 Car Park is full", "We sold 12 Ford Rangers last month", "I have 3 Golden Retrievers",
    "Windows 11 Home Edition", "PlayStation 5 Slim bundle", "Air Max 90 in White", "Canon EOS 90D body",
    "Chapter 7 Summary", "Table 3 Results", "Figure 2 Overview", "Python 3.12 Release", "Node 20 LTS",
    "Meet 3 New Hires", "Week 12 Standup", "Invoice 4411 Paid", "Order 1182 Shipped", "Ticket 77 Closed",
    "Studio 54 Nights", "Apollo 13 Crew", "Formula 1 Grand Prix", "Area 51 Raid", "Pier 39 Sea Lions",
    "Interstate 95 traffic", "Highway 1 Road Trip", "Bay Area Rapid Transit", "Queen Street West vibes",
    "Park Royal Hotel, 4 stars", "Harbour View Suites", "3 Stars Hotel Review", "Team 7 Standup",
    "v3.2 Street View API", "Street Fighter 6 tournament", "Oxford Street Sale starts 26 Dec",
    "Fifth Avenue Shopping Guide", "Broadway Show Tickets for 2", "Rue de la Paix is a Monopoly square",
    "The Crescent Moon Cafe, 5 tables", "Lane 3 is closed", "Court 2 is booked", "Drive 4 hours to Rome",
    "Way 2 Go Travel", "Place 1st in the race", "Point 3 of the agenda", "Gate 12 boarding at 10:15",
]


def cueless(split, n):
    r = split.rnd
    rows = []
    for k in range(n * 4):
        f = split.fake()
        if k % 2:
            addr = f.street_address()
            if "\n" in addr or not any(c.isdigit() for c in addr):
                addr = f"{r.randrange(1, 200)} {f.last_name().split(' ')[-1]} Street"
        else:
            form, types = split.pick(CUELESS_OWN)
            t = split.pick(types)
            word = split.pick([f.last_name(), f.first_name(), f.city()]).split(" ")[-1]
            num = split.pick([str(r.randrange(1, 300)), f"{r.randrange(1, 200)}{split.pick('abAB')}",
                              f"{r.randrange(1, 99)}-{r.randrange(1, 40)}", f"{r.randrange(1, 120)}/{r.randrange(1, 30)}"])
            addr = form.format(w=word, t=t, n=num)
            if form == "{w}{t} {n}":
                addr = addr[0].upper() + addr[1:]
            if r.random() < 0.25:
                addr += ", " + split.pick(CUELESS_UNITS)
        rows.append(addr.strip())
    for k in range(0, n * 4, 4):
        form, types, names, digits = split.pick(CUELESS_NATIVE)
        d = "".join(digits[int(c)] for c in str(r.randrange(1, 400)))
        rows[k] = form.format(t=split.pick(types), w=split.pick(names), d=d)
    for addr in rows[:n * 3]:
        f = split.fake()
        t = split.pick(CUELESS_TEMPLATES)
        if ("," in addr or ";" in addr) and ("," in t.split("{address}")[0][-1:] or t.startswith("{x};")):
            addr_cell = addr.replace(",", "").replace(";", "")
        else:
            addr_cell = addr
        values = {"address": addr_cell, "x": f.postcode(), "ctx_2": f.city()}
        if "{person}" in t:
            values["person"] = f.name()
        split.add(t, **values)
    for k in range(n * 3, n * 4, 2):
        split.add(split.pick(CUELESS_LISTS), address_1=rows[k], address_2=rows[k + 1])
    for t in CUELESS_NEGATIVES:
        split.neg(t)

# An eighth set, dev only, for street addresses in the places agent traffic carries them without a
# cue word, written from what such traffic looks like (not from any held-out row): order and
# delivery messages, invoices, receipts, geocoding tool outputs (`formatted_address`,
# `vicinity`), CRM and ticket records, YAML, XML and key=value logs, SMS, one-line comma forms,
# post code first, landmarks (`near …`, `Opp. …`), address orders of other countries
# (`Calle 45 # 12-34`, `Teheran-ro 152`, `Keizersgracht 123-II`), units and floors; with
# look-alikes (products, versions, rooms, gates and levels, quantities, dates, headings,
# companies). Its own seed and locales, none of them held-out ones.
STRUCT_LOCALES = ["en_US", "en_GB", "en_AU", "en_CA", "en_NZ", "fr_FR", "fr_CA", "it_IT", "nl_NL", "pt_BR", "pt_PT",
                  "es_ES", "es_MX", "es_AR", "pl_PL", "cs_CZ", "de_DE", "de_AT", "de_CH", "sv_SE", "da_DK", "no_NO",
                  "fi_FI", "hu_HU", "id_ID", "he_IL", "hy_AM", "ka_GE", "sk_SK", "hr_HR", "sl_SI", "uk_UA", "ru_RU",
                  "el_GR", "nl_BE", "en_MS", "en_PH", "ro_RO"]
STRUCT_FORMS = [
    # (form, street-type words): {n} a house number, {w} a name, {t} the type.
    ("{n} {w} {t}", ["Street", "Road", "Avenue", "Lane", "Drive", "Place", "Parade", "Crescent", "Boulevard", "Highway",
                     "Way", "Terrace", "Close", "Mews", "Row", "Walk", "Square", "Circle", "Court", "Grove", "St", "Rd",
                     "Ave", "Dr", "Ln", "Pl", "Blvd", "Hwy", "Pde", "Cres", "Tce", "Ct", "Sq"]),
    ("{t} {w} {n}", ["Calle", "Avenida", "Av.", "Rua", "Via", "Viale", "Corso", "Piazza", "Rue", "ulica", "ul.", "Strada",
                     "Jalan", "Jl.", "Soi", "Thanon", "Carrer", "Passeig", "Camino", "Paseo", "Ronda", "Largo",
                     "Praça", "Alameda", "Estrada", "aleja", "al.", "Bulevardul", "Calea"]),
    ("{t} {w}, {n}", ["Rua", "Av.", "Avenida", "Travessa", "Via", "Piazza", "Calle", "C/", "Corso", "Praça", "Viale"]),
    ("{n}, {t} {w}", ["rue", "avenue", "boulevard", "allée", "chemin", "impasse", "place", "quai", "route"]),
    ("{w}{t} {n}", ["straße", "strasse", "gasse", "weg", "platz", "allee", "ring", "damm", "gatan", "vägen", "gränd",
                    "vej", "gade", "allé", "veien", "gata", "straat", "laan", "gracht", "plein", "kade", "katu", "tie",
                    "kuja", "polku"]),
    ("{w} {t} {n}", ["utca", "út", "tér", "iela", "ulica", "cesta", "caddesi", "sokak", "Straße", "Allee", "ulice",
                     "náměstí", "Weg", "Platz"]),
    ("{n}, {w} {t}", ["Road", "Marg", "Street", "Salai", "Nagar", "Lane"]),
    ("Plot {n} {w} {t}", ["Crescent", "Close", "Way", "Street", "Avenue"]),
]
# Forms with a shape of their own (Colombian grid numbers, Korean `-ro`, Dutch floors, Thai sois).
STRUCT_SHAPED = [
    lambda r, w: f"{r.choice(['Calle', 'Carrera', 'Cra.', 'Cl.', 'Transversal', 'Diagonal', 'Avenida'])} {r.randrange(1, 180)}"
                 f"{r.choice(['', 'A', 'B', ' Bis'])} # {r.randrange(1, 120)}-{r.randrange(1, 99)}",
    lambda r, w: f"{r.choice(['Carrera', 'Calle', 'Cra', 'Kr'])} {r.randrange(1, 120)} No. {r.randrange(1, 120)}-{r.randrange(1, 99)}",
    lambda r, w: f"{r.choice(['Teheran', 'Sejong', 'Eulji', 'Toegye', 'Gangnam', 'Olympic'])}-{r.choice(['ro', 'daero', 'gil'])} {r.randrange(1, 500)}",
    lambda r, w: f"{r.choice(['Keizersgracht', 'Prinsengracht', 'Herengracht', 'Singel'])} {r.randrange(1, 600)}-{r.choice(['I', 'II', 'III', 'hs'])}",
    lambda r, w: f"{r.randrange(1, 300)}/{r.randrange(1, 90)} Soi {r.choice(['Sukhumvit', 'Ari', 'Thonglor', 'Ekkamai'])} {r.randrange(1, 60)}",
    lambda r, w: f"#{r.randrange(1, 400)}, {r.choice(['1st', '2nd', '3rd', '4th', '5th'])} {r.choice(['Main', 'Cross'])} Road",
    lambda r, w: f"{r.randrange(1, 200)} {w} {r.choice(['Street', 'Road', 'Lane'])}",
]
STRUCT_UNITS = ["Apt 12", "Apt. 3C", "Unit 4", "Suite 1200", "Flat 6", "4th Floor", "2º 1ª", "Piso 7", "Dpto. 4B",
                "apto 501", "bus 3", "Top 7", "lgh 1102", "app. 12", "Floor 3", "kv. 45", "Wohnung 5"]
STRUCT_LANDMARKS = ["the Central Mosque", "City Mall", "St. Mary's Church", "the old water tower", "Metro Station Exit 2",
                    "the petrol station", "Shell garage", "the fire station", "Riverside Park"]
STRUCT_TEMPLATES = [
    # (template, whether the address sits in a comma-separated cell)
    ("Thanks for your order #{n}!\n\nIt goes to:\n{person}\n{address}\n{x} {ctx}\n\nExpected on Thursday.", False),
    ("Order {n} confirmed. Recipient: {person}, {address}, {x} {ctx}.", False),
    ("Your order is on its way to {address} ({ctx}) and should arrive by Friday.", False),
    ("DPD: your parcel {n} arrives today between 10:00 and 12:00 at {address}, {ctx}.", False),
    ("Courier update: left with a neighbour at {address}.", False),
    ("Driver is 5 min away from {address}", False),
    ("Collection point: {ctx_3}, {address}, {x} {ctx}. Open Mon-Sat 8-20.", False),
    ("INVOICE No. {n}\n{ctx_2}\n{address}\n{x} {ctx}\nVAT reg. 48213377", False),
    ("{ctx_2} · {address} · {x} {ctx} · Reg. no. 48213", False),
    ("RECEIPT\n{ctx_2}\n{address}\n{ctx}\n2x Cappuccino 7.00\nTOTAL 7.00 EUR", False),
    ('{"results": [{"formatted_address": "{address}, {x} {ctx}", "geometry": {"location": {"lat": 52.5, "lng": 13.4}}}]}', False),
    ('{"name": "{ctx_2}", "vicinity": "{address}, {ctx}", "rating": 4.6, "open_now": true}', False),
    ('{"display_name": "{address}, {ctx}, {x}", "lat": "48.13", "lon": "11.57"}', False),
    ('geocode(q="{address}, {ctx}") -> 1 result, confidence 0.93', False),
    ('{"candidates": [{"label": "{address}", "city": "{ctx}", "score": 98}]}', False),
    ("Ticket #{n} | Customer: {person} | Site: {address} | Priority: high", False),
    ("CRM record\nname: {person}\ncompany: {ctx_2}\npremises: {address}\ntown: {ctx}", False),
    ("Account {n}: {person}, {address}, {ctx} - plan Pro, renewal 2026-05-01", False),
    ('recipient:\n  name: {person}\n  line: {address}\n  postcode: "{x}"\n  city: {ctx}', False),
    ("<Party><Name>{person}</Name><Line>{address}</Line><Town>{ctx}</Town><PostCode>{x}</PostCode></Party>", False),
    ('ts=2026-03-04T10:12:00Z svc=dispatch job={n} stop="{address}" status=arrived', False),
    ('event=pickup where="{address}, {ctx}" driver=17', False),
    ("- id: {n}\n  site: {address}\n  city: {ctx}", False),
    ("running 10 min late, I'll be outside {address}", False),
    ("hey it's the plumber, what's the flat number at {address}?", False),
    ("Buzz 14 at {address}, door code 4411", False),
    ("the party is at {address}, bring snacks!", False),
    ("I'm parked right in front of {address}", False),
    ("Your ride is arriving at {address}", False),
    ("{person}, {address}, {x} {ctx}", False),
    ("{address}, {ctx} {x}", False),
    ("{ctx_2}, {address}, {ctx}", False),
    ("{x} {ctx}, {address}", False),
    ("{x} {ctx}\n{address}\n{person}", False),
    ("{address}, near {ctx_3}", False),
    ("Opp. {ctx_3}, {address}, {ctx}", False),
    ("{address} (behind {ctx_3})", False),
    ("Le livreur a déposé le colis au {address}.", False),
    ("El pedido llegó a {address} ayer.", False),
    ("O pedido foi entregue na {address}.", False),
    ("Das Paket liegt in der Filiale {address}.", False),
    ("La consegna è prevista in {address} domani.", False),
    ("Het pakket ligt bij {address}.", False),
    ("Paczka czeka na {address}.", False),
    ("Paketet finns hos ombudet på {address}.", False),
    ("Посылка ждёт по адресу {address}", False),
    ("Zásilka čeká na {address}.", False),
    ("<tr><td>{person}</td><td>{address}</td><td>{ctx}</td></tr>", False),
    ("| Store | Where | Opens |\n|---|---|---|\n| {ctx} | {address} | 9:00 |", False),
    ("<li>{address}, {ctx}</li>", False),
    ("store_id,city,location\n{n},{ctx},{address}", True),
    ("{n},{person},{address},{ctx},{x}", True),
    ("name\tsite\tcity\n{person}\t{address}\t{ctx}", False),
    ("Best regards\n{person}\nSenior Buyer, {ctx_2}\n{address} | {x} {ctx}\nwww.example.com", False),
    ("--\n{ctx_2}\n{address}, {x} {ctx}\nMon-Fri 9-17", False),
    ("{ctx_2}\nAttn: {person}\n{address}\n{ctx} {x}", False),
    ("Nearest branch: {ctx_2} - {address}, {x} {ctx} (1.2 km)", False),
    ('[booking] guest={person} property="{address}" nights=3', False),
]
STRUCT_LISTS = ["Today's route:\n• {address_1}\n• {address_2}\n• back to depot",
                "Viewing slots: 10:00 {address_1}; 11:30 {address_2}",
                '{"stops": [{"seq": 1, "at": "{address_1}"}, {"seq": 2, "at": "{address_2}"}]}',
                "Pickup {address_1} -> drop {address_2}",
                "<ul><li>{address_1}</li><li>{address_2}</li></ul>"]
STRUCT_NEGATIVES = [
    "Galaxy Tab S9 FE 128 GB", "Pixel 8 Pro Obsidian", "iPad Air 5 Wi-Fi 64 GB", "ThinkPad X1 Carbon Gen 11",
    "Model 3 Long Range", "Firmware 4.2.1 Stable", "Kubernetes 1.29 Release Notes", "Room 204 Conference",
    "Gate B12 Boarding", "Level 5 Meeting Room", "Floor 3 Kitchen", "Hall 4 Stand 12", "Aisle 7 Shelf 3",
    "2 Large Pizzas and 3 Cokes", "12 Red Roses Bouquet", "500 Sheets A4 Paper", "Tuesday 14 May 2024",
    "Q3 2024 Revenue Report", "Top 10 Tips For Remote Work", "7 Habits Of Effective Teams", "7-Eleven Store Opening Hours",
    "Studio 5 Fitness Class", "Channel 4 News", "Station 19 Season 6", "Highway 401 closed near exit 12",
    "Building 7 Cafeteria Menu", "Warehouse 3 Inventory", "Platform 3 Departures", "Bay 12 Loading Dock",
    "Zone 2 Tickets", "Box 12 of 40 shipped", "Lot 42 Auction Results", "Unit 5 Exam Review", "Symphony No. 9 in D Minor",
    "Flat 5 Bakery Menu", "Harbour Street Kitchen, open 7 days", "Park Lane Hotel, 120 Rooms",
    "King Street Capital raised 50 million", "Main St. Burgers 2 for 1", "Ocean Drive Magazine Issue 41",
    "Baker Street Station Exit 2", "Route 9 Bus Timetable", "Line 4 Metro Delays", "Terminal 3 Parking",
    "Chapter 11 Bankruptcy", "Form 1040 Instructions", "Article 17 Copyright", "Ward 6 Visiting Hours", "Rack 14 Server 2",
    "3 Boxes Of Nails", "## Shipping Options", "Delivery Addresses", "Store Locations 2024", "Fabrik 21 GmbH",
    "Studio 33 Architects", "Casa 9 Restaurante", '{"product": "Galaxy S24 Ultra", "qty": 2}',
    "ts=2026-03-04T10:12:00Z svc=build version=2.14.1 stage=deploy", "Order 5512, 3 items, 42.90 EUR",
    "Invoice 2024-0042, due 30 days", "Seats 14A, 14B, Row 14", "Pallet 7, Dock 3, Bay 12", "Windows 10 Pro, 64-bit",
    "Ryzen 7 7800X3D, 8 cores", "Sprint 42, Team Falcon", "Season 3, Episode 7", "Chapter 4, Verse 12",
    "Size 42, Colour Navy", "Batch 2231, Line 3", "Week 14, Monday", "Lane 2 closed after km 14",
    "Via Ferrata Grade 3", "Rue 21 clothing store", "Calle 13 en concierto", "Avenue 5 on HBO",
]


def structures(split, n):
    r = split.rnd
    rows = []
    for k in range(n * 5):
        f = split.fake()
        word = split.pick([f.last_name(), f.first_name(), f.city()]).split(" ")[-1]
        # Faker's street a third of the time; one without a house number is found only after a cue,
        # which is not this set's subject.
        addr = f.street_address().replace("\n", ", ").strip()
        if k % 3 == 0 and any(c.isdigit() for c in addr):
            pass
        elif k % 3 == 1 and r.random() < 0.4:
            addr = split.pick(STRUCT_SHAPED)(r, word)
        else:
            form, types = split.pick(STRUCT_FORMS)
            num = split.pick([str(r.randrange(1, 300)), f"{r.randrange(1, 200)}{split.pick('abAB')}",
                              f"{r.randrange(1, 99)}-{r.randrange(1, 40)}", f"{r.randrange(1, 120)}/{r.randrange(1, 30)}"])
            addr = form.format(w=word, t=split.pick(types), n=num)
            if form == "{w}{t} {n}":
                addr = addr[0].upper() + addr[1:]
        if r.random() < 0.2 and addr[:1].isascii():
            unit = split.pick(STRUCT_UNITS)
            addr = f"{unit}, {addr}" if r.random() < 0.3 else f"{addr}, {unit}"
        rows.append(addr)
    for addr in rows[:n * 4]:
        f = split.fake()
        t, cell = split.pick(STRUCT_TEMPLATES)
        values = {"address": addr.replace(",", "") if cell else addr, "x": f.postcode(), "ctx": f.city(),
                  "ctx_2": f.company(), "ctx_3": split.pick(STRUCT_LANDMARKS), "ctx_4": str(r.randrange(1000, 99999))}
        t = t.replace("{n}", "{ctx_4}")
        if "{person}" in t:
            values["person"] = f"{f.first_name()} {f.last_name()}"
        split.add(t, **{k: v for k, v in values.items() if "{" + k + "}" in t})
    for k in range(n * 4, n * 5, 2):
        split.add(split.pick(STRUCT_LISTS), address_1=rows[k], address_2=rows[k + 1])
    for t in STRUCT_NEGATIVES:
        split.neg(t)


# A ninth set, dev only, for `phone` precision (held-out numbers that travel with other data were
# taken for phones): texts of agents' traces full of numbers that are no phone number, in many
# countries' styles (order, invoice, tracking, booking, ticket and case numbers; customer and
# account ids; dates, times, timestamps and durations; amounts, quantities and measurements;
# coordinates; post codes beside house numbers; ISBN, EAN and GTIN; serial and part numbers; IMEI;
# versions and builds; log lines; CSV rows; sort codes and bank accounts; statistics; flights,
# trains, rooms and seats), and the same texts with a real phone number beside those numbers, in
# many national formats, so recall is measured there too. Own seed and templates; no Faker.
def _digits(r, n, lead="123456789"):
    return r.choice(lead) + "".join(r.choice("0123456789") for _ in range(n - 1))


def _date(r):
    y, m, d = r.randrange(2019, 2028), r.randrange(1, 13), r.randrange(1, 29)
    return r.choice([f"{y}-{m:02d}-{d:02d}", f"{d:02d}.{m:02d}.{y}", f"{d:02d}/{m:02d}/{y}", f"{m:02d}/{d:02d}/{y}",
                     f"{y}/{m:02d}/{d:02d}", f"{d}.{m}.{y}", f"{y}.{m:02d}.{d:02d}", f"{d:02d}-{m:02d}-{y}",
                     f"{y}{m:02d}{d:02d}", f"{d:02d}.{m:02d}.{y % 100:02d}", f"{y}年{m}月{d}日"])


def _time(r):
    h, m, s = r.randrange(0, 24), r.randrange(0, 60), r.randrange(0, 60)
    return r.choice([f"{h:02d}:{m:02d}", f"{h:02d}:{m:02d}:{s:02d}", f"{h}h{m:02d}", f"{h:02d}.{m:02d}",
                     f"{(h % 12) or 12}:{m:02d} {'AM' if h < 12 else 'PM'}", f"{h:02d}:{m:02d}:{s:02d}.{r.randrange(1000):03d}"])


def _amount(r):
    whole = r.randrange(1000, 99_999_999)
    cents = r.randrange(100)
    us = f"{whole:,}"
    return r.choice([f"{us}.{cents:02d} USD", f"${us}.{cents:02d}", f"{us.replace(',', '.')},{cents:02d} €",
                     f"{us.replace(',', ' ')},{cents:02d} €", f"£{us}.{cents:02d}", f"{us.replace(',', ' ')} Ft",
                     f"CHF {us.replace(',', chr(39))}.{cents:02d}", f"{us.replace(',', ' ')} kr",
                     f"R$ {us.replace(',', '.')},{cents:02d}", f"¥{us}", f"{us.replace(',', ' ')} ₽",
                     f"{us.replace(',', '.')} VND", f"PLN {us.replace(',', ' ')},{cents:02d}",
                     f"₹{_lakh(whole)}.{cents:02d}", f"{whole}.{cents:02d} EUR", f"{us.replace(',', '.')} COP"])


def _lakh(n):
    s = str(n)
    head, tail = s[:-3], s[-3:]
    groups = []
    while len(head) > 2:
        groups.insert(0, head[-2:])
        head = head[:-2]
    return ",".join(([head] if head else []) + groups + [tail])


def _isbn13(r):
    body = "978" + _digits(r, 9, "0123456789")
    check = (10 - sum((3 if i % 2 else 1) * int(c) for i, c in enumerate(body)) % 10) % 10
    return body + str(check)


def _luhn15(r, prefix):
    body = prefix + "".join(r.choice("0123456789") for _ in range(14 - len(prefix)))
    for check in "0123456789":
        ds = [int(c) for c in body + check]
        total = sum(d if i % 2 == 0 else (d * 2 - 9 if d * 2 > 9 else d * 2) for i, d in enumerate(reversed(ds)))
        if total % 10 == 0:
            return body + check


# Each shape writes one text of numbers that are no phone number.
NUMBER_SHAPES = {
    "order": [
        lambda r: f"Order {_digits(r, 3)}-{_digits(r, 7)}-{_digits(r, 7)} has shipped.",
        lambda r: f"Invoice INV-{r.randrange(2020, 2027)}-{_digits(r, 6, '0123456789')} is due on {_date(r)}.",
        lambda r: f"Rechnung Nr. {r.randrange(2020, 2027)}/{_digits(r, 5)} vom {_date(r)}",
        lambda r: f"Facture n° {_digits(r, 4)} {_digits(r, 4)} {_digits(r, 2)} – échéance {_date(r)}",
        lambda r: f"Booking number: {_digits(r, 4)} {_digits(r, 3)} {_digits(r, 3)}",
        lambda r: f"Confirmation number {_digits(r, 4)}.{_digits(r, 3)}.{_digits(r, 3)} (PIN {_digits(r, 4)})",
        lambda r: f"Your reservation {_digits(r, 10)} at the hotel is confirmed for {_date(r)}.",
        lambda r: f"Tracking: {_digits(r, 4)} {_digits(r, 4)} {_digits(r, 4)} {_digits(r, 4)} {_digits(r, 4)} {_digits(r, 2)}",
        lambda r: f"Sendungsnummer {_digits(r, 5)} {_digits(r, 5)} {_digits(r, 2)}, Zustellung am {_date(r)}",
        lambda r: f"Numer przesyłki: {_digits(r, 3)} {_digits(r, 3)} {_digits(r, 3)} {_digits(r, 3)}",
        lambda r: f"Ticket #{_digits(r, 6)} updated: status pending, {r.randrange(2, 40)} comments",
        lambda r: f"Case {_digits(r, 8, '0')} escalated (SLA {r.randrange(4, 72)} h)",
        lambda r: f"Pedido nº {_digits(r, 3)}.{_digits(r, 3)}.{_digits(r, 3)} enviado em {_date(r)}",
        lambda r: f"Ordine n. {_digits(r, 2)} {_digits(r, 4)} {_digits(r, 4)} in consegna",
        lambda r: f"Bestelling {_digits(r, 3)}-{_digits(r, 3)}-{_digits(r, 4)} is onderweg",
        lambda r: f"Заказ № {_digits(r, 3)}-{_digits(r, 3)}-{_digits(r, 3)} передан в доставку {_date(r)}",
        lambda r: f"注文番号 {_digits(r, 3)}-{_digits(r, 4)}-{_digits(r, 4)} を発送しました",
        lambda r: f"PO {_digits(r, 10, '4')} / delivery note {_digits(r, 8, '8')}",
        lambda r: f"RMA {_digits(r, 3)} {_digits(r, 3)} {_digits(r, 4)} approved, {r.randrange(1, 9)} items",
        lambda r: f"Claim reference {_digits(r, 2)} {_digits(r, 3)} {_digits(r, 3)} {_digits(r, 2)}",
    ],
    "customer": [
        lambda r: f"Customer ID {_digits(r, 8)} merged into {_digits(r, 8)}",
        lambda r: f"Kundennummer {_digits(r, 4)} {_digits(r, 4)}, Vertragsnummer {_digits(r, 3)} {_digits(r, 3)} {_digits(r, 3)}",
        lambda r: f"account_id={_digits(r, 10)} org_id={_digits(r, 7)} plan=pro",
        lambda r: f"Numéro client : {_digits(r, 2)} {_digits(r, 3)} {_digits(r, 3)} {_digits(r, 2)}",
        lambda r: f"Member no. {_digits(r, 3)} {_digits(r, 3)} {_digits(r, 3)} since {r.randrange(1995, 2026)}",
        lambda r: f"Frequent flyer {_digits(r, 3)} {_digits(r, 3)} {_digits(r, 3)}, tier Gold",
        lambda r: f"Policy number {_digits(r, 3)}-{_digits(r, 3)}-{_digits(r, 4)}, premium {_amount(r)}",
        lambda r: f"Meter {_digits(r, 2)} {_digits(r, 3)} {_digits(r, 3)}: reading {r.randrange(1000, 99999)} kWh",
        lambda r: f"Nº de cliente {_digits(r, 3)} {_digits(r, 3)} {_digits(r, 3)}",
        lambda r: f"user {_digits(r, 9)} opened session {_digits(r, 12)}",
        lambda r: f"Licence key group {_digits(r, 4)}-{_digits(r, 4)}-{_digits(r, 4)}, seats {r.randrange(5, 500)}",
    ],
    "date": [
        lambda r: f"Stay from {_date(r)} to {_date(r)}, check-in {_time(r)}",
        lambda r: f"{_date(r)} {_time(r)} – {_date(r)} {_time(r)}",
        lambda r: f"Opening hours: Mon–Fri {r.randrange(7, 10)}:00–{r.randrange(17, 21)}:00, Sat {r.randrange(8, 11)}:00–{r.randrange(12, 16)}:00",
        lambda r: f"Termin am {r.randrange(1, 29)}. {r.randrange(1, 13)}. {r.randrange(2025, 2028)} um {r.randrange(8, 18)}.{r.choice(['00', '15', '30'])} Uhr",
        lambda r: f"Le {r.randrange(1, 29):02d} {r.randrange(1, 13):02d} {r.randrange(2025, 2028)} à {r.randrange(8, 20)}h{r.choice(['00', '30'])}",
        lambda r: f"Period {r.randrange(1, 29):02d}.{r.randrange(1, 13):02d}.{r.randrange(2025, 2028)}-{r.randrange(1, 29):02d}.{r.randrange(1, 13):02d}.{r.randrange(2025, 2028)}",
        lambda r: f"Valid {r.randrange(2025, 2028)}-{r.randrange(1, 13):02d}-{r.randrange(1, 29):02d}/{r.randrange(2025, 2028)}-{r.randrange(1, 13):02d}-{r.randrange(1, 29):02d}",
        lambda r: f"Fecha: {r.randrange(1, 29):02d} {r.randrange(1, 13):02d} {r.randrange(2025, 2028)}, hora {_time(r)}",
        lambda r: f"Q{r.randrange(1, 5)} {r.randrange(2020, 2027)}: weeks {r.randrange(1, 26)}-{r.randrange(27, 52)}",
        lambda r: f"FY{r.randrange(2020, 2027)}/{r.randrange(21, 28)} close on {_date(r)}",
        lambda r: f"Schedule: {r.randrange(6, 10)}:{r.choice(['00', '30'])} {r.randrange(10, 13)}:{r.choice(['00', '30'])} {r.randrange(14, 17)}:{r.choice(['00', '30'])} {r.randrange(17, 21)}:{r.choice(['00', '30'])}",
        lambda r: f"cron: {r.randrange(0, 60)} {r.randrange(0, 24)} {r.randrange(1, 29)} {r.randrange(1, 13)} *",
        lambda r: f"date range {r.randrange(2025, 2028)}{r.randrange(1, 13):02d}{r.randrange(1, 29):02d}-{r.randrange(2025, 2028)}{r.randrange(1, 13):02d}{r.randrange(1, 29):02d}",
    ],
    "timestamp": [
        lambda r: f"created_at={r.randrange(1_600_000_000, 1_800_000_000)} updated_at={r.randrange(1_600_000_000_000, 1_800_000_000_000)}",
        lambda r: f"{r.randrange(2025, 2028)}-{r.randrange(1, 13):02d}-{r.randrange(1, 29):02d}T{r.randrange(24):02d}:{r.randrange(60):02d}:{r.randrange(60):02d}.{r.randrange(10**6):06d}+0{r.randrange(10)}:00 request done",
        lambda r: f"[{r.randrange(2025, 2028)}-{r.randrange(1, 13):02d}-{r.randrange(1, 29):02d} {r.randrange(24):02d}:{r.randrange(60):02d}:{r.randrange(60):02d},{r.randrange(1000):03d}] INFO worker ready",
        lambda r: f'{{"ts": {r.randrange(1_600_000_000, 1_800_000_000)}.{r.randrange(10**6):06d}, "seq": {r.randrange(10**7)}}}',
        lambda r: f"Last-Modified epoch {r.randrange(1_600_000_000, 1_800_000_000)} ({_date(r)} {_time(r)} UTC)",
    ],
    "duration": [
        lambda r: f"Elapsed {r.randrange(100)}:{r.randrange(60):02d}:{r.randrange(60):02d}.{r.randrange(1000):03d}",
        lambda r: f"Trip time {r.randrange(1, 20)} h {r.randrange(60)} min, {r.randrange(10, 2000)} km",
        lambda r: f"uptime {r.randrange(1, 900)} days, {r.randrange(24)}:{r.randrange(60):02d}, load average: {r.random() * 4:.2f}, {r.random() * 4:.2f}, {r.random() * 4:.2f}",
        lambda r: f"Runs took {r.randrange(100, 999)} {r.randrange(100, 999)} {r.randrange(100, 999)} {r.randrange(100, 999)} ms",
        lambda r: f"Lap times: 1:{r.randrange(10, 59)}.{r.randrange(100, 999)} 1:{r.randrange(10, 59)}.{r.randrange(100, 999)} 1:{r.randrange(10, 59)}.{r.randrange(100, 999)}",
    ],
    "amount": [
        lambda r: f"Total {_amount(r)} incl. VAT {_amount(r)}",
        lambda r: f"Balance: {_amount(r)}; pending {_amount(r)}",
        lambda r: f"Revenue {r.randrange(1, 999)} {r.randrange(100, 999)} {r.randrange(100, 999)} EUR (+{r.randrange(1, 40)}.{r.randrange(10)} %)",
        lambda r: f"Preis: {r.randrange(1, 99)}.{r.randrange(100, 999)}.{r.randrange(100, 999)},- €",
        lambda r: f"Salary band {r.randrange(40, 90)} 000 – {r.randrange(90, 150)} 000 SEK",
        lambda r: f"Budget 1 {r.randrange(100, 999)} {r.randrange(100, 999)} 000 Ft",
        lambda r: f"Amount: {r.randrange(10, 99)} {r.randrange(100, 999)} {r.randrange(100, 999)},{r.randrange(10, 99)} zł",
        lambda r: f"₹ {_lakh(r.randrange(100000, 999999999))}/- paid via NEFT",
        lambda r: f"price_cents={r.randrange(10**6, 10**9)} currency=JPY",
    ],
    "quantity": [
        lambda r: f"Stock: {r.randrange(1, 99)} {r.randrange(100, 999)} {r.randrange(100, 999)} units in {r.randrange(2, 40)} warehouses",
        lambda r: f"Pallet {r.randrange(1000, 1300)} x {r.randrange(800, 1000)} x {r.randrange(1000, 1800)} mm, {r.randrange(200, 999)} kg",
        lambda r: f"Distance {r.randrange(1, 99)} {r.randrange(100, 999)} km, fuel {r.randrange(100, 9999)} l",
        lambda r: f"Population {r.randrange(1, 40)} {r.randrange(100, 999)} {r.randrange(100, 999)} (census {r.randrange(2000, 2025)})",
        lambda r: f"Dimensions: {r.randrange(10, 300)} × {r.randrange(10, 300)} × {r.randrange(10, 300)} cm, {r.randrange(1, 99)}.{r.randrange(10)} kg",
        lambda r: f"Screen {r.randrange(1280, 3841)} x {r.randrange(720, 2161)} @ {r.choice([60, 120, 144])} Hz",
        lambda r: f"Disk {r.randrange(100, 999)} {r.randrange(100, 999)} {r.randrange(100, 999)} bytes free of {r.randrange(1, 9)} {r.randrange(100, 999)} {r.randrange(100, 999)} {r.randrange(100, 999)}",
    ],
    "coordinates": [
        lambda r: f"Location {r.uniform(-89, 89):.6f}, {r.uniform(-179, 179):.6f}",
        lambda r: f"lat={r.uniform(-89, 89):.5f} lon={r.uniform(-179, 179):.5f} alt={r.randrange(0, 3000)}m",
        lambda r: f"{r.randrange(0, 90)}°{r.randrange(60)}'{r.randrange(60)}.{r.randrange(10)}\"N {r.randrange(0, 180)}°{r.randrange(60)}'{r.randrange(60)}.{r.randrange(10)}\"E",
        lambda r: f"GPS {r.uniform(-89, 89):.4f} {r.uniform(-179, 179):.4f} accuracy {r.randrange(3, 50)} m",
        lambda r: f"UTM 33U {r.randrange(300000, 700000)} {r.randrange(5000000, 6000000)}",
        lambda r: f"Grid ref {r.randrange(10000, 99999)} {r.randrange(10000, 99999)}",
    ],
    # (text, street): a street line is an address, labelled as the other sets label one.
    "postcode": [
        lambda r: ("{address} %d Berlin" % r.randrange(10000, 99999), f"Hauptstraße {r.randrange(1, 200)}"),
        lambda r: ("{address} %d %d Stockholm" % (r.randrange(100, 999), r.randrange(10, 99)), f"Kungsgatan {r.randrange(1, 90)}"),
        lambda r: ("{address}, %d AB Amsterdam" % r.randrange(1000, 9999), f"Damrak {r.randrange(1, 300)}"),
        lambda r: ("{address} %d-%d Kraków" % (r.randrange(10, 99), r.randrange(100, 999)), f"ul. Lipowa {r.randrange(1, 90)}/{r.randrange(1, 40)}"),
        lambda r: ("{address}, %d-%d São Paulo" % (r.randrange(10000, 99999), r.randrange(100, 999)), f"Rua Augusta {r.randrange(100, 3000)}"),
        lambda r: ("{address}, Springfield, IL %d-%d" % (r.randrange(60000, 62999), r.randrange(1000, 9999)), f"{r.randrange(100, 9999)} Main St"),
        lambda r: ("{address}, %d Torino TO" % r.randrange(10000, 99999), f"Via Roma {r.randrange(1, 200)}"),
        lambda r: ("{address}, %d Moskva" % r.randrange(100000, 199999), f"ulitsa Sadovaya {r.randrange(1, 99)}"),
        lambda r: f"〒{r.randrange(100, 999)}-{r.randrange(1000, 9999)} Tokyo, {r.randrange(1, 40)} floors",
        lambda r: ("{address}, PIN %d" % r.randrange(110000, 859999), f"Plot {r.randrange(1, 999)}, Sector {r.randrange(1, 60)}"),
        lambda r: ("{address} %d Budapest" % r.randrange(1000, 9999), f"Andrássy út {r.randrange(1, 120)}."),
        lambda r: ("{address} %d %d Praha" % (r.randrange(100, 799), r.randrange(10, 99)), f"Václavské náměstí {r.randrange(1, 90)}"),
    ],
    "code": [
        lambda r: (lambda i: f"ISBN {i[:3]}-{i[3]}-{i[4:6]}-{i[6:12]}-{i[12]}")(_isbn13(r)),
        lambda r: f"ISBN-13: {_isbn13(r)}",
        lambda r: (lambda i: f"ISBN {i[:3]} {i[3]} {i[4:7]} {i[7:12]} {i[12]}")(_isbn13(r)),
        lambda r: f"EAN {_digits(r, 13, '4')} · {r.randrange(1, 99)} pcs",
        lambda r: f"GTIN {_digits(r, 14, '0')}, batch {_digits(r, 6)}",
        lambda r: f"UPC {_digits(r, 1, '0')} {_digits(r, 5)} {_digits(r, 5)} {_digits(r, 1)}",
        lambda r: f"S/N {_digits(r, 4)}-{_digits(r, 4)}-{_digits(r, 4)}",
        lambda r: f"Serial number: {_digits(r, 3)} {_digits(r, 3)} {_digits(r, 3)} {_digits(r, 3)}",
        lambda r: f"P/N {_digits(r, 2)}-{_digits(r, 4)}-{_digits(r, 2)} rev {r.choice('ABCD')}",
        lambda r: f"Part no. {_digits(r, 3)}.{_digits(r, 3)}.{_digits(r, 3)}",
        lambda r: f"Artikelnummer {_digits(r, 3)} {_digits(r, 3)} {_digits(r, 2)}",
        lambda r: f"IMEI {_luhn15(r, '35')}",
        lambda r: (lambda i: f"IMEI: {i[:2]} {i[2:8]} {i[8:14]} {i[14]}")(_luhn15(r, '86')),
        lambda r: (lambda i: f"imei1={i} imei2={_luhn15(r, i[:8])}")(_luhn15(r, '35')),
        lambda r: f"VIN {''.join(r.choice('ABCDEFGHJKLMNPRSTUVWXYZ0123456789') for _ in range(17))}, odometer {r.randrange(1000, 300000)} km",
        lambda r: f"Lot {_digits(r, 6)}, exp. {r.randrange(1, 13):02d}/{r.randrange(2026, 2030)}",
    ],
    "version": [
        lambda r: f"Windows {r.choice([10, 11])} build {r.randrange(19041, 26100)}.{r.randrange(1000, 4999)}",
        lambda r: f"Chrome/{r.randrange(100, 131)}.0.{r.randrange(4000, 6999)}.{r.randrange(10, 200)} Safari/537.36",
        lambda r: f"version {r.randrange(1, 20)}.{r.randrange(0, 40)}.{r.randrange(0, 9999)} (build {_digits(r, 8)})",
        lambda r: f"kernel {r.randrange(4, 7)}.{r.randrange(0, 20)}.{r.randrange(0, 200)}-{r.randrange(10, 200)}-generic",
        lambda r: f"Build #{r.randrange(2025, 2027)}{r.randrange(1, 13):02d}{r.randrange(1, 29):02d}.{r.randrange(1, 9)} passed in {r.randrange(2, 59)} min",
        lambda r: f"Android {r.randrange(10, 16)} (API {r.randrange(29, 36)}), build {r.choice(['TP1A', 'UQ1A', 'AP2A'])}.{r.randrange(220000, 250000)}.{r.randrange(1, 99):03d}",
        lambda r: f"firmware {r.randrange(1, 9)}.{r.randrange(0, 99)}.{r.randrange(0, 999)}.{r.randrange(0, 9999)}",
        lambda r: f"pip install numpy=={r.randrange(1, 3)}.{r.randrange(0, 30)}.{r.randrange(0, 9)} pandas=={r.randrange(1, 3)}.{r.randrange(0, 9)}.{r.randrange(0, 9)}",
    ],
    "log": [
        lambda r: f"pid={r.randrange(100, 99999)} port={r.randrange(1024, 65535)} latency={r.randrange(1, 999)}ms bytes={r.randrange(1000, 9999999)}",
        lambda r: f"[{r.randrange(100, 99999)}] listening on 0.0.0.0:{r.randrange(1024, 65535)}",
        lambda r: f"GET /api/v1/orders/{_digits(r, 7)} 200 {r.randrange(1, 999)}.{r.randrange(100, 999)} ms - {r.randrange(100, 99999)}",
        lambda r: f"{r.randrange(10, 99)}:{r.randrange(10, 59)}:{r.randrange(10, 59)}.{r.randrange(100, 999)} W {r.randrange(1000, 9999)} {r.randrange(1000, 9999)} ActivityManager: slow operation",
        lambda r: f"thread {r.randrange(100, 999)} {r.randrange(100, 999)} {r.randrange(1000, 9999)} blocked for {r.randrange(100, 9999)} ms",
        lambda r: f"p50={r.randrange(1, 99)}ms p95={r.randrange(100, 999)}ms p99={r.randrange(1000, 9999)}ms n={r.randrange(1000, 999999)}",
        lambda r: f"tcp 0 0 127.0.0.1:{r.randrange(1024, 65535)} 0.0.0.0:* LISTEN {r.randrange(100, 9999)}/java",
        lambda r: f"Killed process {r.randrange(1000, 99999)} (python3) total-vm:{r.randrange(10**6, 10**7)}kB, anon-rss:{r.randrange(10**5, 10**6)}kB",
        lambda r: f"trace_id={_digits(r, 19)} span_id={_digits(r, 16)} status=OK",
    ],
    "csv": [
        lambda r: ",".join(str(r.randrange(0, 1000)) for _ in range(r.randrange(5, 9))),
        lambda r: ";".join(f"{r.randrange(0, 999)},{r.randrange(0, 99):02d}" for _ in range(r.randrange(3, 6))),
        lambda r: "\t".join(str(r.randrange(100, 99999)) for _ in range(r.randrange(4, 8))),
        lambda r: f"{r.randrange(2025, 2028)},{r.randrange(1, 13)},{r.randrange(1, 29)},{r.randrange(100, 999)},{r.randrange(100, 999)},{r.randrange(1000, 9999)}",
        lambda r: f"id sku qty price\n{r.randrange(1, 999)} {_digits(r, 6)} {r.randrange(1, 99)} {r.randrange(1, 999)}.{r.randrange(10, 99)}\n{r.randrange(1, 999)} {_digits(r, 6)} {r.randrange(1, 99)} {r.randrange(1, 999)}.{r.randrange(10, 99)}",
        lambda r: f"| {r.randrange(10, 99)} | {r.randrange(100, 999)} | {r.randrange(100, 999)} | {r.randrange(1000, 9999)} |",
        lambda r: " ".join(f"{r.randrange(0, 255):02x}" for _ in range(12)) + f"  {r.randrange(10**7, 10**8)}",
    ],
    "bank": [
        lambda r: f"Sort code {r.randrange(10, 99)}-{r.randrange(10, 99)}-{r.randrange(10, 99)}, account {_digits(r, 8)}",
        lambda r: f"Bank: sort code {r.randrange(10, 99)} {r.randrange(10, 99)} {r.randrange(10, 99)} acc. no. {_digits(r, 4)} {_digits(r, 4)}",
        lambda r: f"BSB {r.randrange(100, 999)}-{r.randrange(100, 999)} Account {_digits(r, 4)} {_digits(r, 5)}",
        lambda r: f"routing {_digits(r, 9, '0')} account {_digits(r, 10)}",
        lambda r: f"BLZ {r.randrange(100, 999)} {r.randrange(100, 999)} {r.randrange(10, 99)}, Konto {_digits(r, 10)}",
        lambda r: f"Kontonummer {_digits(r, 4)} {_digits(r, 2)} {_digits(r, 5)}, Clearingnummer {_digits(r, 4)}",
        lambda r: f"Transit {r.randrange(10000, 99999)}-{r.randrange(100, 999)}, account {_digits(r, 7)}",
        lambda r: f"A/c No. {_digits(r, 14)} IFSC SBIN0{_digits(r, 6)}",
        lambda r: f"Reg.nr. {_digits(r, 4)} Kontonr. {_digits(r, 10)}",
        lambda r: f"Número de cuenta {_digits(r, 4)} {_digits(r, 4)} {_digits(r, 2)} {_digits(r, 10)}",
        lambda r: f"CLABE {_digits(r, 3, '0')} {_digits(r, 3)} {_digits(r, 11)} {_digits(r, 1)}",
    ],
    "stats": [
        lambda r: f"{r.randrange(10, 99)}.{r.randrange(10)}% ({r.randrange(100, 999)} {r.randrange(100, 999)} of {r.randrange(1, 9)} {r.randrange(100, 999)} {r.randrange(100, 999)})",
        lambda r: f"mean {r.randrange(10, 999)}.{r.randrange(100, 999)} ± {r.randrange(1, 99)}.{r.randrange(100, 999)}, n = {r.randrange(100, 9999)}, p = 0.{r.randrange(1, 999):03d}",
        lambda r: f"95% CI {r.randrange(1, 9)}.{r.randrange(10, 99)}–{r.randrange(10, 99)}.{r.randrange(10, 99)}, r = 0.{r.randrange(10, 99)}",
        lambda r: f"Score {r.randrange(1, 9)}-{r.randrange(1, 9)} ({r.randrange(1, 9)}-{r.randrange(1, 9)}, {r.randrange(1, 9)}-{r.randrange(1, 9)}), attendance {r.randrange(10, 99)} {r.randrange(100, 999)}",
        lambda r: f"Votes: {r.randrange(100, 999)} {r.randrange(100, 999)} yes / {r.randrange(100, 999)} {r.randrange(100, 999)} no",
        lambda r: f"accuracy 0.{r.randrange(1000, 9999)} precision 0.{r.randrange(1000, 9999)} recall 0.{r.randrange(1000, 9999)} f1 0.{r.randrange(1000, 9999)}",
    ],
    "travel": [
        lambda r: f"Flight {r.choice(['LH', 'BA', 'AF', 'UA', 'QR', 'TK', 'NH', 'LA'])} {r.randrange(100, 9999)} departs {_time(r)}, gate {r.choice('ABCDE')}{r.randrange(1, 60)}",
        lambda r: f"{r.choice(['ICE', 'TGV', 'IC', 'EC', 'RJ', 'AVE'])} {r.randrange(100, 9999)} {r.choice(['Wagen', 'voiture', 'coach'])} {r.randrange(1, 14)} seat {r.randrange(11, 99)}",
        lambda r: f"Train {r.randrange(10000, 22999)} {r.choice(['Rajdhani', 'Shatabdi', 'Duronto'])} Exp, PNR {_digits(r, 10)}, coach B{r.randrange(1, 9)} berth {r.randrange(1, 72)}",
        lambda r: f"Room {r.randrange(100, 2999)}, floor {r.randrange(1, 30)}, key card {_digits(r, 8)}",
        lambda r: f"Seat {r.randrange(1, 60)}{r.choice('ABCDEFK')}, row {r.randrange(1, 60)}, e-ticket {_digits(r, 3)}-{_digits(r, 10)}",
        lambda r: f"Zimmer {r.randrange(100, 599)}, {r.randrange(1, 6)}. Stock, Buchungsnr. {_digits(r, 3)} {_digits(r, 3)} {_digits(r, 3)}",
        lambda r: f"Bus {r.randrange(1, 999)} stop {r.randrange(1000, 99999)} every {r.randrange(5, 30)} min",
        lambda r: f"Platform {r.randrange(1, 20)}, {r.randrange(10, 23)}:{r.randrange(10, 59)} to {r.randrange(10, 23)}:{r.randrange(10, 59)}, {r.randrange(100, 999)} km",
    ],
}
# A phone number in a national or international format, digits drawn fresh.
NUMBER_PHONES = [
    lambda r: f"({_digits(r, 3, '2345678')}) {_digits(r, 3, '2345678')}-{_digits(r, 4, '0123456789')}",
    lambda r: f"+1 {_digits(r, 3, '2345678')} {_digits(r, 3, '2345678')} {_digits(r, 4, '0123456789')}",
    lambda r: f"{_digits(r, 3, '2345678')}-{_digits(r, 3, '2345678')}-{_digits(r, 4, '0123456789')}",
    lambda r: f"020 {_digits(r, 4, '378')} {_digits(r, 4, '0123456789')}",
    lambda r: f"+44 7{_digits(r, 3, '0123456789')} {_digits(r, 6, '0123456789')}",
    lambda r: f"07{_digits(r, 3, '0123456789')} {_digits(r, 6, '0123456789')}",
    lambda r: f"030 {_digits(r, 8)}",
    lambda r: f"+49 (0){_digits(r, 2)} {_digits(r, 7)}",
    lambda r: f"0151 {_digits(r, 8)}",
    lambda r: f"089/{_digits(r, 8)}",
    lambda r: f"0{r.randrange(1, 8)} {_digits(r, 2)} {_digits(r, 2)} {_digits(r, 2)} {_digits(r, 2)}",
    lambda r: f"+33 {r.randrange(1, 8)} {_digits(r, 2)} {_digits(r, 2)} {_digits(r, 2)} {_digits(r, 2)}",
    lambda r: f"+34 {r.choice('679')}{_digits(r, 2, '0123456789')} {_digits(r, 3)} {_digits(r, 3)}",
    lambda r: f"+39 3{_digits(r, 2, '0123456789')} {_digits(r, 3)} {_digits(r, 4)}",
    lambda r: f"06 {_digits(r, 4)} {_digits(r, 4)}",
    lambda r: f"+31 6 {_digits(r, 8)}",
    lambda r: f"020 {_digits(r, 3)} {_digits(r, 4)}",
    lambda r: f"(11) 9{_digits(r, 4, '0123456789')}-{_digits(r, 4, '0123456789')}",
    lambda r: f"+55 21 9{_digits(r, 4, '0123456789')}-{_digits(r, 4, '0123456789')}",
    lambda r: f"+91 9{_digits(r, 4, '0123456789')} {_digits(r, 5, '0123456789')}",
    lambda r: f"03-{_digits(r, 4, '0123456789')}-{_digits(r, 4, '0123456789')}",
    lambda r: f"090-{_digits(r, 4, '0123456789')}-{_digits(r, 4, '0123456789')}",
    lambda r: f"+81 80-{_digits(r, 4, '0123456789')}-{_digits(r, 4, '0123456789')}",
    lambda r: f"(02) {_digits(r, 4)} {_digits(r, 4, '0123456789')}",
    lambda r: f"04{_digits(r, 2, '0123456789')} {_digits(r, 3, '0123456789')} {_digits(r, 3, '0123456789')}",
    lambda r: f"+61 4{_digits(r, 2, '0123456789')} {_digits(r, 3, '0123456789')} {_digits(r, 3, '0123456789')}",
    lambda r: f"+86 13{r.randrange(10)} {_digits(r, 4, '0123456789')} {_digits(r, 4, '0123456789')}",
    lambda r: f"+7 495 {_digits(r, 3)}-{_digits(r, 2, '0123456789')}-{_digits(r, 2, '0123456789')}",
    lambda r: f"8 (9{_digits(r, 2, '0123456789')}) {_digits(r, 3)}-{_digits(r, 2, '0123456789')}-{_digits(r, 2, '0123456789')}",
    lambda r: f"+48 {r.choice('5678')}{_digits(r, 2, '0123456789')} {_digits(r, 3)} {_digits(r, 3)}",
    lambda r: f"044 {_digits(r, 3)} {_digits(r, 2, '0123456789')} {_digits(r, 2, '0123456789')}",
    lambda r: f"+41 79 {_digits(r, 3)} {_digits(r, 2, '0123456789')} {_digits(r, 2, '0123456789')}",
    lambda r: f"08-{_digits(r, 3)} {_digits(r, 3, '0123456789')} {_digits(r, 2, '0123456789')}",
    lambda r: f"070-{_digits(r, 3)} {_digits(r, 2, '0123456789')} {_digits(r, 2, '0123456789')}",
    lambda r: f"+52 55 {_digits(r, 4)} {_digits(r, 4, '0123456789')}",
    lambda r: f"+27 82 {_digits(r, 3)} {_digits(r, 4, '0123456789')}",
    lambda r: f"010-{_digits(r, 4)}-{_digits(r, 4, '0123456789')}",
    lambda r: f"+82 2-{_digits(r, 3)}-{_digits(r, 4, '0123456789')}",
    lambda r: f"0803 {_digits(r, 3)} {_digits(r, 4, '0123456789')}",
    lambda r: f"+234 80{r.randrange(10)} {_digits(r, 3)} {_digits(r, 4, '0123456789')}",
    lambda r: f"0532 {_digits(r, 3)} {_digits(r, 2, '0123456789')} {_digits(r, 2, '0123456789')}",
    lambda r: f"+90 5{_digits(r, 2, '0123456789')} {_digits(r, 3)} {_digits(r, 2, '0123456789')} {_digits(r, 2, '0123456789')}",
    lambda r: f"+43 1 {_digits(r, 3)} {_digits(r, 4, '0123456789')}",
    lambda r: f"0470 {_digits(r, 2)} {_digits(r, 2, '0123456789')} {_digits(r, 2, '0123456789')}",
    lambda r: f"+32 2 {_digits(r, 3)} {_digits(r, 2, '0123456789')} {_digits(r, 2, '0123456789')}",
    lambda r: f"+358 40 {_digits(r, 3)} {_digits(r, 4, '0123456789')}",
    lambda r: f"+420 {_digits(r, 3)} {_digits(r, 3)} {_digits(r, 3)}",
    lambda r: f"+36 30 {_digits(r, 3)} {_digits(r, 4, '0123456789')}",
    lambda r: f"+353 87 {_digits(r, 3)} {_digits(r, 4, '0123456789')}",
    lambda r: f"+65 {r.choice('689')}{_digits(r, 3, '0123456789')} {_digits(r, 4, '0123456789')}",
    lambda r: f"+971 50 {_digits(r, 3)} {_digits(r, 4, '0123456789')}",
    lambda r: f"+62 812-{_digits(r, 4)}-{_digits(r, 4, '0123456789')}",
    lambda r: f"+63 917 {_digits(r, 3)} {_digits(r, 4, '0123456789')}",
]
# A phone beside the numbers of a text: `{x}` the look-alike text, `{phone}` the number.
NUMBER_WITH_PHONE = [
    "{x} Questions? Call us on {phone}.",
    "{x}\nContact: {phone}",
    "{x} | tel {phone}",
    "{x}; customer mobile {phone}",
    "{x} (Rückruf unter {phone})",
    "{x} — si besoin, appelez le {phone}",
    "{x}\nTeléfono de contacto: {phone}",
    "{x}. Driver's number: {phone}",
    "{x} / WhatsApp {phone}",
    "Phone {phone} · {x}",
    "{x}\nTel.: {phone}\nFax: {phone_2}",
    "{x}, caller {phone}",
    "{x} [callback {phone}]",
    "{x}\nPlease ring {phone} before delivery",
    "{x} — numer telefonu {phone}",
    "{x}\nTelefone: {phone}",
    "{x}, recapito telefonico {phone}",
    "{x}\nтел. {phone}",
    "{x}\n電話: {phone}",
    "SMS from {phone}: {x}",
    "{x} The hotel's phone is {phone}.",
    "{x}\nOr text {phone}",
]


def phone_lookalikes(split, n):
    """`n` texts per kind of number that hold no phone (a street line beside a post code is labelled
    an address), then a phone beside one text of each shape."""
    r = split.rnd

    def draw(shape):
        x = shape(r)
        return x if isinstance(x, tuple) else (x, None)

    for kind, shapes in NUMBER_SHAPES.items():
        for k in range(n):
            x, street = draw(shapes[k % len(shapes)])
            if street:
                split.add(x, address=street)
            else:
                split.neg(x)
    for kind, shapes in NUMBER_SHAPES.items():
        for shape in shapes:
            (x, street), t = draw(shape), split.pick(NUMBER_WITH_PHONE)
            # A sentence's full stop is not doubled by the template's.
            t = (t.replace("{x}.", "{x}") if x.endswith(".") else t).replace("{x}", x)
            values = {"address": street} if street else {}
            values["phone"] = split.pick(NUMBER_PHONES)(r)
            if "{phone_2}" in t:
                values["phone_2"] = split.pick(NUMBER_PHONES)(r)
            split.add(t, **values)



# A tenth set, dev only, for passports, dates of birth and names after cue words of other
# languages and scripts (unseen data showed them missed; the earlier sets' cues are mostly
# European): each language's own cue words, with and without a colon, as form lines, JSON keys
# and chat; dates as the locale writes them, passport numbers in the country's shape, names after
# honorifics and name cues, in signatures and before `will call you`. Look-alikes: other dates
# near other words (issue, expiry, order dates) and document numbers that are no passport (ID card,
# driving licence, visa application): the README counts a number as a passport only after a
# passport word. Own seed (9292) and templates; no Faker.
def _letters(r, n, pool="ABCDEFGHJKLMNPRSTUVWXYZ"):
    return "".join(r.choice(pool) for _ in range(n))


def _nums(r, n):
    return "".join(r.choice("0123456789") for _ in range(n))


# Passport shapes by country: letters and digits as each one prints them.
PASSPORT_SHAPES = {
    "jp": lambda r: _letters(r, 2) + _nums(r, 7), "cn": lambda r: "E" + _nums(r, 8),
    "tw": lambda r: _nums(r, 9), "kr": lambda r: "M" + _nums(r, 3) + _letters(r, 1) + _nums(r, 4),
    "ar": lambda r: _letters(r, 1) + _nums(r, 8), "fa": lambda r: _letters(r, 1) + _nums(r, 8),
    "he": lambda r: _nums(r, 8), "in": lambda r: _letters(r, 1) + _nums(r, 7),
    "lk": lambda r: "N" + _nums(r, 7), "np": lambda r: "PA" + _nums(r, 7), "bd": lambda r: "A" + _nums(r, 8),
    "th": lambda r: _letters(r, 2) + _nums(r, 7), "vn": lambda r: _letters(r, 1) + _nums(r, 7),
    "id": lambda r: _letters(r, 1) + _nums(r, 7), "tr": lambda r: "U" + _nums(r, 8),
    "ru": lambda r: _nums(r, 2) + " " + _nums(r, 7), "ua": lambda r: _letters(r, 2) + _nums(r, 6),
    "pl": lambda r: _letters(r, 2) + _nums(r, 7), "cz": lambda r: _nums(r, 8), "ro": lambda r: "0" + _nums(r, 7),
    "hu": lambda r: _letters(r, 2) + _nums(r, 7), "fi": lambda r: "XP" + _nums(r, 7),
    "gr": lambda r: _letters(r, 2) + _nums(r, 7), "ke": lambda r: "AK" + _nums(r, 7),
    "ng": lambda r: "A" + _nums(r, 8), "gh": lambda r: "G" + _nums(r, 7), "za": lambda r: "A" + _nums(r, 8),
    "pt": lambda r: _letters(r, 1) + _nums(r, 6), "it": lambda r: "Y" + _letters(r, 1) + _nums(r, 7),
    "nl": lambda r: _letters(r, 2) + _letters(r, 2, "BCDFGHJKLNPRSTVWXZ0123456789") + _nums(r, 5),
}

MONTH_NAMES = {
    "id": "Januari Februari Maret April Mei Juni Juli Agustus September Oktober November Desember",
    "tr": "Ocak Şubat Mart Nisan Mayıs Haziran Temmuz Ağustos Eylül Ekim Kasım Aralık",
    "ru": "января февраля марта апреля мая июня июля августа сентября октября ноября декабря",
    "uk": "січня лютого березня квітня травня червня липня серпня вересня жовтня листопада грудня",
    "pl": "stycznia lutego marca kwietnia maja czerwca lipca sierpnia września października listopada grudnia",
    "cs": "ledna února března dubna května června července srpna září října listopadu prosince",
    "ro": "ianuarie februarie martie aprilie mai iunie iulie august septembrie octombrie noiembrie decembrie",
    "hu": "január február március április május június július augusztus szeptember október november december",
    "fi": "tammikuuta helmikuuta maaliskuuta huhtikuuta toukokuuta kesäkuuta heinäkuuta elokuuta syyskuuta lokakuuta marraskuuta joulukuuta",
    "el": "Ιανουαρίου Φεβρουαρίου Μαρτίου Απριλίου Μαΐου Ιουνίου Ιουλίου Αυγούστου Σεπτεμβρίου Οκτωβρίου Νοεμβρίου Δεκεμβρίου",
    "sw": "Januari Februari Machi Aprili Mei Juni Julai Agosti Septemba Oktoba Novemba Desemba",
    "pt": "janeiro fevereiro março abril maio junho julho agosto setembro outubro novembro dezembro",
    "it": "gennaio febbraio marzo aprile maggio giugno luglio agosto settembre ottobre novembre dicembre",
    "nl": "januari februari maart april mei juni juli augustus september oktober november december",
    "th": "มกราคม กุมภาพันธ์ มีนาคม เมษายน พฤษภาคม มิถุนายน กรกฎาคม สิงหาคม กันยายน ตุลาคม พฤศจิกายน ธันวาคม",
}


def _month(lang, m):
    return MONTH_NAMES[lang].split()[m - 1]


def _ymd(lang):
    """A date formatter by language: `f(y, m, d)` as the locale writes a date."""
    dmy_dot = lambda y, m, d: f"{d:02d}.{m:02d}.{y}"
    dmy_slash = lambda y, m, d: f"{d:02d}/{m:02d}/{y}"
    words = lambda y, m, d: f"{d} {_month(lang, m)} {y}"
    table = {
        "ja": [lambda y, m, d: f"{y}年{m}月{d}日", lambda y, m, d: f"{y}/{m:02d}/{d:02d}"],
        "zh": [lambda y, m, d: f"{y}年{m}月{d}日", lambda y, m, d: f"{y}-{m:02d}-{d:02d}"],
        "ko": [lambda y, m, d: f"{y}년 {m}월 {d}일", lambda y, m, d: f"{y}.{m:02d}.{d:02d}"],
        "ar": [dmy_slash, lambda y, m, d: f"{y}-{m:02d}-{d:02d}"],
        # The Solar Hijri year, in Persian digits or Latin ones.
        "fa": [lambda y, m, d: f"{y - 621}/{m:02d}/{d:02d}".translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")),
               lambda y, m, d: f"{y - 621}/{m:02d}/{d:02d}"],
        "he": [dmy_dot, lambda y, m, d: f"{d}/{m}/{y}"],
        "in": [dmy_slash, lambda y, m, d: f"{d:02d}-{m:02d}-{y}"],
        "th": [lambda y, m, d: f"{d} {_month('th', m)} {y + 543}", lambda y, m, d: f"{d}/{m}/{y + 543}"],
        "vi": [dmy_slash, lambda y, m, d: f"ngày {d} tháng {m} năm {y}"],
        "cs": [lambda y, m, d: f"{d}. {m}. {y}", words],
        "hu": [lambda y, m, d: f"{y}. {m:02d}. {d:02d}.", lambda y, m, d: f"{y}. {_month('hu', m)} {d}."],
        "fi": [lambda y, m, d: f"{d}.{m}.{y}", words],
        "pt": [dmy_slash, lambda y, m, d: f"{d} de {_month('pt', m)} de {y}"],
        "ru": [dmy_dot, lambda y, m, d: f"{d} {_month('ru', m)} {y} г."],
        "nl": [lambda y, m, d: f"{d:02d}-{m:02d}-{y}", words],
    }
    if lang in table:
        return table[lang]
    if lang in MONTH_NAMES:
        return [dmy_dot, words]
    return [dmy_slash, dmy_dot]


# Per language: the date style, the passport shape, passport cues, date-of-birth cues, look-alike
# date cues (other dates), look-alike document cues (numbers that are no passport), name cues
# before a name, name cues after one, names, and a closing before a signature.
LANGS = [
    ("ja", "ja", "jp", ["旅券番号", "パスポート番号", "パスポートNo."], ["生年月日", "誕生日"], ["発行年月日", "有効期限", "注文日"],
     ["運転免許証番号", "在留カード番号"], [], ["様", "さん", "先生"], ["田中太郎", "山本花子", "佐藤健"], None),
    ("zh_cn", "zh", "cn", ["护照号码", "护照号"], ["出生日期", "生日"], ["签发日期", "有效期至", "下单日期"],
     ["身份证号码", "签证申请号"], ["尊敬的"], ["先生", "女士"], ["王伟", "李娜", "张建国"], None),
    ("zh_tw", "zh", "tw", ["護照號碼"], ["出生日期", "出生年月日"], ["發照日期", "有效期限"], ["駕照號碼"], ["親愛的"],
     ["先生", "小姐"], ["陳志明", "林美玲"], None),
    ("ko", "ko", "kr", ["여권번호", "여권 번호"], ["생년월일", "생일"], ["발급일", "만료일", "주문일"], ["운전면허번호", "비자 신청번호"],
     [], ["님", "씨", "고객님"], ["김민수", "박지영", "이서준"], None),
    ("ar", "ar", "ar", ["رقم جواز السفر", "جواز السفر رقم"], ["تاريخ الميلاد", "تاريخ الولادة"], ["تاريخ الإصدار", "تاريخ الانتهاء"],
     ["رقم الهوية", "رقم رخصة القيادة"], ["السيد", "السيدة", "الأستاذ"], [], ["محمد العلي", "فاطمة الزهراء", "خالد المنصوري"], None),
    ("fa", "fa", "fa", ["شماره گذرنامه", "شماره پاسپورت"], ["تاریخ تولد"], ["تاریخ صدور", "تاریخ انقضا"], ["کد ملی", "شماره گواهینامه"],
     ["آقای", "خانم", "جناب"], [], ["علی رضایی", "مریم احمدی"], None),
    ("he", "he", "he", ["מספר דרכון", "דרכון מס'"], ["תאריך לידה"], ["תאריך הנפקה", "תוקף עד"], ["מספר תעודת זהות", "מספר רישיון נהיגה"],
     ["מר", "גברת", "לכבוד"], [], ["יוסי כהן", "מיכל לוי"], None),
    ("hi", "in", "in", ["पासपोर्ट नंबर", "पासपोर्ट संख्या"], ["जन्म तिथि", "जन्मतिथि"], ["जारी करने की तिथि", "समाप्ति तिथि"],
     ["आधार नंबर", "ड्राइविंग लाइसेंस नंबर"], ["श्री", "श्रीमती", "सुश्री"], ["जी"], ["राजेश कुमार", "सुनीता शर्मा"], None),
    ("mr", "in", "in", ["पासपोर्ट क्रमांक"], ["जन्मतारीख", "जन्म दिनांक"], ["जारी दिनांक"], ["पॅन क्रमांक"], ["श्री", "श्रीमती"], [],
     ["सचिन पाटील", "अश्विनी जोशी"], None),
    ("gu", "in", "in", ["પાસપોર્ટ નંબર"], ["જન્મ તારીખ"], ["સમાપ્તિ તારીખ"], ["આધાર નંબર"], ["શ્રી", "શ્રીમતી"], [],
     ["હર્ષ પટેલ", "નિશા દેસાઈ"], None),
    ("bn", "in", "bd", ["পাসপোর্ট নম্বর"], ["জন্ম তারিখ", "জন্মতারিখ"], ["মেয়াদ শেষের তারিখ", "ইস্যুর তারিখ"], ["জাতীয় পরিচয়পত্র নম্বর"],
     ["জনাব", "শ্রী", "শ্রীমতী"], [], ["রহিম উদ্দিন", "সুমিতা দাস"], None),
    ("ta", "in", "in", ["கடவுச்சீட்டு எண்", "பாஸ்போர்ட் எண்"], ["பிறந்த தேதி"], ["காலாவதி தேதி"], ["ஓட்டுநர் உரிம எண்"],
     ["திரு", "திருமதி"], [], ["முருகன் சுப்பிரமணியம்", "லக்ஷ்மி ராஜன்"], None),
    ("si", "in", "lk", ["ගමන් බලපත්‍ර අංකය"], ["උපන් දිනය"], ["කල් ඉකුත් වන දිනය"], ["ජාතික හැඳුනුම්පත් අංකය"], [],
     ["මහතා", "මහත්මිය"], ["සුනිල් පෙරේරා", "කමලා සිල්වා"], None),
    ("ne", "in", "np", ["राहदानी नम्बर", "पासपोर्ट नम्बर"], ["जन्म मिति"], ["जारी मिति", "म्याद सकिने मिति"], ["नागरिकता नम्बर"],
     ["श्री", "श्रीमती"], ["ज्यू"], ["राम बहादुर", "सीता गुरुङ"], None),
    ("th", "th", "th", ["หมายเลขหนังสือเดินทาง", "เลขที่หนังสือเดินทาง"], ["วันเกิด", "เกิดวันที่"], ["วันหมดอายุ", "วันที่ออก"],
     ["เลขบัตรประชาชน", "เลขที่ใบขับขี่"], ["คุณ", "นาย", "นางสาว"], [], ["สมชาย ใจดี", "สุดา วงศ์ใหญ่"], None),
    ("vi", "vi", "vn", ["số hộ chiếu", "Số hộ chiếu"], ["ngày sinh", "sinh ngày"], ["ngày cấp", "ngày hết hạn"], ["số CCCD", "số giấy phép lái xe"],
     ["Kính gửi", "ông", "bà", "anh", "chị"], [], ["Nguyễn Văn An", "Trần Thị Mai"], "Trân trọng,"),
    ("id", "id", "id", ["nomor paspor", "No. Paspor"], ["tanggal lahir", "tgl. lahir", "lahir pada"], ["tanggal terbit", "berlaku hingga"],
     ["NIK", "nomor SIM"], ["Bapak", "Ibu", "nama saya"], [], ["Budi Santoso", "Siti Rahayu"], "Hormat saya,"),
    ("tr", "tr", "tr", ["pasaport numarası", "Pasaport No"], ["doğum tarihi", "Doğum Tarihi"], ["veriliş tarihi", "geçerlilik tarihi", "sipariş tarihi"],
     ["T.C. kimlik no", "ehliyet numarası"], ["Sayın", "adım", "Bay", "Bayan"], [], ["Ahmet Yılmaz", "Ayşe Demir"], "Saygılarımla,"),
    ("ru", "ru", "ru", ["номер паспорта", "паспорт №", "загранпаспорт"], ["дата рождения", "родился", "родилась"], ["дата выдачи", "срок действия до"],
     ["номер водительского удостоверения", "номер визовой анкеты"], ["господин", "госпожа", "меня зовут", "Уважаемый"], [],
     ["Иван Петров", "Ольга Смирнова"], "С уважением,"),
    ("uk", "uk", "ua", ["номер паспорта", "закордонний паспорт"], ["дата народження", "народився", "народилася"], ["дата видачі", "дійсний до"],
     ["номер посвідчення водія"], ["пан", "пані", "мене звати", "Шановний"], [], ["Олександр Шевченко", "Наталія Коваленко"], "З повагою,"),
    ("pl", "pl", "pl", ["numer paszportu", "nr paszportu"], ["data urodzenia", "urodzony", "urodzona"], ["data wydania", "data ważności", "data zamówienia"],
     ["numer dowodu osobistego", "numer prawa jazdy"], ["Pani", "Pan", "nazywam się"], [], ["Anna Kowalska", "Piotr Nowak"], "Pozdrawiam,"),
    ("cs", "cs", "cz", ["číslo pasu", "cestovní pas č."], ["datum narození", "narozen", "narozena"], ["datum vydání", "platnost do"],
     ["číslo občanského průkazu"], ["paní", "pan", "jmenuji se"], [], ["Jan Novák", "Petra Svobodová"], "S pozdravem,"),
    ("ro", "ro", "ro", ["numărul pașaportului", "pașaport nr."], ["data nașterii", "născut la", "născută la"], ["data eliberării", "data expirării"],
     ["seria buletinului"], ["domnul", "doamna", "mă numesc"], [], ["Ion Popescu", "Maria Ionescu"], "Cu stimă,"),
    ("hu", "hu", "hu", ["útlevélszám", "útlevél száma"], ["születési dátum", "született", "szül."], ["kiállítás dátuma", "érvényesség"],
     ["személyi igazolvány száma", "jogosítvány száma"], ["Tisztelt", "a nevem"], [], ["Kovács János", "Nagy Éva"], "Üdvözlettel,"),
    ("fi", "fi", "fi", ["passin numero", "passinumero"], ["syntymäaika", "syntynyt"], ["myöntämispäivä", "voimassa"], ["henkilökortin numero", "ajokortin numero"],
     ["herra", "rouva", "nimeni on"], [], ["Matti Virtanen", "Liisa Korhonen"], "Ystävällisin terveisin,"),
    ("el", "el", "gr", ["αριθμός διαβατηρίου", "Αρ. Διαβατηρίου"], ["ημερομηνία γέννησης", "γεννήθηκε"], ["ημερομηνία έκδοσης", "ημερομηνία λήξης"],
     ["αριθμός ταυτότητας"], ["κύριος", "κυρία", "με λένε"], [], ["Γιώργος Παπαδόπουλος", "Ελένη Νικολάου"], "Με εκτίμηση,"),
    ("sw", "sw", "ke", ["namba ya pasipoti", "nambari ya pasipoti"], ["tarehe ya kuzaliwa", "alizaliwa"], ["tarehe ya kutolewa", "tarehe ya kuisha"],
     ["namba ya kitambulisho", "namba ya leseni ya udereva"], ["Bwana", "Bi.", "jina langu ni"], [], ["Juma Mwangi", "Amina Hassan"], "Wako mwaminifu,"),
    ("yo", "yo", "ng", ["nọ́mbà ìwé ìrìnnà"], ["ọjọ́ ìbí"], ["ọjọ́ ìparí"], ["nọ́mbà NIN"], ["Ọ̀gbẹ́ni", "Arábìnrin", "orúkọ mi ni"], [],
     ["Adébáyọ̀ Ògúnlẹ̀yẹ", "Fúnmiláyọ̀ Àjàyí"], None),
    ("ig", "ig", "ng", ["nọmba paspọtụ"], ["ụbọchị ọmụmụ"], ["ụbọchị ngwụcha"], ["nọmba NIN"], ["Maazị", "Oriakụ", "aha m bụ"], [],
     ["Chinedu Okafor", "Ngozi Eze"], None),
    ("tw", "tw", "gh", ["passport nɔma", "akwantu krataa nɔma"], ["awoda", "da a wɔwoo no"], ["da a ɛbɛba awieeɛ"], ["Ghana Card nɔma"],
     ["Owura", "Awuraa", "me din de"], [], ["Kwame Mensah", "Akosua Boateng"], None),
    ("zu", "zu", "za", ["inombolo yephasipoti"], ["usuku lokuzalwa", "wazalwa"], ["usuku lokuphelelwa"], ["inombolo kamazisi"],
     ["Mnu.", "Nkk.", "igama lami ngu"], [], ["Sipho Dlamini", "Thandiwe Zulu"], None),
    ("pt", "pt", "pt", ["número do passaporte", "nº do passaporte"], ["data de nascimento", "nascido em", "nascida em"], ["data de emissão", "data de validade"],
     ["número do cartão de cidadão", "número da carta de condução"], ["Sr.", "Sra.", "Prezado", "meu nome é"], [], ["João Silva", "Mariana Costa"], "Atenciosamente,"),
    ("it", "it", "it", ["numero di passaporto", "n. passaporto"], ["data di nascita", "nato il", "nata il"], ["data di rilascio", "data di scadenza"],
     ["numero carta d'identità", "numero patente"], ["Sig.", "Sig.ra", "Gentile", "mi chiamo"], [], ["Marco Rossi", "Giulia Bianchi"], "Cordiali saluti,"),
    ("nl", "nl", "nl", ["paspoortnummer", "nummer paspoort"], ["geboortedatum", "geboren op"], ["datum van afgifte", "vervaldatum"],
     ["nummer identiteitskaart", "rijbewijsnummer"], ["meneer", "mevrouw", "Geachte", "mijn naam is"], [], ["Jan de Vries", "Sanne Jansen"], "Met vriendelijke groet,"),
]

# Forms of a cue and its value: a form line with and without a colon, a JSON key, chat.
CUE_FORMS = ["{cue}: {v}", "{cue} {v}", "{cue}：{v}", '{"{cue}": "{v}"}', "- {cue}: {v}\n- status: ok"]
JSON_KEYS = {"passport": ["passport_no", "passportNumber", "旅券番号", "护照号码", "여권번호"],
             "dob": ["dateOfBirth", "birth_date", "生年月日", "出生日期", "생년월일"]}


def cues_abroad(split):
    r = split.rnd
    for lang, style, shape, pp_cues, dob_cues, other_dates, other_docs, before, after, names, closing in LANGS:
        fmts = _ymd(style)

        def birth():
            return r.choice(fmts)(r.randrange(1940, 2008), r.randrange(1, 13), r.randrange(1, 29))

        def other_date():
            return r.choice(fmts)(r.randrange(2015, 2035), r.randrange(1, 13), r.randrange(1, 29))

        for k, cue in enumerate(pp_cues + pp_cues):
            split.add(CUE_FORMS[(k + len(lang)) % len(CUE_FORMS)].replace("{cue}", cue).replace("{v}", "{passport}"), passport=PASSPORT_SHAPES[shape](r))
        for k, cue in enumerate(dob_cues + dob_cues):
            split.add(CUE_FORMS[(k + len(lang) + 1) % len(CUE_FORMS)].replace("{cue}", cue).replace("{v}", "{dob}"), dob=birth())
        # A form with both, and another date beside them that is no date of birth.
        split.add(f"{pp_cues[0]}: {{passport}}\n{dob_cues[0]}: {{dob}}\n{other_dates[0]}: {other_date()}",
                  passport=PASSPORT_SHAPES[shape](r), dob=birth())
        for cue in other_dates:
            split.neg(f"{cue}: {other_date()}")
        for cue in other_docs:
            split.neg(f"{cue}: {PASSPORT_SHAPES[shape](r)}")
        for cue in before:
            sep = "" if cue in ("尊敬的", "親愛的") else " "
            split.add(f"{cue}{sep}{{person}}", person=r.choice(names))
        for cue in after:
            sep = " " if style == "ko" and cue != "님" else ""
            if style not in ("ja", "zh", "ko"):
                sep = " "
            split.add(f"{{person}}{sep}{cue}", person=r.choice(names))
        if closing:
            split.add(f"{closing}\n{{person}}", person=r.choice(names))
    for k, kind in enumerate(("passport", "dob")):
        for key in JSON_KEYS[kind]:
            v = PASSPORT_SHAPES["jp"](r) if kind == "passport" else f"{r.randrange(1940, 2008)}-0{r.randrange(1, 10)}-1{r.randrange(0, 9)}"
            split.add('{"traveller": {"' + key + '": "{' + kind + '}", "seat": "14C"}}', **{kind: v})
    # Chat: a person who will call, and the same sentence about a team.
    for person in ("Ahmet Yılmaz", "Nguyễn Văn An", "Piotr Nowak", "Amina Hassan"):
        split.add(f"{{person}} will call you tomorrow about the visa.", person=person)
    split.neg("Support will call you tomorrow about the visa.")
    split.neg("Our Travel Desk will call you within 24 hours.")
    # Honorifics after a role, not a name.
    for x in ("尊敬的先生/女士：", "お客様各位", "担当者様へ", "고객님, 안녕하세요", "회원님께 안내드립니다", "Dear Sir or Madam,",
              "Szanowni Państwo,", "Sayın Yetkili,", "Уважаемые коллеги,"):
        split.neg(x)


# The held-out street addresses (written after the fourth set's address templates were seen while
# tuning `address`; those rows moved to dev): own seed, locales no other set uses, and templates
# that look like what the scanner meets — support chat, tool output, logs, CSV, JSON, e-mail,
# forms, signature blocks, lists, sentences in the locale's language —, most of them with no cue
# word (`address`, `ship to`). The value is the street line as the existing rows label it: house
# number, street, and a unit or floor when it is on the same line (Faker's `Apt. 674` too), but not
# the post code or city, nor a unit on a line of its own, nor words around it (`the blue door`).
SEEN_LOCALES = ["de", "es", "tl_PH", "sw", "en_NG", "yo_NG", "hi_IN", "ta_IN", "bn_BD", "fa_IR", "ar_DZ", "th",
                "ne_NP"]
# Sentences in the locale's language, without a cue word.
SEEN_NATIVE = {
    "de": ["Wir sind in der {address}, bitte bei Schmidt klingeln.", "Bin ab Montag {address} zu finden, Hinterhaus."],
    "es": ["Estoy en {address}, la puerta verde al lado de la farmacia.", "Nos vemos en {address} a las ocho, ¿vale?"],
    "tl_PH": ["Nandito na ako sa {address}, sa tapat ng sari-sari store.", "Paki-iwan na lang po sa {address}, salamat!"],
    "sw": ["Niko {address}, karibu na soko.", "Tafadhali niletee kesho {address} asubuhi."],
    "en_NG": ["I dey {address}, opposite the filling station.", "Abeg drop am for {address}, the gate is black."],
    "yo_NG": ["Mo wa ni {address}, lẹgbẹẹ ile ijọsin.", "E ku ise, a ti de {address} bayii."],
    "hi_IN": ["मैं अभी {address} पर हूँ, नीले गेट वाला घर।", "कल सुबह {address} पर आ जाना।"],
    "ta_IN": ["நான் இப்போது {address} இல் இருக்கிறேன், நீல கதவு வீடு.", "நாளை {address} வரவும்."],
    "bn_BD": ["আমি এখন {address} এ আছি, নীল দরজার পাশে।", "কাল সকালে {address} এ চলে আসুন।"],
    "fa_IR": ["من الان در {address} هستم، کنار نانوایی.", "فردا صبح بیا {address}."],
    "ar_DZ": ["أنا الآن في {address}، قرب المخبزة.", "نلتقي غدا في {address} على الساعة العاشرة."],
    "th": ["ตอนนี้อยู่ที่ {address} ตรงข้ามเซเว่น", "พรุ่งนี้เจอกันที่ {address} นะ"],
    "ne_NP": ["म अहिले {address} मा छु, निलो ढोकाको छेउमा।", "भोलि बिहान {address} मा आउनुहोस्।"],
}
# One value, no cue word.
SEEN_BARE = [
    "I'm at {address} now, the blue door next to the bakery",
    "agent: Can you confirm where you are right now?\ncustomer: {address}, gate code 4412",
    "ok the driver just left it at {address} instead of my flat??",
    "Meet you outside {address} at 7?",
    "we're the house on the corner, {address}. ring twice, the bell is broken",
    "{n};{address};{ctx};{x};active",
    '{"id": {n}, "line1": "{address}", "city": "{ctx}", "verified": true}',
    "2026-05-14T09:12:44Z INFO geocode ok query=\"{address}\" lat=14.55 lon=121.02",
    "Returned to sender: {address} (recipient unknown)",
    "| {n} | {address} | {ctx} | open |",
    "<tr><td>{address}</td><td>{x}</td><td>{ctx}</td></tr>",
    "ticket #{n}: customer moved, now at {address}. resend the router",
    "WARN courier scan mismatch: expected {address}, got depot {ctx}",
    "Found a nice flat: {address}, 2 rooms, balcony. Viewing on Thursday",
    "can u pick me up from {address}? battery died",
    "{address} — key is under the mat, feed the cat twice a day",
]
# One value after a cue word.
SEEN_CUED = [
    "Shipping address: {address}",
    "Please change my billing address to {address}.",
    "ship_to.street1 = {address}",
    "The customer says the delivery address should be {address}, not the old one.",
    "New address for account {n}: {address}",
    "Residential address (as on the ID card): {address}",
    "Subject: change of address\n\nHi team, please update my address to {address}. Thanks",
    "Form submitted: [Street] {address} [City] {ctx} [Postcode] {x}",
]
# Units and floors on the street's line (labelled with it).
SEEN_UNITS = ["Flat 9", "Apartment 14", "4th Floor", "Ground floor", "Unit 11B", "Door 3", "Level 5", "Bldg 2, Rm 310",
              "Stiege 2/Top 8", "3º izq."]
# Words of a unit Faker already put on the line (no second unit is added then).
SEEN_HAS_UNIT = ["Apt.", "Suite", "Puerta", "Piso", "Floor", "واحد", "سوئیت", "অ্যাপার্টমেন্ট", "ফ্ল্যাট", "ষ্টুডিও"]
# A street line, then the post code and city on the next (only the street line is labelled).
SEEN_BLOCKS = [
    "Kind regards,\nFront desk\n{address}\n{x} {ctx}",
    "{address}\n{x} {ctx}",
    "Deliver to:\n  {address}\n  {x} {ctx}",
    "Address line 1: {address}\nAddress line 2: {ctx_2}\nCity: {ctx}\nPostal code: {x}",
    "> Sent from the office\n> {address}\n> {ctx} {x}",
]
# Several values in one text.
SEEN_LISTS = [
    "Stops today:\n1. {address_1}\n2. {address_2}\n3. {address_3}",
    "Moving from {address_1} to {address_2} on Saturday, need a van",
    '[{"line1": "{address_1}"}, {"line1": "{address_2}"}]',
    "street,city\n\"{address_1}\",{ctx}\n\"{address_2}\",{ctx_2}",
    "pickup: {address_1} -> dropoff: {address_2}",
]
# Look-alikes: numbers, streets and the word `address` in text that holds no address.
SEEN_NEGATIVES = [
    "Best Route 66 diner reviews of the summer", "Build 12 passed on main", "Build {n} failed: 3 tests timed out",
    "Room for 4 people, breakfast included", "Address book export failed (error 0x80070005)", "Street view is off for this map",
    "iPhone 15 Pro Max 256 GB in stock", "Galaxy S24 Ultra, 12 GB RAM", "Upgraded to v2.14.3 last night",
    "release-1.8.0-rc2 tagged", "Python 3.12.1 and Rust 1.79 on the runner", "Sesame Street season 54 is streaming",
    "Wall Street closed 2.1 percent higher", "Abbey Road Studios 50th anniversary box set", "Mulholland Drive (2001) is on tonight",
    "Baker Street tube station is closed for works", "Pier 39 sea lions are back", "Area 51 documentary, part 2",
    "Highway to Hell, track 1", "Chapter 11 filing by Acme Holdings", "Platform 9 3/4 photo spot",
    "The 5th Avenue collection drops on Friday", "Please address the 4 review comments before merging",
    "IPv6 address fe80::/10 is link-local", "No fixed address is on file yet", "Your address has been verified. Ref {n}",
    "Street Food Festival, 3 days, 40 stalls", "Floor 3 printer is out of toner", "Unit 7 tests are flaky again",
    "Apartment hunting tips: 10 things to check", "Lane 2 of the pool is closed", "Avenue Q tickets, 2 seats, row 12",
    "Main Street Bank Q3 results", "Block 4 of the migration finished in 12s", "Suite 2 of the benchmark: 1,204 ops/s",
    "Team 10 moved to the 2nd sprint board", "Drive 2 health: 98%, 1,402 hours", "Terminal 3 gate changes posted",
    "Court 5 is booked until 18:00", "Plaza Hotel group, 120 rooms, 4 stars",
]


def seen_addresses(split):
    r = split.rnd
    fakers = dict(zip(SEEN_LOCALES, split.fakers))

    def street(loc=None):
        f = fakers[loc] if loc else split.fake()
        a = f.street_address().replace("\n", ", ").strip().rstrip(",").strip()
        if r.random() < 0.2 and not any(u in a for u in SEEN_HAS_UNIT):
            a += ", " + split.pick(SEEN_UNITS)
        return a, f

    def ctx(f):
        return dict(ctx=f.city(), x=f.postcode(), n=str(r.randrange(1000, 99999)))

    for loc in SEEN_LOCALES:
        for t in SEEN_NATIVE[loc]:
            a, f = street(loc)
            split.add(t, address=a)
    for k in range(32):
        a, f = street()
        c = ctx(f)
        t = SEEN_BARE[k % len(SEEN_BARE)]
        split.add(t.replace("{n}", c["n"]), address=a, ctx=c["ctx"], x=c["x"])
    for k in range(16):
        a, f = street()
        c = ctx(f)
        t = SEEN_CUED[k % len(SEEN_CUED)]
        split.add(t.replace("{n}", c["n"]), address=a, ctx=c["ctx"], x=c["x"])
    for k in range(10):
        a, f = street()
        c = ctx(f)
        split.add(SEEN_BLOCKS[k % len(SEEN_BLOCKS)], address=a, ctx=c["ctx"], x=c["x"],
                  ctx_2=split.pick(SEEN_UNITS))
    for k in range(8):
        t = SEEN_LISTS[k % len(SEEN_LISTS)]
        values = {}
        for i in (1, 2, 3):
            if "{address_%d}" % i in t:
                values["address_%d" % i] = street()[0]
        f = split.fake()
        if "{ctx}" in t:
            values["ctx"] = f.city()
        if "{ctx_2}" in t:
            values["ctx_2"] = f.city()
        split.add(t, **values)
    for t in SEEN_NEGATIVES:
        split.neg(t.replace("{n}", str(r.randrange(100, 99999))))


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else __file__.rsplit("/", 1)[0]
    # Development: template sets 0 to 2, each with its locales. Held out: set 3, other locales.
    dev = Split("dev", 1001, ["en_US", "en_GB", "de_DE", "fr_FR", "es_ES", "it_IT", "nl_NL", "pt_BR"])
    build(dev, 0, 40)
    dev.fakers = Split("dev", 2002, ["en_AU", "en_CA", "de_AT", "de_CH", "pl_PL", "sv_SE", "da_DK", "es_MX",
                                     "pt_PT", "en_IE", "cs_CZ", "fr_CH"]).fakers
    build(dev, 1, 40)
    dev.fakers = Split("dev", 3003, ["en_NZ", "fr_CA", "nl_BE", "no_NO", "fi_FI", "hu_HU", "ro_RO", "sk_SK", "es_AR",
                                     "hr_HR", "sl_SI", "id_ID", "tr_TR"]).fakers
    build(dev, 2, 40)
    dev.fakers = Split("dev", 5005, ["en_MS", "en_BD", "lt_LT", "zu_ZA", "uk_UA", "ru_RU", "mk_MK", "el_GR", "fil_PH",
                                     "is_IS", "de_LU", "es_CA", "uz_UZ", "sq_AL"]).fakers
    extend(dev, 40)
    dev.fakers = Split("dev", 6006, ["fr_DZ", "ka_GE", "hy_AM", "en_PH", "th_TH", "zh_TW", "ko_KR", "en_KE", "en_PK",
                                     "fr_BE", "it_CH", "bg_BG", "he_IL"]).fakers
    streets(dev, 40)
    dev.fakers = Split("dev", 8008, CUELESS_LOCALES).fakers
    cueless(dev, 40)
    dev.fakers = Split("dev", 9009, STRUCT_LOCALES).fakers
    structures(dev, 40)
    held = Split("heldout", 4004, ["en_IN", "es_CO", "es_CL", "lv_LV", "et_EE", "vi_VN", "de_LI", "ga_IE", "az_AZ",
                                   "bs_BA", "en_TH"])
    # Set 3's address rows were seen while tuning `address`: they go to dev (same seed, same text).
    seen = {"address": []}
    build(held, 3, 40, divert=seen)
    dev.rows.extend(seen["address"])
    # Their successors were held out until their figure was known; they went to dev too, when
    # tuning reached the end of what dev showed (see the README).
    former = Split("dev", 7007, SEEN_LOCALES)
    seen_addresses(former)
    dev.rows.extend(former.rows)
    # Their successor, a street set with its own seed, locales and templates, was held out until
    # its figures were known; it moved to dev the same way (same seed, same text).
    streets_seen = Split("dev", seen_streets.SEED, seen_streets.LOCALES)
    seen_streets.add_rows(streets_seen)
    dev.rows.extend(streets_seen.rows)
    numbers = Split("dev", 9191, [])
    phone_lookalikes(numbers, 12)
    dev.rows.extend(numbers.rows)
    abroad = Split("dev", 9292, [])
    cues_abroad(abroad)
    dev.rows.extend(abroad.rows)
    # Held out now: a fresh set of street lines, names, phones, dates of birth and passports,
    # written without reading the scanner, with its own seed, locales and templates.
    fresh = Split("heldout", heldout_fresh.SEED, heldout_fresh.LOCALES)
    heldout_fresh.held_fresh(fresh)
    held.rows.extend(fresh.rows)
    for s in (dev, held):
        with open(f"{out}/{s.name}.jsonl", "w", encoding="utf-8") as fh:
            for row in s.rows:
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")
        print(f"{s.name}: {len(s.rows)} texts, {sum(len(r['find']) for r in s.rows)} values")


main()
